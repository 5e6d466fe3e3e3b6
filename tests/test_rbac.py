# SPDX-License-Identifier: MIT
"""Guards of every route (SPEC §4), generated from the route table, and role changes applying at once."""

import pytest  # noqa

import messages as msg
from handlers import ROUTE_TABLE
from tests.support.clients import PASSWORD, assert_error
from tests.support.database import sql

pytestmark = pytest.mark.both_backends

USER_ROLE = 2
CONTRACT_ONLY = {"/changes"}  # has its own issue and tests
PROTECTED = [r for r in ROUTE_TABLE if r.guard != "public" and r.pattern not in CONTRACT_ONLY]
RBAC = [r for r in ROUTE_TABLE if r.guard == "rbac"]
SUBSET = {
    "GET /api/v1/users",
    "PUT /api/v1/users/:id/state",
    "POST /api/v1/roles",
    "DELETE /api/v1/permission/:id",
    "POST /api/v1/sidebar/:idItem/role/:idRole",
}


async def call(api, route, token=None):
    """One call of the route with an empty JSON body where a body is allowed."""
    body = None if route.method == "GET" else {}
    return await api.fetch(route.method, concrete(route), json=body, token=token)


def token_after(response, token):
    """The token to go on with: a route that ends the caller's other sessions (logoutOthers) hands a new one."""
    data = response.body.get("data") if response.status == 200 else None
    return data["token"] if isinstance(data, dict) and "token" in data else token


def concrete(route, value="999999"):
    """The route's path with every parameter filled in (an id nothing has, so no call changes data)."""
    path = route.pattern
    for name in route.params:
        path = path.replace(f":{name}", value)
    return path


async def test_every_protected_route_needs_a_valid_token(api):
    for route in PROTECTED:
        missing = await call(api, route)
        assert_error(missing, 401, msg.TOKEN_REQUIRED)
        bad = await call(api, route, "garbage")
        assert_error(bad, 401, msg.TOKEN_INVALID)


async def test_every_rbac_route_refuses_a_role_without_permissions(api):
    admin = await api.login()
    await api.create_user(admin, "nobody@seam.test", USER_ROLE)
    token = await api.login("nobody@seam.test", PASSWORD)
    for route in RBAC:
        assert_error(await call(api, route, token), 403, msg.FORBIDDEN)
    for route in PROTECTED:
        if route.guard == "auth":
            response = await call(api, route, token)
            assert response.status not in (401, 403), route
            token = token_after(response, token)


async def test_role_with_a_subset_gets_403_on_exactly_the_missing_routes(api):
    """Scenario 3 of issue 2: the 403s are exactly the rbac routes the role lacks."""
    admin = await api.login()
    role_id = await api.create_role(admin, "subset", sorted(SUBSET))
    await api.create_user(admin, "subset@seam.test", role_id)
    token = await api.login("subset@seam.test", PASSWORD)
    refused = set()
    for route in PROTECTED:
        response = await call(api, route, token)
        assert response.status not in (401, 500), (route, response.body)
        token = token_after(response, token)
        if response.status == 403:
            assert response.body == {"success": False, "message": msg.FORBIDDEN}
            refused.add(route.permission)
    assert refused == {r.permission for r in RBAC} - SUBSET
    me = await api.fetch("GET", "/auth/me", token=token)
    assert sorted(me.data["permissions"]) == sorted(SUBSET)


async def test_permission_names_compare_case_insensitively(api, config):
    admin = await api.login()
    role_id = await api.create_role(admin, "casing", ["GET /api/v1/users"])
    sql(config, "UPDATE permissions SET nameUri = 'get /API/V1/USERS' WHERE nameUri = 'GET /api/v1/users'")
    # The cache is fed only after this point: the first request for this role loads the new spelling.
    await api.create_user(admin, "casing@seam.test", role_id)
    token = await api.login("casing@seam.test", PASSWORD)
    assert (await api.fetch("GET", "/users", token=token)).status == 200


async def test_role_change_applies_on_the_next_request(api):
    admin = await api.login()
    readers = await api.create_role(admin, "readers", ["GET /api/v1/users"])
    user_id = await api.create_user(admin, "mover@seam.test", USER_ROLE)
    token = await api.login("mover@seam.test", PASSWORD)
    assert_error(await api.fetch("GET", "/users", token=token), 403, msg.FORBIDDEN)
    assert (await api.fetch("PUT", f"/users/{user_id}", json={"roleId": readers}, token=admin)).status == 200
    assert (await api.fetch("GET", "/users", token=token)).status == 200
    me = await api.fetch("GET", "/auth/me", token=token)
    assert me.data["user"]["roleName"] == "readers" and me.data["permissions"] == ["GET /api/v1/users"]
    assert (await api.fetch("PUT", f"/users/{user_id}", json={"roleId": USER_ROLE}, token=admin)).status == 200
    assert_error(await api.fetch("GET", "/users", token=token), 403, msg.FORBIDDEN)


async def test_grant_and_revoke_apply_on_the_next_request(api):
    admin = await api.login()
    role_id = await api.create_role(admin, "growing")
    await api.create_user(admin, "grow@seam.test", role_id)
    token = await api.login("grow@seam.test", PASSWORD)
    catalog = {p["nameUri"]: p["idPermission"] for p in (await api.fetch("GET", "/permission", token=admin)).data}
    grant = {"roleId": role_id, "permissionId": catalog["GET /api/v1/sidebar/items"]}
    assert_error(await api.fetch("GET", "/sidebar/items", token=token), 403, msg.FORBIDDEN)
    await api.fetch("POST", "/permission/assign", json=grant, token=admin)
    assert (await api.fetch("GET", "/sidebar/items", token=token)).status == 200
    await api.fetch("DELETE", "/permission/unassign", json=grant, token=admin)
    assert_error(await api.fetch("GET", "/sidebar/items", token=token), 403, msg.FORBIDDEN)
    await api.fetch("POST", "/permission/assign", json=grant, token=admin)
    await api.fetch("DELETE", f"/permission/{grant['permissionId']}", token=admin)
    assert_error(await api.fetch("GET", "/sidebar/items", token=token), 403, msg.FORBIDDEN)

# SPDX-License-Identifier: MIT
"""SPEC §10 privilege containment: a delegated permission never reaches past what the caller holds itself."""

import itertools

import pytest

import messages as msg
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, assert_error
from tests.support.database import sql
from tests.support.realtime import progress, statuses

pytestmark = pytest.mark.both_backends

USER_ROLE = 2
CALLS = itertools.count(1)
P = "/api/v1"
USER_ACTIONS = (
    f"PUT {P}/users/:id",
    f"PUT {P}/users/:id/state",
    f"PUT {P}/users/:id/resetPassword",
    f"DELETE {P}/users/:id",
)


def snapshot(config):
    """Everything a refused action could have changed."""
    return [
        sql(config, f"SELECT * FROM {table} ORDER BY 1, 2")
        for table in ("users", "roles", "permissions", "permissionXRole", "changes")
    ]


@pytest.fixture
def delegate(api, sockets):
    """delegate(*permissions) → (token, socket, role id) of a user whose role holds just those permissions."""

    async def make(*permissions, name="delegate"):
        admin = await api.login()
        role_id = await api.create_role(admin, name, permissions)
        await api.create_user(admin, f"{name}@seam.test", role_id)
        token = await api.login(f"{name}@seam.test", PASSWORD)
        return token, await sockets(token), role_id

    return make


async def refused(api, tab, token, method, path, body=None):
    """The call answers 403 NOT_CONTAINED, and its tab sees exactly that operation's start, then that error."""
    operation_id = f"refused-{next(CALLS)}"
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": operation_id}
    response = await api.fetch(method, path, json=body, token=token, headers=headers)
    assert_error(response, 403, msg.NOT_CONTAINED)
    await tab.wait_for(lambda events: statuses(tab, operation_id)[-1:] == ["error"])
    operation = next(e["operation"] for e in tab.of("operation:progress") if e["operationId"] == operation_id)
    assert progress(tab, operation_id) == [
        ("start", msg.OP_START.format(operation=operation)),
        ("error", msg.NOT_CONTAINED),
    ]


async def test_delegated_user_permissions_cannot_touch_a_more_privileged_user(api, config, delegate):
    """The attack: a role holding only resetPassword took over the admin account."""
    token, tab, _ = await delegate(*USER_ACTIONS)
    before = snapshot(config)
    await refused(api, tab, token, "PUT", "/users/1/resetPassword")
    await refused(api, tab, token, "PUT", "/users/1", {"full_name": "Pwned", "password": "taken-over-1"})
    await refused(api, tab, token, "PUT", "/users/1/state", {"isActive": 0})
    await refused(api, tab, token, "DELETE", "/users/1")
    assert snapshot(config) == before
    assert await api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    # Users whose role holds nothing the delegate lacks are its to manage.
    admin = await api.login()
    plain = await api.create_user(admin, "plain@seam.test", USER_ROLE)
    reset = await api.fetch("PUT", f"/users/{plain}/resetPassword", token=token)
    assert reset.status == 200 and reset.data["temporaryPassword"]
    assert (await api.fetch("PUT", f"/users/{plain}", json={"full_name": "Renamed"}, token=token)).status == 200
    assert (await api.fetch("PUT", f"/users/{plain}/state", json={"isActive": 0}, token=token)).status == 200
    assert (await api.fetch("DELETE", f"/users/{plain}", token=token)).status == 200
    # An unknown user is still the operation's 404, not a containment refusal.
    assert_error(await api.fetch("DELETE", "/users/999", token=token), 404, msg.USER_NOT_FOUND.format(id=999))


async def test_no_giving_a_role_that_holds_more_than_the_caller(api, config, delegate):
    token, tab, own_role = await delegate(f"PUT {P}/users/:id", f"POST {P}/users", f"POST {P}/auth/register")
    admin = await api.login()
    plain = await api.create_user(admin, "plain@seam.test", USER_ROLE)
    before = snapshot(config)
    await refused(api, tab, token, "PUT", f"/users/{plain}", {"roleId": 1})
    new = {"full_name": "Nueva Persona", "email": "new@seam.test", "password": PASSWORD, "roleId": 1}
    await refused(api, tab, token, "POST", "/users", new)
    await refused(api, tab, token, "POST", "/auth/register", new)
    assert snapshot(config) == before
    # Its own role, or one holding less, it may give.
    moved = await api.fetch("PUT", f"/users/{plain}", json={"roleId": own_role}, token=token)
    assert moved.status == 200 and moved.data["roleId"] == own_role
    created = await api.fetch("POST", "/users", json={**new, "roleId": USER_ROLE}, token=token)
    assert created.status == 201 and created.data["roleId"] == USER_ROLE
    registered = await api.fetch("POST", "/auth/register", json={**new, "email": "n2@seam.test"}, token=token)
    assert_error(registered, 403, msg.NOT_CONTAINED)  # roleId 1 again
    registered = await api.fetch(
        "POST", "/auth/register", json={**new, "email": "n2@seam.test", "roleId": own_role}, token=token
    )
    assert registered.status == 201 and registered.data["roleId"] == own_role


async def test_no_granting_what_the_caller_lacks_nor_editing_a_role_above_it(api, config, delegate):
    held = (
        f"POST {P}/permission/assign",
        f"DELETE {P}/permission/unassign",
        f"DELETE {P}/permission/:id",
        f"PUT {P}/roles/:idRole",
        f"DELETE {P}/roles/:idRole",
    )
    token, tab, own_role = await delegate(*held)
    admin = await api.login()
    catalog = {p["nameUri"]: p["idPermission"] for p in (await api.fetch("GET", "/permission", token=admin)).data}
    lacked, owned = catalog[f"DELETE {P}/users/:id"], catalog[f"PUT {P}/roles/:idRole"]
    above = await api.create_role(admin, "above", [f"DELETE {P}/users/:id"])
    before = snapshot(config)
    await refused(api, tab, token, "POST", "/permission/assign", {"roleId": own_role, "permissionId": lacked})
    await refused(api, tab, token, "POST", "/permission/assign", {"roleId": USER_ROLE, "permissionId": lacked})
    await refused(api, tab, token, "POST", "/permission/assign", {"roleId": 1, "permissionId": owned})
    await refused(api, tab, token, "DELETE", "/permission/unassign", {"roleId": 1, "permissionId": owned})
    await refused(api, tab, token, "PUT", "/roles/1", {"roleName": "user2"})
    await refused(api, tab, token, "PUT", f"/roles/{above}", {"description": "mine now"})
    await refused(api, tab, token, "DELETE", f"/roles/{above}")
    await refused(api, tab, token, "DELETE", f"/permission/{lacked}")
    await refused(api, tab, token, "DELETE", f"/permission/{owned}")  # held, but so is it by admin's role
    assert snapshot(config) == before
    # Within what it holds, it manages roles as before.
    granted = await api.fetch(
        "POST", "/permission/assign", json={"roleId": USER_ROLE, "permissionId": owned}, token=token
    )
    assert granted.status == 200 and granted.body["message"] == msg.PERMISSION_ASSIGNED
    assert (await api.fetch("PUT", "/roles/2", json={"description": "editado"}, token=token)).status == 200
    taken = {"roleId": USER_ROLE, "permissionId": owned}
    assert (await api.fetch("DELETE", "/permission/unassign", json=taken, token=token)).status == 200


async def test_a_registered_permission_goes_to_its_creator_and_the_roles_above_it(api, config, delegate):
    """Else a new permission could never be granted (nobody holds it), and one a delegate made would leave the
    admin unable to manage that delegate's role."""
    token, _, own_role = await delegate(f"POST {P}/permission/register", f"POST {P}/permission/assign")
    created = await api.fetch(
        "POST", "/permission/register", json={"nameUri": "GET /api/v1/reports", "description": "Informes"}, token=token
    )
    assert created.status == 201
    holders = sql(
        config,
        "SELECT roleId FROM permissionXRole WHERE permissionId = ? ORDER BY roleId",
        (created.data["idPermission"],),
    )
    audit = sql(config, "SELECT after FROM changes WHERE operation = 'permissions:create'")[0][0]
    assert holders == [(1,), (own_role,)]  # admin holds everything the delegate holds; "user" does not
    assert f'"roles":[1,{own_role}]' in audit
    grant = {"roleId": USER_ROLE, "permissionId": created.data["idPermission"]}
    assert (await api.fetch("POST", "/permission/assign", json=grant, token=token)).status == 200
    admin = await api.login()
    delegate_id = (await api.fetch("GET", "/users?q=delegate@", token=admin)).data[0]["idUser"]
    assert (await api.fetch("PUT", f"/users/{delegate_id}/resetPassword", token=admin)).status == 200

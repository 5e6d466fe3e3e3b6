# SPDX-License-Identifier: MIT
"""The route table drives the write path: every mutating route commits exactly one change row, every read route
none, and a handler that breaks that rule is a programming error (a 500 that writes nothing), not a silent gap."""

import random

import pytest

import messages as msg
from app import application
from handlers import API_HANDLERS, ROUTE_TABLE
from handlers.roles import RoleHandler
from handlers.users import UsersHandler
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, assert_error
from tests.support.database import sql

pytestmark = pytest.mark.both_backends

USER_BODY = {"full_name": "Route Check", "password": PASSWORD, "roleId": 2}


async def _user(api, admin, tag):
    return await api.create_user(admin, f"{tag}@seam.test", 2)


async def _item(api, admin, tag, role_id=None):
    item = await api.fetch("POST", "/sidebar", json={"nameItem": tag}, token=admin)
    if role_id is not None:
        assert (await api.fetch("POST", f"/sidebar/{item.data['idItem']}/role/{role_id}", token=admin)).status == 201
    return item.data["idItem"]


async def _permission(api, admin, tag):
    made = await api.fetch("POST", "/permission/register", json={"nameUri": tag, "description": "x"}, token=admin)
    return made.data["idPermission"]


async def _own_token(api, admin, tag):
    await _user(api, admin, tag)
    return await api.login(f"{tag}@seam.test", PASSWORD)


# (method, pattern) -> async (api, admin) -> (path, json body, token or None for the admin's)
SCENARIOS = {
    ("POST", "/auth/register"): lambda api, admin: _static("/auth/register", {**USER_BODY, "email": "reg@seam.test"}),
    ("POST", "/auth/login"): lambda api, admin: _static(
        "/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    ),
    ("GET", "/auth/me"): lambda api, admin: _static("/auth/me"),
    ("POST", "/auth/refresh"): lambda api, admin: _static("/auth/refresh"),
    ("PUT", "/auth/password"): lambda api, admin: _password_change(api, admin),
    ("POST", "/auth/logoutOthers"): lambda api, admin: _logout_others(api, admin),
    ("GET", "/users"): lambda api, admin: _static("/users"),
    ("GET", "/users/logins"): lambda api, admin: _static("/users/logins"),
    ("POST", "/users"): lambda api, admin: _static("/users", {**USER_BODY, "email": "new@seam.test"}),
    ("GET", "/users/:id"): lambda api, admin: _static("/users/1"),
    ("PUT", "/users/:id"): lambda api, admin: _on_user(api, admin, "", {"full_name": "Renamed"}),
    ("DELETE", "/users/:id"): lambda api, admin: _on_user(api, admin, ""),
    ("PUT", "/users/:id/state"): lambda api, admin: _on_user(api, admin, "/state", {"isActive": 0}),
    ("PUT", "/users/:id/resetPassword"): lambda api, admin: _on_user(api, admin, "/resetPassword"),
    ("GET", "/roles"): lambda api, admin: _static("/roles"),
    ("POST", "/roles"): lambda api, admin: _static("/roles", {"roleName": "fresh"}),
    ("PUT", "/roles/:idRole"): lambda api, admin: _static("/roles/2", {"description": "edited"}),
    ("DELETE", "/roles/:idRole"): lambda api, admin: _on_role(api, admin),
    ("GET", "/permission"): lambda api, admin: _static("/permission"),
    ("POST", "/permission/register"): lambda api, admin: _static(
        "/permission/register", {"nameUri": "GET /x", "description": "x"}
    ),
    ("GET", "/permission/getByRoleId"): lambda api, admin: _static("/permission/getByRoleId?roleId=1"),
    ("GET", "/permission/getByNameUri"): lambda api, admin: _static(
        "/permission/getByNameUri?nameUri=GET%20/api/v1/users"
    ),
    ("POST", "/permission/assign"): lambda api, admin: _assignment(api, admin, granted=False),
    ("DELETE", "/permission/unassign"): lambda api, admin: _assignment(api, admin, granted=True),
    ("DELETE", "/permission/:id"): lambda api, admin: _on_permission(api, admin),
    ("GET", "/sidebar"): lambda api, admin: _static("/sidebar"),
    ("POST", "/sidebar"): lambda api, admin: _static("/sidebar", {"nameItem": "Nuevo"}),
    ("GET", "/sidebar/items"): lambda api, admin: _static("/sidebar/items"),
    ("PUT", "/sidebar/:idItem"): lambda api, admin: _on_item(api, admin, "", {"nameItem": "Otro"}),
    ("DELETE", "/sidebar/:idItem"): lambda api, admin: _on_item(api, admin, ""),
    ("POST", "/sidebar/:idItem/role/:idRole"): lambda api, admin: _on_item(api, admin, "/role/2"),
    ("DELETE", "/sidebar/:idItem/role/:idRole"): lambda api, admin: _on_item(api, admin, "/role/2", assigned=True),
    ("GET", "/changes"): lambda api, admin: _static("/changes"),
}


async def _static(path, body=None, token=None):
    return path, body, token


async def _password_change(api, admin):
    token = await _own_token(api, admin, "changer")
    return "/auth/password", {"currentPassword": PASSWORD, "newPassword": "another-pass-2"}, token


async def _logout_others(api, admin):
    return "/auth/logoutOthers", None, await _own_token(api, admin, "leaver")


async def _on_user(api, admin, suffix, body=None):
    return f"/users/{await _user(api, admin, 'target')}{suffix}", body, None


async def _on_role(api, admin):
    return f"/roles/{await api.create_role(admin, 'doomed')}", None, None


async def _assignment(api, admin, granted):
    permission_id = await _permission(api, admin, "GET /assignable")
    body = {"roleId": 2, "permissionId": permission_id}
    if granted:
        assert (await api.fetch("POST", "/permission/assign", json=body, token=admin)).status == 200
    return "/permission/" + ("unassign" if granted else "assign"), body, None


async def _on_permission(api, admin):
    return f"/permission/{await _permission(api, admin, 'GET /doomed')}", None, None


async def _on_item(api, admin, suffix, body=None, assigned=False):
    return f"/sidebar/{await _item(api, admin, 'item', 2 if assigned else None)}{suffix}", body, None


def change_rows(config):
    return sql(config, "SELECT COUNT(*) FROM changes")[0][0]


def test_every_route_has_a_scenario():
    assert set(SCENARIOS) == {(r.method, r.pattern) for r in ROUTE_TABLE}


@pytest.mark.parametrize("route", ROUTE_TABLE, ids=lambda r: f"{r.method} {r.pattern}")
async def test_mutating_routes_commit_one_change_and_reads_none(route, api, config):
    admin = await api.login()
    path, body, token = await SCENARIOS[(route.method, route.pattern)](api, admin)
    before = change_rows(config)
    response = await api.fetch(route.method, path, json=body, token=token or admin)
    assert response.status == route.status, response.body
    assert change_rows(config) - before == (1 if route.mutating else 0)


async def test_a_mutating_handler_that_commits_nothing_is_a_500_not_a_silent_gap(api, config, monkeypatch):
    admin = await api.login()

    async def forgets_its_unit(self):
        await self.ok(None, "done")

    monkeypatch.setattr(RoleHandler, "on_put", forgets_its_unit)
    before = change_rows(config)
    assert_error(await api.fetch("PUT", "/roles/2", json={"description": "x"}, token=admin), 500, msg.INTERNAL_ERROR)
    assert change_rows(config) == before


async def test_a_read_handler_that_writes_is_a_500_and_writes_nothing(api, config, monkeypatch):
    admin = await api.login()

    async def writes_on_a_read(self):
        async with self.unit() as tx:
            await tx.execute("UPDATE roles SET description = 'sneaky' WHERE idRole = 2")
        await self.ok(None, "done")

    monkeypatch.setattr(UsersHandler, "on_get", writes_on_a_read)
    before = change_rows(config)
    assert_error(await api.fetch("GET", "/users", token=admin), 500, msg.INTERNAL_ERROR)
    assert change_rows(config) == before
    roles = (await api.fetch("GET", "/roles", token=admin)).data
    assert "sneaky" not in [r["description"] for r in roles]


def test_routing_does_not_depend_on_the_order_handlers_are_listed_in():
    """/sidebar/items must reach its own handler even when /sidebar/:idItem is listed first."""
    shuffled = list(reversed(API_HANDLERS))
    random.Random(7).shuffle(shuffled)
    rules = application.api_rules(shuffled)
    assert [handler for _, handler in rules] == [handler for _, handler in application.api_rules(API_HANDLERS)]
    patterns = [next(iter(handler.routes.values())).pattern for _, handler in rules]
    assert patterns.index("/sidebar/items") < patterns.index("/sidebar/:idItem")


async def test_sidebar_items_is_routed_to_the_list_not_to_an_item(api):
    admin = await api.login()
    items = await api.fetch("GET", "/sidebar/items", token=admin)
    assert items.status == 200 and all("roles" in item for item in items.data)
    unserved = await api.fetch("GET", "/sidebar/7", token=admin)
    assert_error(unserved, 404, msg.ROUTE_NOT_FOUND.format(method="GET", path="/api/v1/sidebar/7"))

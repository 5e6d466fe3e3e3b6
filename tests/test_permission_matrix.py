# SPDX-License-Identifier: MIT
"""The permission matrix, generated from the route table (SPEC §3, §4).

Every `rbac` route × {no token, expired token, a role without its permission, a role holding only
that permission} → 401 / 401 / 403 / anything but 403; every `auth` route → 401 / 401 / not 401 /
not 401. Requests aim at ids that do not exist and send empty bodies, so granted calls stop at 404
or 400 and nothing is changed; refused calls emit no operation events.
"""

import time

import jwt
import pytest

import messages as msg
from handlers import ROUTE_TABLE
from handlers.routing import PARAM
from tests.support.clients import ADMIN_EMAIL, PASSWORD, assert_error

pytestmark = pytest.mark.both_backends

MISSING_ID = "987654"
RBAC = [r for r in ROUTE_TABLE if r.guard == "rbac"]
AUTH = [r for r in ROUTE_TABLE if r.guard == "auth"]


def name(route):
    return f"{route.method} {route.pattern}"


def path_of(route):
    return PARAM.sub(MISSING_ID, route.pattern)


def expired_token(services, email=ADMIN_EMAIL):
    """A correctly signed token for a real, active admin whose exp has passed."""
    now = int(time.time())
    claims = {"idUser": 1, "email": email, "roleId": 1, "roleName": "admin", "ver": 0, "iat": now - 7200}
    return jwt.encode({**claims, "exp": now - 60}, services.tokens.secret, algorithm="HS256")


async def call(api, route, token, socket=None):
    headers = {"X-Socket-ID": socket.sid} if socket else None
    body = {} if route.body else None
    return await api.fetch(route.method, path_of(route), json=body, token=token, headers=headers)


async def new_user(api, admin, email, role_name, permissions=()):
    """A user of a new role holding exactly `permissions`: (their token, the role's id)."""
    role_id = await api.create_role(admin, role_name, permissions)
    await api.create_user(admin, email, role_id)
    return await api.login(email, PASSWORD), role_id


async def refused_silently(api, token, socket):
    """No event reached the caller's socket for the refused request: the next operation's are the first."""
    await api.fetch("GET", "/roles", token=token, headers={"X-Socket-ID": socket.sid})
    await socket.wait_for(lambda events: any(e[1].get("status") == "success" for e in events))
    assert {e["operation"] for e in socket.of("operation:progress")} == {"roles:fetchAll"}


@pytest.mark.parametrize("route", RBAC, ids=name)
async def test_rbac_route(route, api, services, sockets):
    admin = await api.login()
    assert_error(await call(api, route, None), 401, msg.TOKEN_REQUIRED)
    assert_error(await call(api, route, expired_token(services)), 401, msg.TOKEN_INVALID)

    without, _ = await new_user(api, admin, "without@seam.test", "sin-permiso")
    tab = await sockets(without)
    assert_error(await call(api, route, without, tab), 403, msg.FORBIDDEN)
    await refused_silently(api, without, tab)

    holder, _ = await new_user(api, admin, "with@seam.test", "con-permiso", [route.permission])
    granted = await call(api, route, holder)
    assert granted.status not in (401, 403), granted.body
    assert granted.status < 500 and granted.body["success"] is (granted.status < 400)


@pytest.mark.parametrize("route", AUTH, ids=name)
async def test_auth_route(route, api, services, sockets):
    admin = await api.login()
    tab = await sockets(admin)
    assert_error(await call(api, route, None, tab), 401, msg.TOKEN_REQUIRED)
    assert_error(await call(api, route, expired_token(services), tab), 401, msg.TOKEN_INVALID)
    await refused_silently(api, admin, tab)

    without, _ = await new_user(api, admin, "without@seam.test", "sin-permiso")
    for token in (without, admin):
        response = await call(api, route, token)
        assert response.status != 401 and response.status < 500, response.body


async def test_matrix_covers_every_guarded_route():
    """A route added with a new guard would silently fall out of the matrix."""
    assert {r.guard for r in ROUTE_TABLE} == {"public", "auth", "rbac"}
    assert len(RBAC) + len(AUTH) + len([r for r in ROUTE_TABLE if r.guard == "public"]) == len(ROUTE_TABLE)
    assert len(RBAC) >= 20 and len(AUTH) >= 6


async def test_register_refuses_before_validating_and_silently(api, services, sockets):
    """POST /auth/register (optional identity): 403 comes before 400, like every rbac route, with no events.

    Regression: the refusal ran inside the operation after validation, so an empty body got 400 and an
    authenticated caller without the permission received start/error progress events.
    """
    (route,) = [r for r in ROUTE_TABLE if r.identifies]
    admin = await api.login()
    assert_error(await call(api, route, None), 403, msg.REGISTRATION_CLOSED)
    assert_error(await call(api, route, expired_token(services)), 401, msg.TOKEN_INVALID)
    without, role = await new_user(api, admin, "without@seam.test", "sin-permiso")
    tab = await sockets(without)
    assert_error(await call(api, route, without, tab), 403, msg.FORBIDDEN)
    body = {"full_name": "Nuevo", "email": "nuevo@seam.test", "password": PASSWORD, "roleId": role}
    refused = await api.fetch("POST", "/auth/register", json=body, token=without, headers={"X-Socket-ID": tab.sid})
    assert_error(refused, 403, msg.FORBIDDEN)
    await refused_silently(api, without, tab)
    assert (await call(api, route, admin)).status == 400
    assert (await api.fetch("POST", "/auth/register", json=body, token=admin)).status == 201

# SPDX-License-Identifier: MIT
"""/auth: login, me, refresh, password change, and the token checks of SPEC §3."""

import time

import jwt
import pytest

import messages as msg
from handlers import permission_catalog
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, assert_error
from tests.support.database import sql
from tests.test_realtime_session import refused as refused_socket

pytestmark = pytest.mark.both_backends

USER_FIELDS = {
    "idUser",
    "full_name",
    "email",
    "roleId",
    "roleName",
    "roleDescription",
    "isActive",
    "mustChangePassword",
    "createdAt",
    "updatedAt",
}


async def test_login_success_shape(api):
    response = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status == 200
    assert response.body["success"] is True and response.body["message"] == msg.LOGGED_IN
    data = response.data
    assert set(data) == {"token", "expiresIn", "user", "sidebarItems", "permissions", "mustChangePassword"}
    assert data["expiresIn"] == "1h" and data["mustChangePassword"] is False
    assert set(data["user"]) == USER_FIELDS
    assert data["user"]["email"] == ADMIN_EMAIL and data["user"]["roleName"] == "admin"
    assert data["user"]["isActive"] == 1
    assert sorted(data["permissions"]) == sorted(name for name, _ in permission_catalog())
    assert [i["route"] for i in data["sidebarItems"]] == ["/users", "/roles", "/permissions", "/menu", "/activity"]
    assert set(data["sidebarItems"][0]) == {"idItem", "nameItem", "iconItem", "route"}


async def test_login_token_claims(api, services):
    token = await api.login()
    claims = jwt.decode(token, services.tokens.secret, algorithms=["HS256"])
    assert {"idUser", "email", "roleId", "roleName", "ver", "iat", "exp"} <= set(claims)
    assert claims["email"] == ADMIN_EMAIL and claims["roleName"] == "admin" and claims["ver"] == 0
    assert claims["exp"] - claims["iat"] == 3600


async def test_login_email_is_case_insensitive(api):
    response = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL.upper(), "password": ADMIN_PASSWORD})
    assert response.status == 200


async def test_login_validation(api):
    assert_error(await api.fetch("POST", "/auth/login", json={}), 400, "'email' es requerido. 'password' es requerido")
    assert_error(
        await api.fetch("POST", "/auth/login", json={"email": 5, "password": True}),
        400,
        "'email' debe ser de tipo string. 'password' debe ser de tipo string",
    )
    assert_error(
        await api.fetch("POST", "/auth/login", json={"email": "a@b.co", "password": "x" * 101}),
        400,
        "'password' no debe exceder 100 caracteres",
    )


async def test_login_failures_are_uniform(api):
    unknown = await api.fetch("POST", "/auth/login", json={"email": "nobody@seam.test", "password": ADMIN_PASSWORD})
    wrong = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": "wrong-password"})
    assert_error(unknown, 401, msg.BAD_CREDENTIALS)
    assert_error(wrong, 401, msg.BAD_CREDENTIALS)


async def test_inactive_user_with_right_password_is_423(api):
    admin = await api.login()
    user_id = await api.create_user(admin, "inactive@seam.test", 2)
    assert (await api.fetch("PUT", f"/users/{user_id}/state", json={"isActive": 0}, token=admin)).status == 200
    locked = await api.fetch("POST", "/auth/login", json={"email": "inactive@seam.test", "password": PASSWORD})
    assert_error(locked, 423, msg.USER_INACTIVE)
    wrong = await api.fetch("POST", "/auth/login", json={"email": "inactive@seam.test", "password": "nope-nope"})
    assert_error(wrong, 401, msg.BAD_CREDENTIALS)


async def test_me_shape(api):
    token = await api.login()
    me = await api.fetch("GET", "/auth/me", token=token)
    assert me.status == 200 and me.body["message"] == msg.SESSION_INFO
    assert set(me.data) == {"user", "permissions", "sidebarItems", "mustChangePassword"}
    assert set(me.data["user"]) == USER_FIELDS
    assert "GET /api/v1/users" in me.data["permissions"]


async def test_missing_and_bad_tokens(api, services):
    assert_error(await api.fetch("GET", "/auth/me"), 401, msg.TOKEN_REQUIRED)
    assert_error(await api.fetch("GET", "/auth/me", token="not-a-jwt"), 401, msg.TOKEN_INVALID)
    basic = await api.fetch("GET", "/auth/me", headers={"Authorization": "Basic abc"})
    assert_error(basic, 401, msg.TOKEN_INVALID)
    forged = jwt.encode(
        {"idUser": 1, "ver": 0, "iat": 1, "exp": 2**40}, "another-secret-of-at-least-32-bytes!", algorithm="HS256"
    )
    assert_error(await api.fetch("GET", "/auth/me", token=forged), 401, msg.TOKEN_INVALID)
    now = int(time.time())
    expired = jwt.encode(
        {"idUser": 1, "ver": 0, "iat": now - 7200, "exp": now - 3600}, services.tokens.secret, algorithm="HS256"
    )
    assert_error(await api.fetch("GET", "/auth/me", token=expired), 401, msg.TOKEN_INVALID)
    ghost = jwt.encode({"idUser": 999, "ver": 0, "iat": now, "exp": now + 60}, services.tokens.secret, "HS256")
    assert_error(await api.fetch("GET", "/auth/me", token=ghost), 401, msg.TOKEN_INVALID)
    stale = jwt.encode({"idUser": 1, "ver": 7, "iat": now, "exp": now + 60}, services.tokens.secret, "HS256")
    assert_error(await api.fetch("GET", "/auth/me", token=stale), 401, msg.TOKEN_INVALID)


async def test_refresh(api):
    token = await api.login()
    refreshed = await api.fetch("POST", "/auth/refresh", token=token)
    assert refreshed.status == 200 and refreshed.body["message"] == msg.TOKEN_REFRESHED
    assert set(refreshed.data) == {"token", "expiresIn"} and refreshed.data["expiresIn"] == "1h"
    assert (await api.fetch("GET", "/auth/me", token=refreshed.data["token"])).status == 200
    assert_error(await api.fetch("POST", "/auth/refresh"), 401, msg.TOKEN_REQUIRED)
    assert_error(await api.fetch("POST", "/auth/refresh", token="x.y.z"), 401, msg.TOKEN_INVALID)


async def test_password_change(api):
    admin = await api.login()
    await api.create_user(admin, "changer@seam.test", 2)
    first = await api.login("changer@seam.test", PASSWORD)
    second = await api.login("changer@seam.test", PASSWORD)
    body = {"currentPassword": "wrong-password", "newPassword": "brand-new-pass"}
    assert_error(await api.fetch("PUT", "/auth/password", json=body, token=first), 400, msg.WRONG_CURRENT_PASSWORD)
    same = {"currentPassword": PASSWORD, "newPassword": PASSWORD}
    assert_error(await api.fetch("PUT", "/auth/password", json=same, token=first), 400, msg.SAME_PASSWORD)
    assert_error(
        await api.fetch(
            "PUT", "/auth/password", json={"currentPassword": PASSWORD, "newPassword": "short"}, token=first
        ),
        400,
        "'newPassword' debe tener al menos 8 caracteres",
    )
    assert_error(
        await api.fetch("PUT", "/auth/password", json={}, token=first),
        400,
        "'currentPassword' es requerido. 'newPassword' es requerido",
    )
    assert_error(await api.fetch("PUT", "/auth/password", json=same), 401, msg.TOKEN_REQUIRED)
    changed = await api.fetch(
        "PUT", "/auth/password", json={"currentPassword": PASSWORD, "newPassword": "brand-new-pass"}, token=first
    )
    assert changed.status == 200 and changed.body["message"] == msg.PASSWORD_CHANGED
    assert set(changed.data) == {"token", "expiresIn"}
    # Every token issued before the change is revoked, the caller's included; the new one works.
    assert_error(await api.fetch("GET", "/auth/me", token=first), 401, msg.TOKEN_INVALID)
    assert_error(await api.fetch("GET", "/auth/me", token=second), 401, msg.TOKEN_INVALID)
    assert (await api.fetch("GET", "/auth/me", token=changed.data["token"])).status == 200
    old = await api.fetch("POST", "/auth/login", json={"email": "changer@seam.test", "password": PASSWORD})
    assert_error(old, 401, msg.BAD_CREDENTIALS)
    await api.login("changer@seam.test", "brand-new-pass")


# --- SPEC §10: disabling revokes, sessions end, temporary passwords open nothing else -----------------------


async def test_disabling_revokes_and_enabling_again_revives_nothing(api, base_url, sockets):
    admin = await api.login()
    user_id = await api.create_user(admin, "paused@seam.test", 2)
    token = await api.login("paused@seam.test", PASSWORD)
    tab = await sockets(token)
    assert (await api.fetch("PUT", f"/users/{user_id}/state", json={"isActive": 0}, token=admin)).status == 200
    await tab.disconnected.wait()
    assert tab.of("session:revoked") == [{"reason": msg.REVOKED_DISABLED}]
    enabled = await api.fetch("PUT", f"/users/{user_id}/state", json={"isActive": 1}, token=admin)
    assert enabled.status == 200 and enabled.data["isActive"] == 1
    assert_error(await api.fetch("GET", "/auth/me", token=token), 401, msg.TOKEN_INVALID)
    assert_error(await api.fetch("POST", "/auth/refresh", token=token), 401, msg.TOKEN_INVALID)
    assert await refused_socket(base_url, token) == msg.TOKEN_INVALID
    fresh = await api.login("paused@seam.test", PASSWORD)
    assert (await api.fetch("GET", "/auth/me", token=fresh)).status == 200


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


async def test_refresh_keeps_the_session_start_and_never_passes_session_max_age(api, services):
    token = await api.login()
    login = claims_of(token)
    assert login["auth_time"] == login["iat"]
    refreshed = claims_of((await api.fetch("POST", "/auth/refresh", token=token)).data["token"])
    assert refreshed["auth_time"] == login["auth_time"]
    # Six days, 23 hours and 50 minutes into a 7-day session: the refreshed token ends with the session.
    now = int(time.time())
    old = jwt.encode(
        {**login, "auth_time": now - 7 * 86400 + 600, "iat": now - 60, "exp": now + 3000},
        services.tokens.secret,
        algorithm="HS256",
    )
    late = await api.fetch("POST", "/auth/refresh", token=old)
    assert late.status == 200, late.body
    capped = claims_of(late.data["token"])
    assert capped["auth_time"] == now - 7 * 86400 + 600
    assert capped["exp"] == capped["auth_time"] + 7 * 86400
    assert late.data["expiresIn"] == str(capped["exp"] - capped["iat"])
    assert (await api.fetch("GET", "/auth/me", token=late.data["token"])).status == 200
    # A token from before sessions had a start counts from its own issue time.
    legacy = {key: value for key, value in login.items() if key != "auth_time"}
    legacy = jwt.encode({**legacy, "iat": now - 10, "exp": now + 3590}, services.tokens.secret, algorithm="HS256")
    assert claims_of((await api.fetch("POST", "/auth/refresh", token=legacy)).data["token"])["auth_time"] == now - 10


@pytest.mark.parametrize("overrides", [{"session_max_age": "30m"}])
async def test_session_max_age_shorter_than_a_token(api, services, overrides):
    login = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    claims = claims_of(login.data["token"])
    assert claims["exp"] - claims["iat"] == 1800 and login.data["expiresIn"] == "1800"
    # A session begun two hours ago (before the setting was lowered) is over: refresh refuses it.
    now = int(time.time())
    older = jwt.encode(
        {**claims, "auth_time": now - 7200, "iat": now - 60, "exp": now + 600}, services.tokens.secret, "HS256"
    )
    assert_error(await api.fetch("POST", "/auth/refresh", token=older), 401, msg.TOKEN_INVALID)


async def test_a_temporary_password_opens_only_the_way_to_change_it(api, base_url, sockets, config):
    admin = await api.login()
    user_id = await api.create_user(admin, "temp@seam.test", 1)
    temporary = (await api.fetch("PUT", f"/users/{user_id}/resetPassword", token=admin)).data["temporaryPassword"]
    login = await api.fetch("POST", "/auth/login", json={"email": "temp@seam.test", "password": temporary})
    assert login.status == 200 and login.data["mustChangePassword"] is True
    token = login.data["token"]
    assert (await api.fetch("GET", "/auth/me", token=token)).data["mustChangePassword"] is True
    refreshed = await api.fetch("POST", "/auth/refresh", token=token)
    assert refreshed.status == 200
    for method, path, body in (
        ("GET", "/users", None),
        ("GET", "/roles", None),
        ("GET", "/changes", None),
        ("GET", "/sidebar", None),
        ("POST", "/roles", {"roleName": "sneaky"}),
        ("PUT", "/users/1/resetPassword", None),
        ("POST", "/auth/register", {"full_name": "Otro", "email": "o@seam.test", "password": PASSWORD, "roleId": 1}),
    ):
        for bearer in (token, refreshed.data["token"]):
            response = await api.fetch(method, path, json=body, token=bearer)
            assert_error(response, 403, msg.MUST_CHANGE_PASSWORD)
    assert await refused_socket(base_url, token) == msg.MUST_CHANGE_PASSWORD
    assert sql(config, "SELECT COUNT(*) FROM roles WHERE roleName = 'sneaky'")[0][0] == 0
    changed = await api.fetch(
        "PUT", "/auth/password", json={"currentPassword": temporary, "newPassword": "my-own-pass-1"}, token=token
    )
    assert changed.status == 200
    fresh = changed.data["token"]
    assert (await api.fetch("GET", "/roles", token=fresh)).status == 200
    assert (await sockets(fresh)).client.connected

# SPDX-License-Identifier: MIT
"""SPEC §6 sessions over the socket: handshake errors, session:changed and its role room, session:revoked."""

import asyncio
import time

import jwt
import pytest
import socketio

import messages as msg
from tests.support.clients import PASSWORD, EventRecorder, assert_error
from tests.support.database import sql
from tests.support.realtime import barrier, changes, without_barriers

pytestmark = pytest.mark.both_backends

READ_USERS = "GET /api/v1/users"


async def refused(base_url, token):
    """The connect_error message a client gets for this handshake token."""
    recorder = EventRecorder(base_url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await recorder.connect(token)
    assert not recorder.client.connected
    error = recorder.connect_error
    return error.get("message") if isinstance(error, dict) else error


async def _user(api, admin, email, permissions=(), role_name=None):
    role_id = await api.create_role(admin, role_name or f"role-{email.split('@')[0]}", permissions)
    user_id = await api.create_user(admin, email, role_id)
    return user_id, role_id, await api.login(email, PASSWORD)


async def test_handshake_errors(api, base_url, services):
    admin = await api.login()
    assert await refused(base_url, None) == msg.SOCKET_TOKEN_REQUIRED
    assert await refused(base_url, "") == msg.SOCKET_TOKEN_REQUIRED
    assert await refused(base_url, "not-a-jwt") == msg.TOKEN_INVALID
    claims = jwt.decode(admin, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    assert await refused(base_url, forged) == msg.TOKEN_INVALID
    now = int(time.time())
    expired = jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, services.tokens.secret, algorithm="HS256")
    assert await refused(base_url, expired) == msg.TOKEN_INVALID
    disabled_id, _, disabled = await _user(api, admin, "disabled@seam.test")
    deleted_id, _, deleted = await _user(api, admin, "deleted@seam.test")
    assert (await api.fetch("PUT", f"/users/{disabled_id}/state", json={"isActive": 0}, token=admin)).status == 200
    assert (await api.fetch("DELETE", f"/users/{deleted_id}", token=admin)).status == 200
    assert await refused(base_url, disabled) == msg.TOKEN_INVALID
    assert await refused(base_url, deleted) == msg.TOKEN_INVALID


async def test_role_change_pushes_session_and_moves_the_role_room(api, sockets):
    admin = await api.login()
    user_id, plain_role, token = await _user(api, admin, "mover@seam.test")
    reader_role = await api.create_role(admin, "reader", [READ_USERS])
    tab = await sockets(token)
    await api.create_user(admin, "before@seam.test", plain_role)
    moved = await api.fetch("PUT", f"/users/{user_id}", json={"roleId": reader_role}, token=admin)
    assert moved.status == 200
    await tab.wait_for(lambda events: tab.of("session:changed"))
    session = tab.of("session:changed")[0]
    assert set(session) == {"user", "permissions", "sidebarItems"}
    assert session["user"]["roleId"] == reader_role and session["user"]["roleName"] == "reader"
    assert session["permissions"] == [READ_USERS] and session["sidebarItems"] == []
    await api.create_user(admin, "after@seam.test", plain_role)
    back = await api.fetch("PUT", f"/users/{user_id}", json={"roleId": plain_role}, token=admin)
    assert back.status == 200
    await api.create_user(admin, "gone@seam.test", plain_role)
    await barrier(api, admin, tab)
    seen = [(c["operation"], c["data"].get("email")) for c in changes(tab) if c["operation"].startswith("users:")]
    assert seen == [
        ("users:update", "mover@seam.test"),
        ("users:create", "after@seam.test"),
        ("users:update", "mover@seam.test"),
    ]
    assert [s["user"]["roleId"] for s in tab.of("session:changed")] == [reader_role, plain_role]
    assert tab.of("session:changed")[1]["permissions"] == []


async def test_role_permissions_menu_and_profile_changes_push_session(api, sockets):
    admin = await api.login()
    user_id, role_id, token = await _user(api, admin, "watched@seam.test")
    _, _, bystander_token = await _user(api, admin, "bystander@seam.test")
    tab, bystander = await sockets(token), await sockets(bystander_token)
    permissions = (await api.fetch("GET", "/permission", token=admin)).data
    permission_id = next(p["idPermission"] for p in permissions if p["nameUri"] == "POST /api/v1/sidebar")
    grant = {"roleId": role_id, "permissionId": permission_id}
    assert (await api.fetch("POST", "/permission/assign", json=grant, token=admin)).status == 200
    item = await api.fetch("POST", "/sidebar", json={"nameItem": "Reports", "route": "/reports"}, token=admin)
    item_id = item.data["idItem"]
    assert (await api.fetch("POST", f"/sidebar/{item_id}/role/{role_id}", token=admin)).status == 201
    assert (await api.fetch("PUT", f"/sidebar/{item_id}", json={"nameItem": "Reports 2"}, token=admin)).status == 200
    assert (await api.fetch("PUT", f"/roles/{role_id}", json={"roleName": "renamed"}, token=admin)).status == 200
    assert (await api.fetch("PUT", f"/users/{user_id}", json={"full_name": "New Name"}, token=admin)).status == 200
    assert (await api.fetch("DELETE", "/permission/unassign", json=grant, token=admin)).status == 200
    await barrier(api, admin, tab, bystander)
    sessions = tab.of("session:changed")
    assert [s["permissions"] for s in sessions] == [["POST /api/v1/sidebar"]] * 5 + [[]]
    assert [[i["nameItem"] for i in s["sidebarItems"]] for s in sessions] == [
        [],
        ["Reports"],
        ["Reports 2"],
        ["Reports 2"],
        ["Reports 2"],
        ["Reports 2"],
    ]
    assert [s["user"]["roleName"] for s in sessions][3:] == ["renamed"] * 3
    assert sessions[4]["user"]["full_name"] == "New Name"
    assert bystander.of("session:changed") == []
    me = await api.fetch("GET", "/auth/me", token=token)
    assert {k: me.data[k] for k in ("user", "permissions", "sidebarItems")} == sessions[-1]


@pytest.mark.parametrize("action", ["disable", "delete", "reset", "admin-password"])
async def test_admin_actions_revoke_every_socket_of_the_user(api, sockets, base_url, action):
    admin = await api.login()
    user_id, _, token = await _user(api, admin, "victim@seam.test")
    tabs = [await sockets(token), await sockets(token)]
    admin_tab = await sockets(admin)
    request, reason = {
        "disable": (("PUT", f"/users/{user_id}/state", {"isActive": 0}), msg.REVOKED_DISABLED),
        "delete": (("DELETE", f"/users/{user_id}", None), msg.REVOKED_DELETED),
        "reset": (("PUT", f"/users/{user_id}/resetPassword", None), msg.REVOKED_PASSWORD_RESET),
        "admin-password": (("PUT", f"/users/{user_id}", {"password": "brand-new-pass"}), msg.REVOKED_PASSWORD_CHANGED),
    }[action]
    method, path, body = request
    response = await api.fetch(method, path, json=body, token=admin)
    assert response.status == 200, response.body
    for tab in tabs:
        await tab.disconnected.wait()
        assert tab.events[-1] == ("session:revoked", {"reason": reason})
        assert tab.of("session:revoked") == [{"reason": reason}]
        assert not tab.client.connected
    assert await refused(base_url, token) == msg.TOKEN_INVALID
    await barrier(api, admin, admin_tab)
    assert admin_tab.client.connected and admin_tab.of("session:revoked") == []


async def test_self_password_change_revokes_all_but_the_callers_socket(api, sockets, base_url):
    admin = await api.login()
    _, _, token = await _user(api, admin, "self@seam.test")
    caller, other_tab, third_tab = await sockets(token), await sockets(token), await sockets(token)
    body = {"currentPassword": PASSWORD, "newPassword": "fresh-pass-9"}
    changed = await api.fetch("PUT", "/auth/password", json=body, token=token, headers={"X-Socket-ID": caller.sid})
    assert changed.status == 200
    for tab in (other_tab, third_tab):
        await tab.disconnected.wait()
        assert tab.events == [("session:revoked", {"reason": msg.REVOKED_PASSWORD_CHANGED})]
    await caller.wait_for(lambda events: any(e.get("status") == "success" for _, e in events))
    assert caller.client.connected
    assert [(e["status"], e["operation"]) for e in caller.of("operation:progress")][-1] == ("success", "auth:password")
    assert caller.of("session:revoked") == [] and caller.of("data:changed") == []
    assert await refused(base_url, token) == msg.TOKEN_INVALID
    fresh = await sockets(changed.data["token"])
    assert fresh.client.connected
    await barrier(api, admin, caller, fresh)
    assert [n for n, _ in without_barriers(fresh)] == []


async def test_logging_out_other_sessions_keeps_the_callers_session_and_password(api, sockets, base_url, config):
    admin = await api.login()
    user_id, _, token = await _user(api, admin, "leaver@seam.test")
    other_token = await api.login("leaver@seam.test", PASSWORD)
    caller, other_tab = await sockets(token), await sockets(other_token)
    admin_tab = await sockets(admin)
    updated_at = sql(config, "SELECT updatedAt FROM users WHERE idUser = ?", (user_id,))[0][0]

    closed = await api.fetch("POST", "/auth/logoutOthers", token=token, headers={"X-Socket-ID": caller.sid})
    assert closed.status == 200 and closed.body["message"] == msg.SESSIONS_CLOSED
    assert set(closed.data) == {"token", "expiresIn"}
    await other_tab.disconnected.wait()
    assert other_tab.events == [("session:revoked", {"reason": msg.REVOKED_LOGGED_OUT})]
    await caller.wait_for(lambda events: any(e.get("status") == "success" for _, e in events))
    assert caller.client.connected and caller.of("session:revoked") == []
    assert [(e["status"], e["operation"]) for e in caller.of("operation:progress")][-1] == (
        "success",
        "auth:logoutOthers",
    )
    # Every token issued before stops working, the caller's too; the new one continues the same session.
    for old in (token, other_token):
        assert_error(await api.fetch("GET", "/auth/me", token=old), 401, msg.TOKEN_INVALID)
    assert await refused(base_url, other_token) == msg.TOKEN_INVALID
    fresh = closed.data["token"]
    assert (await api.fetch("GET", "/auth/me", token=fresh)).status == 200
    assert (
        jwt.decode(fresh, options={"verify_signature": False})["auth_time"]
        == jwt.decode(token, options={"verify_signature": False})["auth_time"]
    )
    # The password and the profile are untouched; nobody hears of it but the user's own tabs.
    assert await api.login("leaver@seam.test", PASSWORD)
    await barrier(api, admin, caller, admin_tab)
    for tab in (caller, admin_tab):
        assert [c["operation"] for c in changes(tab)] == ["roles:create"]  # the barrier only
    feed = await api.fetch("GET", "/changes?limit=500", token=admin)
    assert "auth:logoutOthers" not in [c["operation"] for c in feed.data]
    assert sql(config, "SELECT updatedAt, tokenVersion FROM users WHERE idUser = ?", (user_id,)) == [(updated_at, 1)]
    stored = sql(config, "SELECT actorId, broadcast FROM changes WHERE operation = 'auth:logoutOthers'")
    assert stored == [(user_id, 0)]


async def test_logging_out_other_sessions_needs_a_session_that_may_act(api):
    assert_error(await api.fetch("POST", "/auth/logoutOthers"), 401, msg.TOKEN_REQUIRED)
    admin = await api.login()
    user_id = await api.create_user(admin, "temporary@seam.test", 2)
    temporary = (await api.fetch("PUT", f"/users/{user_id}/resetPassword", token=admin)).data["temporaryPassword"]
    token = await api.login("temporary@seam.test", temporary)
    assert_error(await api.fetch("POST", "/auth/logoutOthers", token=token), 403, msg.MUST_CHANGE_PASSWORD)
    assert (await api.fetch("GET", "/auth/me", token=token)).status == 200


async def test_a_demoted_user_gets_no_users_change_committed_after_the_demotion(api, sockets, services, monkeypatch):
    """Regression: the next fan-out ran before the session effect had moved the socket out of its old role room."""
    admin = await api.login()
    user_id, reader_role, token = await _user(api, admin, "demoted@seam.test", [READ_USERS])
    plain_role = await api.create_role(admin, "plain")
    tab = await sockets(token)
    demotion_seq = await services.changes.latest_seq() + 1
    real_view = services.hub.session_view

    async def view_after_next_commit(user):
        for _ in range(400):  # bounded: hold the session effect until the users:create behind it committed
            if await services.changes.latest_seq() > demotion_seq:
                break
            await asyncio.sleep(0.005)
        return await real_view(user)

    monkeypatch.setattr(services.hub, "session_view", view_after_next_commit)
    demote = api.fetch("PUT", f"/users/{user_id}", json={"roleId": plain_role}, token=admin)

    async def create_after_demotion_committed():
        while await services.changes.latest_seq() < demotion_seq:
            await asyncio.sleep(0.005)
        return await api.fetch(
            "POST",
            "/users",
            json={"full_name": "Secret", "email": "secret@seam.test", "password": PASSWORD, "roleId": plain_role},
            token=admin,
        )

    demoted, created = await asyncio.wait_for(asyncio.gather(demote, create_after_demotion_committed()), 10)
    assert demoted.status == 200 and created.status == 201
    await barrier(api, admin, tab)
    assert [c["operation"] for c in changes(tab) if c["operation"].startswith("users:")] == ["users:update"]
    assert "secret@seam.test" not in str(tab.events)
    assert tab.of("session:changed")[0]["user"]["roleId"] == plain_role

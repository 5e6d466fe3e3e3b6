# SPDX-License-Identifier: MIT
"""SPEC §6 targeting: who hears an operation's progress, and who hears nothing at all."""

import pytest  # noqa

import messages as msg
from tests.support.clients import PASSWORD, assert_error
from tests.support.realtime import barrier, changes, statuses, without_barriers

pytestmark = pytest.mark.both_backends


async def _viewer(api, admin, email="viewer@seam.test", permissions=()):
    """A second user with a role holding only the given permissions; returns (id, token)."""
    role_id = await api.create_role(admin, f"role-{email.split('@')[0]}", permissions)
    user_id = await api.create_user(admin, email, role_id)
    return user_id, await api.login(email, PASSWORD)


async def test_own_socket_id_targets_that_tab_only(api, sockets):
    admin = await api.login()
    tab, sibling = await sockets(admin), await sockets(admin)
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "mine"}
    await api.fetch("POST", "/roles", json={"roleName": "r1"}, token=admin, headers=headers)
    await barrier(api, admin, tab, sibling)
    assert statuses(tab, "mine") == ["start", "processing", "success"]
    assert [name for name, _ in without_barriers(sibling)] == ["data:changed"]
    assert changes(sibling)[0]["initiatorSocketId"] == tab.sid


async def test_without_socket_id_every_tab_of_the_user_gets_progress(api, sockets):
    admin = await api.login()
    tabs = [await sockets(admin) for _ in range(3)]
    _, viewer_token = await _viewer(api, admin)
    stranger = await sockets(viewer_token)
    created = await api.fetch("POST", "/roles", json={"roleName": "r1"}, token=admin, headers={"X-Operation-ID": "o1"})
    assert created.status == 201
    await barrier(api, admin, *tabs, stranger)
    for tab in tabs:
        assert statuses(tab, "o1") == ["start", "processing", "success"]
        assert [c["initiatorSocketId"] for c in changes(tab) if c["operationId"] == "o1"] == [None]
    assert [(n, e["operationId"]) for n, e in without_barriers(stranger)] == [("data:changed", "o1")]


async def test_socket_id_of_another_user_is_not_honored(api, sockets):
    admin = await api.login()
    tab, sibling = await sockets(admin), await sockets(admin)
    _, viewer_token = await _viewer(api, admin)
    victim = await sockets(viewer_token)
    spoofed = {"X-Socket-ID": victim.sid, "X-Operation-ID": "spoof"}
    created = await api.fetch("POST", "/roles", json={"roleName": "r1"}, token=admin, headers=spoofed)
    assert created.status == 201
    await barrier(api, admin, tab, sibling, victim)
    for own in (tab, sibling):
        assert statuses(own, "spoof") == ["start", "processing", "success"]
    victim_events = without_barriers(victim)
    assert [(n, e["operationId"]) for n, e in victim_events] == [("data:changed", "spoof")]
    assert victim_events[0][1]["initiatorSocketId"] is None
    unknown = {"X-Socket-ID": "no-such-socket", "X-Operation-ID": "unknown"}
    await api.fetch("POST", "/roles", json={"roleName": "r2"}, token=admin, headers=unknown)
    await barrier(api, admin, tab, sibling)
    assert statuses(sibling, "unknown") == ["start", "processing", "success"]


async def test_requests_failing_authentication_or_authorization_emit_nothing(api, sockets):
    admin = await api.login()
    _, viewer_token = await _viewer(api, admin)
    admin_tab, viewer_tab = await sockets(admin), await sockets(viewer_token)
    body = {"roleName": "nope"}
    forbidden = await api.fetch(
        "POST", "/roles", json=body, token=viewer_token, headers={"X-Socket-ID": viewer_tab.sid}
    )
    assert_error(forbidden, 403, msg.FORBIDDEN)
    assert_error(await api.fetch("POST", "/roles", json=body), 401, msg.TOKEN_REQUIRED)
    assert_error(await api.fetch("POST", "/roles", json=body, token="junk"), 401, msg.TOKEN_INVALID)
    spoof = {"X-Socket-ID": admin_tab.sid}
    assert_error(await api.fetch("POST", "/roles", json=body, token="junk", headers=spoof), 401, msg.TOKEN_INVALID)
    assert_error(await api.fetch("GET", "/users", token=viewer_token), 403, msg.FORBIDDEN)
    await barrier(api, admin, admin_tab, viewer_tab)
    assert without_barriers(admin_tab) == [] and without_barriers(viewer_tab) == []


async def test_login_progress_reaches_only_a_named_socket_of_the_same_user(api, sockets):
    admin = await api.login()
    _, viewer_token = await _viewer(api, admin)
    admin_tab, admin_sibling, viewer_tab = await sockets(admin), await sockets(admin), await sockets(viewer_token)
    credentials = {"email": "viewer@seam.test", "password": PASSWORD}

    async def login(operation_id, socket_id=None, password=PASSWORD):
        headers = {"X-Operation-ID": operation_id}
        if socket_id:
            headers["X-Socket-ID"] = socket_id
        return await api.fetch("POST", "/auth/login", json={**credentials, "password": password}, headers=headers)

    assert (await login("own", viewer_tab.sid)).status == 200
    assert (await login("foreign", admin_tab.sid)).status == 200
    assert (await login("unnamed")).status == 200
    assert_error(await login("failed", viewer_tab.sid, "wrong-password"), 401, msg.BAD_CREDENTIALS)
    await barrier(api, admin, admin_tab, admin_sibling, viewer_tab)
    assert statuses(viewer_tab, "own") == ["start", "success"]
    assert viewer_tab.of("operation:progress")[0]["operation"] == "auth:login"
    assert [e["operationId"] for _, e in without_barriers(viewer_tab)] == ["own", "own"]
    assert without_barriers(admin_tab) == [] and without_barriers(admin_sibling) == []


async def test_anonymous_register_emits_progress_to_nobody(api, sockets, services):
    services.config["open_registration"] = True
    admin = await api.login()
    admin_tab = await sockets(admin)
    body = {"full_name": "New Person", "email": "new@seam.test", "password": PASSWORD, "roleId": 1}
    headers = {"X-Socket-ID": admin_tab.sid, "X-Operation-ID": "anon"}
    registered = await api.fetch("POST", "/auth/register", json=body, headers=headers)
    assert registered.status == 201 and registered.data["roleName"] == "user"
    await barrier(api, admin, admin_tab)
    anon = [(n, e) for n, e in without_barriers(admin_tab)]
    assert [(n, e["operation"]) for n, e in anon] == [("data:changed", "auth:register")]
    assert anon[0][1]["initiatorSocketId"] is None

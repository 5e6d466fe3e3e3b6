# SPDX-License-Identifier: MIT
"""SPEC §6 fan-out: permission-aware data:changed, no secrets in any event, correctness under load."""

import asyncio

import pytest

import messages as msg
from handlers.base import ApiHandler
from tests.support.clients import ADMIN_PASSWORD, PASSWORD
from tests.support.realtime import barrier, changes, no_secrets, without_barriers

pytestmark = pytest.mark.both_backends

READ_USERS = "GET /api/v1/users"


async def _permission_id(api, token, name_uri):
    listed = await api.fetch("GET", "/permission", token=token)
    return next(p["idPermission"] for p in listed.data if p["nameUri"] == name_uri)


async def test_users_changes_reach_only_readers_of_users_and_their_subject(api, sockets):
    admin = await api.login()
    plain_role = await api.create_role(admin, "plain")
    reader_role = await api.create_role(admin, "reader", [READ_USERS])
    plain_id = await api.create_user(admin, "plain@seam.test", plain_role)
    await api.create_user(admin, "reader@seam.test", reader_role)
    plain_tab = await sockets(await api.login("plain@seam.test", PASSWORD))
    reader_tab = await sockets(await api.login("reader@seam.test", PASSWORD))

    other_id = await api.create_user(admin, "other@seam.test", plain_role)
    await api.fetch("PUT", f"/users/{other_id}", json={"full_name": "Renamed Other"}, token=admin)
    await api.fetch("PUT", f"/users/{other_id}/state", json={"isActive": 0}, token=admin)
    await api.fetch("PUT", f"/users/{other_id}/resetPassword", token=admin)
    register = {"full_name": "Registered", "email": "reg@seam.test", "password": PASSWORD, "roleId": plain_role}
    assert (await api.fetch("POST", "/auth/register", json=register, token=admin)).status == 201
    await api.fetch("DELETE", f"/users/{other_id}", token=admin)
    await api.fetch("PUT", f"/users/{plain_id}", json={"full_name": "Plain Renamed"}, token=admin)
    await api.fetch("POST", "/roles", json={"roleName": "for-everyone"}, token=admin)
    await barrier(api, admin, plain_tab, reader_tab)

    operations = ["users:create", "users:update", "users:update", "users:update", "auth:register", "users:delete"]
    reader_seen = [c["operation"] for c in changes(reader_tab) if not c["operationId"].startswith("barrier-")]
    assert reader_seen == [*operations, "users:update", "roles:create"]
    plain_seen = [(n, e.get("operation")) for n, e in without_barriers(plain_tab)]
    assert plain_seen == [("data:changed", "users:update"), ("session:changed", None), ("data:changed", "roles:create")]
    assert changes(plain_tab)[0]["data"]["idUser"] == plain_id


async def test_menu_changes_reach_readers_of_the_menu_and_the_roles_whose_menu_changed(api, sockets):
    """SPEC §10: a change goes to those whose role may read its resource (the menu: GET /sidebar/items), plus the
    users whose own session it changes (a role whose menu changed), and /changes shows each the same."""
    admin = await api.login()
    plain_role = await api.create_role(admin, "plain")
    shown_role = await api.create_role(admin, "shown")
    reader_role = await api.create_role(admin, "menu-reader", ["GET /api/v1/sidebar/items"])
    tokens = {}
    for name, role_id in (("plain", plain_role), ("shown", shown_role), ("reader", reader_role)):
        await api.create_user(admin, f"{name}@seam.test", role_id)
        tokens[name] = await api.login(f"{name}@seam.test", PASSWORD)
    tabs = {name: await sockets(token) for name, token in tokens.items()}
    start = (await api.fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]

    item = await api.fetch("POST", "/sidebar", json={"nameItem": "Informes"}, token=admin)
    item_id = item.data["idItem"]
    assert (await api.fetch("POST", f"/sidebar/{item_id}/role/{shown_role}", token=admin)).status == 201
    assert (await api.fetch("PUT", f"/sidebar/{item_id}", json={"nameItem": "Informes 2"}, token=admin)).status == 200
    await barrier(api, admin, *tabs.values())

    def menu_changes(name):
        return [c["operation"] for c in changes(tabs[name]) if c["operation"].startswith("sidebar:")]

    assert menu_changes("reader") == ["sidebar:create", "sidebar:assign", "sidebar:update"]
    assert menu_changes("shown") == ["sidebar:assign", "sidebar:update"]  # its own menu changed
    assert menu_changes("plain") == []
    assert [s["sidebarItems"][0]["nameItem"] for s in tabs["shown"].of("session:changed")] == ["Informes", "Informes 2"]
    for name, tab in tabs.items():
        feed = (await api.fetch("GET", f"/changes?since={start}", token=tokens[name])).data
        assert [c["seq"] for c in feed] == [c["seq"] for c in changes(tab)], name
        assert all("before" not in c for c in feed if c["operation"].startswith("sidebar:")) == (name != "reader")


async def test_fan_out_follows_grants_of_read_users(api, sockets):
    admin = await api.login()
    role_id = await api.create_role(admin, "plain")
    await api.create_user(admin, "plain@seam.test", role_id)
    tab = await sockets(await api.login("plain@seam.test", PASSWORD))
    grant = {"roleId": role_id, "permissionId": await _permission_id(api, admin, READ_USERS)}
    assert (await api.fetch("POST", "/permission/assign", json=grant, token=admin)).status == 200
    await api.create_user(admin, "seen@seam.test", 1)
    assert (await api.fetch("DELETE", "/permission/unassign", json=grant, token=admin)).status == 200
    await api.create_user(admin, "unseen@seam.test", 1)
    await barrier(api, admin, tab)
    seen = [(c["operation"], c["data"].get("email")) for c in changes(tab) if c["operation"].startswith("users:")]
    assert seen == [("users:create", "seen@seam.test")]


async def test_no_event_carries_a_password_hash_or_temporary_password(api, sockets):
    admin = await api.login()
    role_id = await api.create_role(admin, "plain", [READ_USERS])
    admin_tab = await sockets(admin)
    user_id = await api.create_user(admin, "target@seam.test", role_id)
    target = await api.login("target@seam.test", PASSWORD)
    target_tab = await sockets(target)
    hdr = {"X-Socket-ID": target_tab.sid}
    await api.fetch("PUT", f"/users/{user_id}", json={"password": "another-pass-2"}, token=admin)
    target = await api.login("target@seam.test", "another-pass-2")
    target_tab = await sockets(target)
    changed = await api.fetch(
        "PUT",
        "/auth/password",
        json={"currentPassword": "another-pass-2", "newPassword": "third-pass-3"},
        token=target,
        headers={"X-Socket-ID": target_tab.sid},
    )
    assert changed.status == 200
    reset = await api.fetch("PUT", f"/users/{user_id}/resetPassword", token=admin, headers=hdr)
    temporary = reset.data["temporaryPassword"]
    await api.fetch("POST", "/auth/login", json={"email": "target@seam.test", "password": temporary})
    register = {"full_name": "Registered", "email": "reg@seam.test", "password": "reg-pass-4", "roleId": role_id}
    await api.fetch("POST", "/auth/register", json=register, token=admin)
    await barrier(api, admin, admin_tab)
    assert any(c["operation"] == "users:update" for c in changes(admin_tab))
    feed = await api.fetch("GET", "/changes?limit=500", token=admin)
    every = admin_tab.events + target_tab.events + [("feed", feed.body)]
    no_secrets(every, temporary, PASSWORD, ADMIN_PASSWORD, "another-pass-2", "third-pass-3", "reg-pass-4")
    assert reset.headers["X-Operation-ID"] in [c["operationId"] for c in changes(admin_tab)]


@pytest.mark.timeout(90)
async def test_fan_out_under_load_every_permitted_socket_gets_every_change_once_in_seq_order(api, sockets):
    """200 sockets (half may not read users), 50 mutations of three kinds from 5 concurrent writers."""
    admin = await api.login()
    plain_role = await api.create_role(admin, "plain")
    await api.create_user(admin, "plain@seam.test", plain_role)
    subject_id = await api.create_user(admin, "subject@seam.test", plain_role)
    plain = await api.login("plain@seam.test", PASSWORD)
    admin_tabs, plain_tabs = [], []
    for _batch in range(5):
        admin_tabs += await asyncio.gather(*[sockets(admin) for _ in range(20)])
        plain_tabs += await asyncio.gather(*[sockets(plain) for _ in range(20)])
    harmless = await _permission_id(api, admin, "POST /api/v1/sidebar")
    first = (await api.fetch("GET", "/changes?limit=1", token=admin)).body["meta"]["latestSeq"] + 1

    async def writer(worker):
        for step in range(10):
            if step % 2 and worker == 0:
                # grant, revoke, grant…: each a real change, and each drops the auth cache mid-stream
                grant = {"roleId": plain_role, "permissionId": harmless}
                method, path = ("POST", "/permission/assign") if step % 4 == 1 else ("DELETE", "/permission/unassign")
                response = await api.fetch(method, path, json=grant, token=admin)
            elif step % 2:
                body = {"full_name": f"Subject {worker}-{step}"}
                response = await api.fetch("PUT", f"/users/{subject_id}", json=body, token=admin)
            else:
                response = await api.fetch("POST", "/roles", json={"roleName": f"load-{worker}-{step}"}, token=admin)
            assert response.status in (200, 201), response.body

    await asyncio.gather(*[writer(worker) for worker in range(5)])
    feed = await api.fetch("GET", f"/changes?since={first - 1}&limit=500", token=admin)
    all_seqs = [c["seq"] for c in feed.data]
    role_seqs = [c["seq"] for c in feed.data if not c["operation"].startswith("users:")]
    assert len(all_seqs) == 50 and all_seqs == list(range(first, first + 50))

    def seqs(tab):
        return [c["seq"] for c in changes(tab)]

    for tab in admin_tabs:
        await tab.wait_for(lambda events, tab=tab: len(seqs(tab)) >= 50, timeout=30)
    for tab in plain_tabs:
        await tab.wait_for(lambda events, tab=tab: len(seqs(tab)) >= len(role_seqs), timeout=30)
    await barrier(api, admin, *admin_tabs, *plain_tabs)
    for tab in admin_tabs:
        assert [s for s in seqs(tab) if s < first + 50] == all_seqs
    for tab in plain_tabs:
        assert [s for s in seqs(tab) if s < first + 50] == role_seqs
        assert not any(c["operation"].startswith("users:") for c in changes(tab))
    assert msg.USER_UPDATED in {c["message"] for c in changes(admin_tabs[0])}


async def test_data_changed_leaves_in_commit_order_even_when_one_fan_out_is_slow(api, sockets, services, monkeypatch):
    """Regression: a users:* fan-out waiting on the auth cache was overtaken by a later commit's fan-out."""
    admin = await api.login()
    subject_id = await api.create_user(admin, "subject@seam.test", 1)
    tab = await sockets(admin)
    first = await services.changes.latest_seq() + 1
    real_lookup = services.cache.roles_holding

    async def lookup_after_next_commit(permission):
        """Hold the users:update fan-out until the roles:create behind it has committed (bounded)."""
        for _ in range(400):
            if await services.changes.latest_seq() > first:
                break
            await asyncio.sleep(0.005)
        return await real_lookup(permission)

    monkeypatch.setattr(services.cache, "roles_holding", lookup_after_next_commit)
    update = api.fetch("PUT", f"/users/{subject_id}", json={"full_name": "Slow Fan-out"}, token=admin)

    async def create_after_update_committed():
        while await services.changes.latest_seq() < first:
            await asyncio.sleep(0.005)
        return await api.fetch("POST", "/roles", json={"roleName": "overtaker"}, token=admin)

    updated, created = await asyncio.wait_for(asyncio.gather(update, create_after_update_committed()), 10)
    assert updated.status == 200 and created.status == 201
    await tab.wait_for(lambda events: len(changes(tab)) == 2)
    assert [(c["seq"], c["operation"]) for c in changes(tab)] == [(first, "users:update"), (first + 1, "roles:create")]


async def test_a_change_committed_by_a_failing_request_is_still_announced_in_order(api, sockets, monkeypatch, caplog):
    """Committed means in the feed: live clients get it too, or they would differ from one that replays /changes."""
    admin = await api.login()
    role_id = await api.create_role(admin, "renamable")
    tab = await sockets(admin)

    async def broken(*args, **kwargs):
        raise RuntimeError("after the commit")

    monkeypatch.setattr(ApiHandler, "ok", broken)
    failed = await api.fetch("PUT", f"/roles/{role_id}", json={"roleName": "renamed"}, token=admin)
    assert failed.status == 500
    monkeypatch.undo()
    await barrier(api, admin, tab)
    assert [c["operation"] for c in changes(tab)] == ["roles:update", "roles:create"]

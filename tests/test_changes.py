# SPDX-License-Identifier: MIT
"""SPEC §7 change feed and audit log: replay after a reconnect, no row for a failed mutation, retention, audit."""

import asyncio
import os
import pathlib
import socket
import subprocess
import sys

import pytest
import tornado.httpclient

import messages as msg
from app.services import Services
from bench.seam_process import seam_env
from handlers import permission_catalog
from store.unit import Origin
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, Api, EventRecorder, assert_error
from tests.support.database import database_env, sql
from tests.support.processes import run_seam_async
from tests.support.realtime import barrier, changes, no_secrets

pytestmark = pytest.mark.both_backends

READ_USERS = "GET /api/v1/users"
ROOT = pathlib.Path(__file__).resolve().parent.parent
ENTITY_KEYS = {
    "roles": "idRole",
    "users": "idUser",
    "auth": "idUser",
    "sidebar": "idItem",
    "permissions": "idPermission",
}


class Replica:
    """What a client keeps: records by (resource, id), rebuilt only from changes, and the last seq applied."""

    def __init__(self, last_seq):
        self.last_seq = last_seq
        self.records = {}

    def apply(self, change):
        assert change["seq"] > self.last_seq, "a change was delivered twice or out of order"
        self.last_seq = change["seq"]
        resource, verb = change["operation"].split(":")
        key = (("users" if resource == "auth" else resource), change["data"][ENTITY_KEYS[resource]])
        if verb == "delete":
            self.records.pop(key, None)
        else:
            self.records[key] = change["data"]

    def apply_live(self, recorder, upto=None):
        for change in changes(recorder):
            if change["seq"] > self.last_seq and (upto is None or change["seq"] <= upto):
                self.apply(change)

    async def catch_up(self, api, token, limit):
        """Page through /changes from the last seq; returns how many pages it took."""
        pages = 0
        while True:
            page = await api.fetch("GET", f"/changes?since={self.last_seq}&limit={limit}", token=token)
            assert page.status == 200, page.body
            pages += 1
            for change in page.data:
                self.apply(change)
            if len(page.data) < limit:
                return pages


async def _plain_user(api, admin, email):
    role_id = await api.create_role(admin, f"role-{email.split('@')[0]}")
    user_id = await api.create_user(admin, email, role_id)
    return user_id, await api.login(email, PASSWORD)


async def _mutations(api, admin, tag, watcher_id):
    """A mix the watcher may and may not see: roles (all), users (readers only) and its own profile."""
    role = await api.fetch("POST", "/roles", json={"roleName": f"r-{tag}"}, token=admin)
    await api.fetch("PUT", f"/roles/{role.data['idRole']}", json={"description": f"d-{tag}"}, token=admin)
    user_id = await api.create_user(admin, f"hidden-{tag}@seam.test", 1)
    await api.fetch("PUT", f"/users/{user_id}", json={"full_name": f"Hidden {tag}"}, token=admin)
    await api.fetch("PUT", f"/users/{watcher_id}", json={"full_name": f"Watcher {tag}"}, token=admin)
    item = await api.fetch("POST", "/sidebar", json={"nameItem": f"item-{tag}"}, token=admin)
    doomed = await api.fetch("POST", "/roles", json={"roleName": f"doomed-{tag}"}, token=admin)
    await api.fetch("DELETE", f"/roles/{doomed.data['idRole']}", token=admin)
    return item.data["idItem"]


async def test_reconnecting_client_ends_with_the_same_state_as_one_that_never_left(api, sockets):
    admin = await api.login()
    watcher_id, token = await _plain_user(api, admin, "watcher@seam.test")
    start = (await api.fetch("GET", "/changes", token=token)).body["meta"]["latestSeq"]
    steady_tab, flaky_tab = await sockets(token), await sockets(token)
    steady, flaky = Replica(start), Replica(start)

    await _mutations(api, admin, "before", watcher_id)
    await barrier(api, admin, steady_tab, flaky_tab)
    flaky.apply_live(flaky_tab)
    await flaky_tab.close()

    for tag in range(6):  # 48 changes, 18 of them invisible to the watcher
        await _mutations(api, admin, f"missed{tag}", watcher_id)
    latest = (await api.fetch("GET", "/changes?limit=1", token=admin)).body["meta"]["latestSeq"]
    await barrier(api, admin, steady_tab)
    flaky_tab = await sockets(token)
    pages = await flaky.catch_up(api, token, limit=7)
    assert pages > 3 and flaky.last_seq > start

    await _mutations(api, admin, "after", watcher_id)
    await barrier(api, admin, steady_tab, flaky_tab)
    steady.apply_live(steady_tab)
    flaky.apply_live(flaky_tab)

    assert flaky.records == steady.records and flaky.last_seq == steady.last_seq
    assert steady.last_seq > latest
    kinds = {key[0] for key in steady.records}
    assert kinds == {"roles", "users"}, "menu items are for readers of the menu (SPEC §10)"
    assert [key for key in steady.records if key[0] == "users"] == [("users", watcher_id)]
    assert steady.records[("users", watcher_id)]["full_name"] == "Watcher after"
    roles = {r["idRole"]: r for r in (await api.fetch("GET", "/roles", token=token)).data}
    assert {k[1]: v for k, v in steady.records.items() if k[0] == "roles"} == {
        i: r for i, r in roles.items() if r["roleName"].startswith(("r-", "barrier-"))
    }


async def test_admin_replica_sees_every_change_including_users(api, sockets):
    admin = await api.login()
    start = (await api.fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    tab = await sockets(admin)
    live, replayed = Replica(start), Replica(start)
    watcher_id, _ = await _plain_user(api, admin, "watcher@seam.test")
    await _mutations(api, admin, "x", watcher_id)
    await barrier(api, admin, tab)
    live.apply_live(tab)
    assert await replayed.catch_up(api, admin, limit=500) == 1
    assert replayed.records == live.records and ("users", watcher_id) in live.records


async def test_failed_or_rolled_back_mutation_leaves_no_row_and_no_event(api, sockets, services, monkeypatch):
    admin = await api.login()
    tab = await sockets(admin)
    before = await services.changes.latest_seq()
    real_insert = services.changes.insert

    async def insert_then_fail(*args, **kwargs):
        await real_insert(*args, **kwargs)
        raise RuntimeError("failure after the change row was written")

    monkeypatch.setattr(services.changes, "insert", insert_then_fail)
    broken = await api.fetch("POST", "/roles", json={"roleName": "never"}, token=admin, headers={"X-Operation-ID": "b"})
    assert_error(broken, 500, msg.INTERNAL_ERROR)
    monkeypatch.undo()
    duplicate = await api.fetch("POST", "/roles", json={"roleName": "admin"}, token=admin)
    assert_error(duplicate, 409, msg.ROLE_EXISTS.format(name="admin"))
    assert_error(await api.fetch("PUT", "/users/1", json={"roleId": 2}, token=admin), 409, msg.LOCKOUT)
    assert_error(await api.fetch("DELETE", "/roles/999", token=admin), 404, msg.ROLE_NOT_FOUND.format(id=999))
    await barrier(api, admin, tab)
    assert [c["operation"] for c in changes(tab)] == ["roles:create"]
    assert changes(tab)[0]["seq"] == before + 1
    feed = await api.fetch("GET", f"/changes?since={before}", token=admin)
    assert [c["seq"] for c in feed.data] == [before + 1] and feed.body["meta"]["latestSeq"] == before + 1
    assert "never" not in [r["roleName"] for r in (await api.fetch("GET", "/roles", token=admin)).data]


async def test_audit_fields_states_and_who_may_read_them(api, sockets, config):
    admin = await api.login()
    watcher_id, watcher = await _plain_user(api, admin, "watcher@seam.test")
    reader_role = await api.create_role(admin, "reader", [READ_USERS])
    await api.create_user(admin, "reader@seam.test", reader_role)
    reader = await api.login("reader@seam.test", PASSWORD)
    tab = await sockets(admin)
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "audit-1"}
    target_id = await api.create_user(admin, "target@seam.test", 1)
    renamed = await api.fetch("PUT", f"/users/{target_id}", json={"full_name": "Renamed"}, token=admin, headers=headers)
    reset = await api.fetch("PUT", f"/users/{target_id}/resetPassword", token=admin)
    await api.fetch("PUT", f"/users/{target_id}", json={"password": "changed-pass-7"}, token=admin)
    await api.fetch("DELETE", f"/users/{target_id}", token=admin)
    item = await api.fetch("POST", "/sidebar", json={"nameItem": "Menu"}, token=admin)
    await api.fetch("PUT", f"/sidebar/{item.data['idItem']}", json={"nameItem": "Menu 2"}, token=admin)
    role = await api.fetch("POST", "/roles", json={"roleName": "temp"}, token=admin)
    await api.fetch("DELETE", f"/roles/{role.data['idRole']}", token=admin)
    await barrier(api, admin, tab)

    feed = (await api.fetch("GET", "/changes?limit=500", token=admin)).data
    for row in feed:
        assert set(row) == {
            *("seq", "at", "operation", "operationId", "actorId", "initiatorSocketId", "message"),
            *("data", "before", "after"),
        }
        assert row["actorId"] == 1 and row["at"].endswith("Z") and row["message"] and row["operationId"]
    update = next(r for r in feed if r["operationId"] == "audit-1")
    assert update["initiatorSocketId"] == tab.sid and update["message"] == msg.USER_UPDATED
    assert update["before"]["full_name"] == "Test User" and update["after"] == renamed.data
    deleted = next(r for r in feed if r["operation"] == "users:delete")
    assert deleted["before"]["email"] == "target@seam.test" and deleted["after"] is None
    role_deleted = next(r for r in feed if r["operation"] == "roles:delete")
    assert role_deleted["before"]["roleName"] == "temp" and role_deleted["data"] == {"idRole": role.data["idRole"]}
    item_update = next(r for r in feed if r["operation"] == "sidebar:update")
    assert (item_update["before"]["nameItem"], item_update["after"]["nameItem"]) == ("Menu", "Menu 2")

    live = {c["seq"]: c for c in changes(tab)}
    for row in feed:
        if row["seq"] in live:
            assert live[row["seq"]] == {k: v for k, v in row.items() if k not in ("before", "after")}

    as_watcher = (await api.fetch("GET", "/changes?limit=500", token=watcher)).data
    assert {r["operation"].split(":")[0] for r in as_watcher} <= {"roles", "permissions", "users"}
    assert all(r["data"]["idUser"] == watcher_id for r in as_watcher if r["operation"].startswith("users:"))
    assert all("before" in r for r in as_watcher if r["operation"].startswith("roles:"))
    as_reader = (await api.fetch("GET", "/changes?limit=500", token=reader)).data
    assert [r["seq"] for r in as_reader] == [r["seq"] for r in feed if not r["operation"].startswith("sidebar:")]
    reader_update = next(r for r in as_reader if r["operationId"] == "audit-1")
    assert reader_update["before"] == update["before"]

    no_secrets([feed, as_watcher, as_reader, tab.events], reset.data["temporaryPassword"], "changed-pass-7", PASSWORD)
    stored = " ".join(str(v) for row in sql(config, "SELECT * FROM changes") for v in row)
    assert "$2b$" not in stored and reset.data["temporaryPassword"] not in stored and "changed-pass-7" not in stored
    assert ADMIN_PASSWORD not in stored and "tokenVersion" not in stored


@pytest.mark.parametrize("overrides", [{"change_retention": 5}])
async def test_retention_prunes_and_old_since_is_gone(api, config):
    assert config["change_retention"] == 5
    admin = await api.login()
    for n in range(8):
        assert (await api.fetch("POST", "/roles", json={"roleName": f"role-{n}"}, token=admin)).status == 201
    kept = [row[0] for row in sql(config, "SELECT seq FROM changes ORDER BY seq")]
    assert kept == [4, 5, 6, 7, 8]
    window = await api.fetch("GET", "/changes?since=3&limit=2", token=admin)
    assert [c["seq"] for c in window.data] == [4, 5]
    assert window.body["meta"] == {"since": 3, "limit": 2, "latestSeq": 8}
    for since in (0, 1, 2):
        assert_error(await api.fetch("GET", f"/changes?since={since}", token=admin), 410, msg.CHANGES_GONE)
    caught_up = await api.fetch("GET", "/changes?since=8", token=admin)
    assert caught_up.data == [] and caught_up.body["meta"]["latestSeq"] == 8
    assert (await api.fetch("POST", "/roles", json={"roleName": "role-9"}, token=admin)).status == 201
    assert_error(await api.fetch("GET", "/changes?since=3", token=admin), 410, msg.CHANGES_GONE)
    assert [c["seq"] for c in (await api.fetch("GET", "/changes?since=4", token=admin)).data] == [5, 6, 7, 8, 9]
    newest = await api.fetch("GET", "/changes?limit=3", token=admin)
    assert [c["seq"] for c in newest.data] == [7, 8, 9], "without since: the newest rows, oldest first, never 410"
    assert newest.body["meta"] == {"since": None, "limit": 3, "latestSeq": 9}


async def test_latest_seq_counts_changes_the_caller_cannot_see_and_query_is_validated(api):
    admin = await api.login()
    _, watcher = await _plain_user(api, admin, "watcher@seam.test")
    await api.create_user(admin, "hidden@seam.test", 1)
    as_admin = await api.fetch("GET", "/changes", token=admin)
    as_watcher = await api.fetch("GET", "/changes", token=watcher)
    assert as_admin.body["meta"]["latestSeq"] == as_watcher.body["meta"]["latestSeq"] == as_admin.data[-1]["seq"]
    assert as_admin.body["meta"]["limit"] == 100 and as_admin.body["meta"]["since"] is None
    assert "hidden@seam.test" in as_admin.text and "hidden@seam.test" not in as_watcher.text
    assert_error(
        await api.fetch("GET", "/changes?limit=501", token=admin), 400, msg.FIELD_MAX.format(field="limit", n=500)
    )
    assert_error(await api.fetch("GET", "/changes?limit=0", token=admin), 400, msg.FIELD_MIN.format(field="limit", n=1))
    bad_type = msg.FIELD_TYPE.format(field="since", type="number")
    assert_error(await api.fetch("GET", "/changes?since=-1", token=admin), 400, bad_type)
    assert_error(await api.fetch("GET", "/changes?since=abc", token=admin), 400, bad_type)
    assert_error(await api.fetch("GET", "/changes"), 401, msg.TOKEN_REQUIRED)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _start_seam(env, log):
    """`python seam.py` in a subprocess, once /healthz answers (bounded wait)."""
    process = subprocess.Popen(  # plain Popen: asyncio's subprocess transports outlive the test loop
        [sys.executable, "seam.py"], cwd=ROOT, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL
    )
    client = tornado.httpclient.AsyncHTTPClient()
    for _ in range(200):
        try:
            health = await client.fetch(f"http://127.0.0.1:{env['SEAM_PORT']}/healthz", raise_error=False)
            if health.code == 200:
                return process
        except OSError:
            pass
        assert process.poll() is None, "seam.py exited during start-up"
        await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("seam.py did not become healthy")


@pytest.mark.timeout(60)
async def test_sigkill_mid_stream_keeps_every_acknowledged_mutation_and_never_reuses_seq(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "SEAM_DB_PATH": str(tmp_path / "seam.db"),
        "SEAM_PORT": str(port),
        "SEAM_ADDRESS": "127.0.0.1",
        "SEAM_BCRYPT_ROUNDS": "4",
        "SEAM_ADMIN_EMAIL": ADMIN_EMAIL,
        "SEAM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SEAM_LOG_LEVEL": "warning",
    }
    base = f"http://127.0.0.1:{port}"
    api = Api(base)
    with open(tmp_path / "seam.log", "ab") as log:
        process = await _start_seam(env, log)
        try:
            admin = await api.login()
            listener = await EventRecorder(base).connect(admin)
            acked = {}
            enough = asyncio.Event()

            async def writer(worker):
                for n in range(1000):
                    name, operation_id = f"kill-{worker}-{n}", f"kill-op-{worker}-{n}"
                    try:
                        created = await api.fetch(
                            "POST",
                            "/roles",
                            json={"roleName": name},
                            token=admin,
                            headers={"X-Operation-ID": operation_id},
                        )
                    except (OSError, tornado.httpclient.HTTPClientError):  # the server died under this request
                        return
                    if created.status == 201:
                        acked[operation_id] = name
                    if len(acked) >= 40:
                        enough.set()
                    if created.status == 599:
                        return

            writers = [asyncio.ensure_future(writer(worker)) for worker in range(4)]
            await asyncio.wait_for(enough.wait(), 30)
            await asyncio.sleep(0.004)  # lands the kill between an acknowledgement and the next one
            process.kill()  # SIGKILL while the writers still have requests in flight
            process.wait(10)
            await asyncio.wait_for(asyncio.gather(*writers), 30)
            live = {c["seq"]: c["operationId"] for c in changes(listener)}
            await listener.close()

            process = await _start_seam(env, log)
            admin = await api.login()
            roles = {r["roleName"] for r in (await api.fetch("GET", "/roles", token=admin)).data}
            feed = (await api.fetch("GET", "/changes?limit=500", token=admin)).data
            by_operation = {c["operationId"]: c for c in feed}
            for operation_id, name in acked.items():
                assert name in roles
                assert by_operation[operation_id]["data"]["roleName"] == name
            streamed = {c["data"]["roleName"] for c in feed if c["operation"] == "roles:create"}
            assert {r for r in roles if r.startswith("kill-")} == {r for r in streamed if r.startswith("kill-")}
            seqs = [c["seq"] for c in feed]
            assert seqs == sorted(set(seqs))
            for seq, operation_id in live.items():
                assert by_operation[operation_id]["seq"] == seq
            after = await api.fetch("POST", "/roles", json={"roleName": "after-restart"}, token=admin)
            assert after.status == 201
            newest = (await api.fetch("GET", f"/changes?since={seqs[-1]}", token=admin)).data
            assert [c["data"]["roleName"] for c in newest] == ["after-restart"]
            assert newest[0]["seq"] > max([*seqs, *live])
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


async def test_a_smaller_window_at_restart_prunes_at_start_and_a_rollback_prunes_nothing(config):
    """The window is kept by the INSERT itself (a trigger): a rolled-back change deletes nothing either."""

    def kept():
        return [row[0] for row in sql(config, "SELECT seq FROM changes ORDER BY seq")]

    async def record(services, operation_id):
        """One change in its own unit of work."""
        async with services.writes.unit(Origin("roles:create", operation_id)) as tx:
            tx.record("m", {})

    services = await Services(config, permission_catalog()).start()
    for n in range(6):
        await record(services, f"op-{n}")
    await services.stop()
    assert kept() == [1, 2, 3, 4, 5, 6]
    services = await Services({**config, "change_retention": 3}, permission_catalog()).start()
    try:
        assert kept() == [4, 5, 6]

        real_insert = services.changes.insert

        async def insert_then_fail(*args):
            await real_insert(*args)  # the row, and the trigger's pruning, are in the transaction now
            raise RuntimeError("the mutation failed after its change row")

        services.changes.insert = insert_then_fail
        with pytest.raises(RuntimeError):
            await record(services, "undone")
        services.changes.insert = real_insert
        assert kept() == [4, 5, 6]
        await record(services, "op-7")
        assert kept() == [5, 6, 7]  # a rolled-back seq was never announced, so it is free
    finally:
        await services.stop()


async def test_the_activity_filters_narrow_the_history(api, config, tmp_path):
    """Issue 18.10: by resource (auth:register counts as users), actor (0 = maintenance), date range, and older pages
    through `before`; each filter keeps the read filter of SPEC §10."""
    admin = await api.login()
    role_id = await api.create_role(admin, "editors", ["PUT /api/v1/roles/:idRole"])
    editor_id = await api.create_user(admin, "editor@seam.test", role_id)
    await api.create_user(admin, "forgetful@seam.test", 2)
    editor = await api.login("editor@seam.test", PASSWORD)
    assert (await api.fetch("PUT", f"/roles/{role_id}", json={"description": "x"}, token=editor)).status == 200
    env = seam_env(**database_env(config), bcrypt_rounds=4, admin_email=ADMIN_EMAIL)
    reset = await run_seam_async("reset-password", "forgetful@seam.test", cwd=tmp_path, env=env)
    assert reset.returncode == 0, reset.stderr
    everything = (await api.fetch("GET", "/changes", token=admin)).data
    assert [(c["operation"], c["actorId"]) for c in everything] == [
        ("roles:create", 1),
        ("permissions:assign", 1),
        ("users:create", 1),
        ("users:create", 1),
        ("roles:update", editor_id),
        ("users:update", None),
    ]

    async def seqs(query, token=admin):
        response = await api.fetch("GET", f"/changes?{query}", token=token)
        assert response.status == 200, response.body
        return [c["seq"] for c in response.data]

    seq = [c["seq"] for c in everything]
    assert await seqs("resource=roles") == [seq[0], seq[4]]
    assert await seqs("resource=users") == [seq[2], seq[3], seq[5]]
    assert await seqs("resource=permissions") == [seq[1]]
    assert await seqs("resource=sidebar") == []
    assert await seqs(f"actorId={editor_id}") == [seq[4]]
    assert await seqs("actorId=0") == [seq[5]]
    assert await seqs("actorId=1&resource=users") == [seq[2], seq[3]]
    assert await seqs(f"before={seq[3]}&limit=2") == [seq[1], seq[2]]
    assert await seqs(f"since={seq[0]}&before={seq[3]}") == [seq[1], seq[2]]
    middle = everything[3]["at"]
    assert await seqs(f"dateFrom={middle}") == [c["seq"] for c in everything if c["at"] >= middle]
    assert await seqs(f"dateTo={middle}") == [c["seq"] for c in everything if c["at"] < middle]
    assert seq[3] in await seqs(f"dateFrom={middle}")
    assert await seqs("dateFrom=2999-01-01T00:00:00%2B02:00") == []
    # The editor may not read users: a filter never shows more than the feed would (only its own account).
    assert await seqs("resource=users", editor) == [seq[2]]

    for query, message in (
        ("resource=auth", msg.FIELD_FORMAT.format(field="resource")),
        ("resource=changes", msg.FIELD_FORMAT.format(field="resource")),
        ("actorId=-1", msg.FIELD_TYPE.format(field="actorId", type="number")),
        ("dateFrom=2025-02-30T00:00:00Z", msg.FIELD_FORMAT.format(field="dateFrom")),
        ("dateTo=2025-02-01", msg.FIELD_FORMAT.format(field="dateTo")),
        ("before=0", msg.FIELD_MIN.format(field="before", n=1)),
    ):
        assert_error(await api.fetch("GET", f"/changes?{query}", token=admin), 400, message)

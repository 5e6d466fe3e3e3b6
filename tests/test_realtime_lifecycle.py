# SPDX-License-Identifier: MIT
"""SPEC §6 operation lifecycle as a tab sees it: start → processing… → one success or error, per operationId."""

import asyncio
import logging
import re

import pytest  # noqa

import messages as msg
from tests.support.clients import assert_error
from tests.support.realtime import barrier, changes, progress, statuses, without_barriers

pytestmark = pytest.mark.both_backends

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


async def test_successful_mutation_exact_sequence_then_data_changed(api, sockets):
    token = await api.login()
    tab, other = await sockets(token), await sockets(token)
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "op-create"}
    created = await api.fetch("POST", "/roles", json={"roleName": "editor"}, token=token, headers=headers)
    assert created.status == 201 and created.headers["X-Operation-ID"] == "op-create"
    await tab.wait_for(lambda events: len(changes(tab)) == 1)
    assert progress(tab) == [
        ("start", msg.OP_START.format(operation="roles:create")),
        ("processing", msg.OP_SAVING),
        ("success", msg.ROLE_CREATED),
    ]
    assert [name for name, _ in tab.events] == ["operation:progress"] * 3 + ["data:changed"]
    events = tab.of("operation:progress")
    assert {e["operation"] for e in events} == {"roles:create"}
    assert {e["operationId"] for e in events} == {"op-create"}
    assert all(e["timestamp"].endswith("Z") for e in events)
    assert events[-1]["data"] == created.data
    await other.wait_for(lambda events: len(events) == 1)
    assert other.events == [("data:changed", tab.of("data:changed")[0])]
    change = other.events[0][1]
    assert set(change) == {"operation", "message", "data", "initiatorSocketId", "operationId", "seq", "at", "actorId"}
    assert change["actorId"] == 1
    assert change["operation"] == "roles:create" and change["message"] == msg.ROLE_CREATED
    assert change["data"] == created.data and change["initiatorSocketId"] == tab.sid
    assert change["operationId"] == "op-create" and change["seq"] == 1 and change["at"].endswith("Z")


async def test_validation_error_after_start_emits_error_and_no_change(api, sockets):
    token = await api.login()
    tab, other = await sockets(token), await sockets(token)
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "op-bad"}
    bad = await api.fetch("POST", "/roles", json={"roleName": "x"}, token=token, headers=headers)
    message = msg.FIELD_MIN_LENGTH.format(field="roleName", n=2)
    assert_error(bad, 400, message)
    assert bad.headers["X-Operation-ID"] == "op-bad"
    await barrier(api, token, tab, other)
    assert progress(tab, "op-bad") == [("start", msg.OP_START.format(operation="roles:create")), ("error", message)]
    assert [name for name, _ in without_barriers(tab)] == ["operation:progress"] * 2
    assert without_barriers(other) == []


async def test_not_found_inside_handler(api, sockets):
    token = await api.login()
    tab = await sockets(token)
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "op-404"}
    missing = await api.fetch("PUT", "/roles/999", json={"roleName": "ghost"}, token=token, headers=headers)
    assert_error(missing, 404, msg.ROLE_NOT_FOUND.format(id=999))
    await barrier(api, token, tab)
    assert progress(tab, "op-404") == [
        ("start", msg.OP_START.format(operation="roles:update")),
        ("processing", msg.OP_CHECKING),
        ("error", msg.ROLE_NOT_FOUND.format(id=999)),
    ]
    assert [e for e in changes(tab) if e["operationId"] == "op-404"] == []


async def test_unexpected_exception_is_500_with_details_only_in_the_log(api, sockets, services, monkeypatch, caplog):
    token = await api.login()
    tab, other = await sockets(token), await sockets(token)

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire at /secret/path")

    monkeypatch.setattr(services.roles, "create", broken)
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "op-boom"}
    with caplog.at_level(logging.ERROR, logger="seam.api"):
        boom = await api.fetch("POST", "/roles", json={"roleName": "editor"}, token=token, headers=headers)
    assert_error(boom, 500, msg.INTERNAL_ERROR)
    assert "secret" not in boom.text and "Traceback" not in boom.text
    monkeypatch.undo()
    await barrier(api, token, tab, other)
    assert progress(tab, "op-boom") == [
        ("start", msg.OP_START.format(operation="roles:create")),
        ("processing", msg.OP_SAVING),
        ("error", msg.INTERNAL_ERROR),
    ]
    assert "secret" not in str(tab.events)
    assert without_barriers(other) == []
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert len(logged) == 1 and "op-boom" in logged[0].getMessage()
    assert "disk on fire at /secret/path" in caplog.text and "Traceback" in caplog.text
    roles = await api.fetch("GET", "/roles", token=token)
    assert "editor" not in [r["roleName"] for r in roles.data]


async def test_read_operation_has_progress_but_no_data_changed(api, sockets):
    token = await api.login()
    tab, other = await sockets(token), await sockets(token)
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "op-read"}
    listed = await api.fetch("GET", "/users", token=token, headers=headers)
    assert listed.status == 200
    await barrier(api, token, tab, other)
    assert progress(tab, "op-read") == [
        ("start", msg.OP_START.format(operation="users:fetchAll")),
        ("processing", msg.OP_QUERYING),
        ("success", msg.USERS_FETCHED),
    ]
    assert [name for name, _ in without_barriers(tab)] == ["operation:progress"] * 3
    assert without_barriers(other) == []
    feed = await api.fetch("GET", "/changes", token=token)
    assert [c["operation"] for c in feed.data] == ["roles:create"]


async def test_concurrent_operations_of_one_name_are_told_apart_by_operation_id(api, sockets):
    token = await api.login()
    tab = await sockets(token)

    def create(name, operation_id):
        headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": operation_id}
        return api.fetch("POST", "/roles", json={"roleName": name}, token=token, headers=headers)

    await api.fetch("POST", "/roles", json={"roleName": "taken"}, token=token)
    ok, clash = await asyncio.gather(create("fresh", "op-a"), create("taken", "op-b"))
    assert ok.status == 201 and ok.headers["X-Operation-ID"] == "op-a"
    assert_error(clash, 409, msg.ROLE_EXISTS.format(name="taken"))
    assert clash.headers["X-Operation-ID"] == "op-b"
    await barrier(api, token, tab)
    assert statuses(tab, "op-a") == ["start", "processing", "success"]
    assert statuses(tab, "op-b") == ["start", "processing", "error"]
    assert progress(tab, "op-b")[-1] == ("error", msg.ROLE_EXISTS.format(name="taken"))
    created = [c["operationId"] for c in changes(tab) if c["operation"] == "roles:create"]
    assert [operation_id for operation_id in created if not operation_id.startswith("barrier-")][-1:] == ["op-a"]


async def test_operation_id_is_generated_when_absent_or_malformed(api, sockets):
    token = await api.login()
    tab = await sockets(token)
    sent = {"absent": None, "spaces": "has spaces", "long": "a" * 65, "symbols": "op/1", "max": "A-z_0.9" + "x" * 57}
    echoed = {}
    for label, operation_id in sent.items():
        headers = {"X-Socket-ID": tab.sid}
        if operation_id is not None:
            headers["X-Operation-ID"] = operation_id
        response = await api.fetch("GET", "/roles", token=token, headers=headers)
        assert response.status == 200
        echoed[label] = response.headers["X-Operation-ID"]
    assert echoed["max"] == sent["max"]
    generated = [echoed[label] for label in ("absent", "spaces", "long", "symbols")]
    assert all(GENERATED_ID.match(value) for value in generated) and len(set(generated)) == 4
    await barrier(api, token, tab)
    for operation_id in echoed.values():
        assert statuses(tab, operation_id) == ["start", "success"]
    error = await api.fetch("GET", "/users/999", token=token, headers={"X-Operation-ID": "bad id"})
    assert GENERATED_ID.match(error.headers["X-Operation-ID"])


async def test_rolled_back_mutation_emits_error_and_leaves_no_change(api, sockets, services):
    token = await api.login()
    tab, other = await sockets(token), await sockets(token)
    before = await services.changes.latest_seq()
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "op-lockout"}
    refused = await api.fetch("PUT", "/users/1", json={"roleId": 2}, token=token, headers=headers)
    assert_error(refused, 409, msg.LOCKOUT)
    await barrier(api, token, tab, other)
    assert progress(tab, "op-lockout") == [
        ("start", msg.OP_START.format(operation="users:update")),
        ("processing", msg.OP_CHECKING),
        ("processing", msg.OP_SAVING),
        ("error", msg.LOCKOUT),
    ]
    assert [c for c in changes(tab) + changes(other) if c["operationId"] == "op-lockout"] == []
    assert without_barriers(other) == []
    feed = await api.fetch("GET", f"/changes?since={before}", token=token)
    assert [c["operation"] for c in feed.data] == ["roles:create"]
    assert feed.data[0]["seq"] == before + 1
    me = await api.fetch("GET", "/users/1", token=token)
    assert me.data["isActive"] == 1


async def test_client_going_away_mid_request_still_closes_the_operation_once(
    api, sockets, services, base_url, monkeypatch
):
    token = await api.login()
    tab = await sockets(token)
    entered, release = asyncio.Event(), asyncio.Event()
    real_create = services.roles.create

    async def slow_create(*args, **kwargs):
        entered.set()
        await release.wait()
        return await real_create(*args, **kwargs)

    monkeypatch.setattr(services.roles, "create", slow_create)
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = b'{"roleName": "orphan"}'
    writer.write(
        b"POST /api/v1/roles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nX-Socket-ID: {tab.sid}\r\nX-Operation-ID: gone\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    await asyncio.wait_for(entered.wait(), 5)
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.05)  # let the server notice the closed connection before the handler resumes
    release.set()
    await tab.wait_for(lambda events: statuses(tab, "gone")[-1:] in (["success"], ["error"]))
    monkeypatch.undo()
    await barrier(api, token, tab)
    done = statuses(tab, "gone")
    assert done[:2] == ["start", "processing"] and len(done) == 3
    created = "orphan" in [r["roleName"] for r in (await api.fetch("GET", "/roles", token=token)).data]
    assert [c["operationId"] for c in changes(tab) if c["operationId"] == "gone"] == (["gone"] if created else [])
    assert done[-1] == ("success" if created else "error")

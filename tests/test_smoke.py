# SPDX-License-Identifier: MIT
"""The basic path a user takes first: health, login, a read and a mutation seen live."""

import pytest  # noqa

from tests.support.clients import ADMIN_EMAIL

pytestmark = pytest.mark.both_backends


async def test_health_and_login(api):
    health = await api.fetch("GET", "/healthz", prefix="")
    assert health.status == 200 and health.body["success"] is True
    token = await api.login()
    me = await api.fetch("GET", "/auth/me", token=token)
    assert me.status == 200
    assert me.data["user"]["email"] == ADMIN_EMAIL
    assert "password" not in me.text and "$2b$" not in me.text


async def test_mutation_emits_lifecycle_and_change(api, sockets):
    token = await api.login()
    tab = await sockets(token)
    other = await sockets(token)
    created = await api.fetch(
        "POST",
        "/roles",
        json={"roleName": "editor"},
        token=token,
        headers={"X-Socket-ID": tab.sid, "X-Operation-ID": "op-1"},
    )
    assert created.status == 201
    assert created.headers["X-Operation-ID"] == "op-1"
    await tab.wait_for(lambda events: len([e for e in events if e[0] == "data:changed"]) == 1)
    statuses = [e["status"] for e in tab.of("operation:progress")]
    assert statuses == ["start", "processing", "success"]
    assert {e["operationId"] for e in tab.of("operation:progress")} == {"op-1"}
    await other.wait_for(lambda events: len(events) == 1)
    assert other.events[0][0] == "data:changed"
    change = other.events[0][1]
    assert change["operation"] == "roles:create" and change["initiatorSocketId"] == tab.sid
    assert change["seq"] == 1 and change["operationId"] == "op-1"

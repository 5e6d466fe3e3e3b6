# SPDX-License-Identifier: MIT
"""log_format=json (issue 15): one JSON object per line, and every line a request logs carries its operationId."""

import asyncio
import datetime
import json

import aiohttp

from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD

ACCESS_FIELDS = {"method", "route", "path", "status", "duration_ms", "operationId", "userId", "client"}


def json_lines(text):
    """Every line of the log parsed: a line that is not one JSON object fails the test."""
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert datetime.datetime.fromisoformat(line["time"].replace("Z", "+00:00")).tzinfo is not None
    return lines


async def test_json_lines_carry_the_operation_id_of_their_request(processes):
    seam = processes.seam(log_format="json")
    login = seam.base_url + "/api/v1/auth/login"

    async def fail_login(session, email, operation_id):
        body = {"email": email, "password": "wrong-pass-1"}
        async with session.post(login, json=body, headers={"X-Operation-ID": operation_id}) as response:
            assert response.status == 401

    async with aiohttp.ClientSession() as session:  # two connections, both requests in flight at once
        await asyncio.gather(
            fail_login(session, "ana@seam.test", "op-ana"), fail_login(session, "bea@seam.test", "op-bea")
        )
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:  # one kept-alive connection
        await fail_login(session, "keep@seam.test", "op-keep")
        async with session.get(seam.base_url + "/healthz") as response:
            assert response.status == 200
        body = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        async with session.post(login, json=body) as response:
            token = (await response.json())["data"]["token"]
        async with session.get(seam.base_url + "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}) as me:
            generated = me.headers["X-Operation-ID"]
    assert seam.stop() == 0

    lines = json_lines(seam.output())
    failed = {
        line["message"].rsplit(" ", 1)[1].strip("'"): line["operationId"]
        for line in lines
        if line["logger"] == "seam.auth"
    }
    assert failed == {"ana@seam.test": "op-ana", "bea@seam.test": "op-bea", "keep@seam.test": "op-keep"}

    access = [line for line in lines if line["logger"] == "seam.access"]
    assert all(ACCESS_FIELDS <= set(line) for line in access)
    assert [(a["method"], a["route"], a["status"], a["operationId"], a["userId"]) for a in access[-3:]] == [
        ("GET", "/healthz", 200, None, None),  # the same connection as op-keep: no id left over from it
        ("POST", "/api/v1/auth/login", 200, access[-2]["operationId"], None),
        ("GET", "/api/v1/auth/me", 200, generated, 1),
    ]
    refused = [a["operationId"] for a in access if a["status"] == 401]
    assert sorted(refused) == ["op-ana", "op-bea", "op-keep"]
    assert {a["client"] for a in access} == {"127.0.0.1"}
    assert all(isinstance(a["duration_ms"], float) and a["path"] == a["route"] for a in access)

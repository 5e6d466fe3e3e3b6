# SPDX-License-Identifier: MIT
"""The access log: one line per request with method, path, status, duration, operation id, user id and client
address."""

import logging
import re

import pytest

from tests.support.clients import ADMIN_PASSWORD, PASSWORD

pytestmark = pytest.mark.both_backends

LINE = re.compile(
    r"^(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+\.\d)ms"
    r" op=(?P<op>\S+) user=(?P<user>\S+) ip=(?P<ip>\S+)$"
)


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.INFO, logger="seam.access")

    def lines():
        return [r.getMessage() for r in caplog.records if r.name == "seam.access"]

    return lines


def parsed(line):
    match = LINE.match(line)
    assert match, line
    return match.groupdict()


async def test_one_line_per_request_with_its_fields(api, access):
    login = await api.fetch(
        "POST",
        "/auth/login",
        json={"email": "admin@seam.test", "password": ADMIN_PASSWORD},
        headers={"X-Operation-ID": "op-login"},
    )
    token = login.data["token"]
    await api.fetch("GET", "/users?q=needle-in-query", token=token, headers={"X-Operation-ID": "op-list"})
    await api.fetch("POST", "/roles", json={"roleName": "secret-role-name"}, token=token)
    await api.fetch("GET", "/auth/me", token="bad-token-value")
    await api.fetch("GET", "/nowhere")
    lines = [parsed(line) for line in access()]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("POST", "/api/v1/auth/login", "200"),
        ("GET", "/api/v1/users", "200"),
        ("POST", "/api/v1/roles", "201"),
        ("GET", "/api/v1/auth/me", "401"),
        ("GET", "/api/v1/nowhere", "404"),
    ]
    assert [x["op"] for x in lines[:2]] == ["op-login", "op-list"]
    assert lines[2]["op"] not in ("-", "op-list")  # generated
    assert [x["user"] for x in lines] == ["-", "1", "1", "-", "-"]
    assert {x["ip"] for x in lines} == {"127.0.0.1"}
    text = "\n".join(access())
    for leaked in ("needle-in-query", "secret-role-name", "bad-token-value", token, ADMIN_PASSWORD):
        assert leaked not in text


async def test_never_logs_bodies_tokens_or_passwords(api, access, caplog):
    admin = await api.login()
    user_id = await api.create_user(admin, "logged@seam.test", 2)
    reset = await api.fetch("PUT", f"/users/{user_id}/resetPassword", token=admin)
    temporary = reset.data["temporaryPassword"]
    await api.fetch("POST", "/auth/login", json={"email": "logged@seam.test", "password": "wrong-guess-pw"})
    assert len(access()) == 4
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (admin, ADMIN_PASSWORD, PASSWORD, temporary, "wrong-guess-pw", "Test User"):
        assert secret not in everything
    # The one exception is the email a failed login tried, for fail2ban (SPEC §10, deploy/fail2ban/).
    mentions = [(r.name, r.getMessage()) for r in caplog.records if "logged@seam.test" in r.getMessage()]
    assert mentions == [("seam.auth", "failed login from 127.0.0.1 for 'logged@seam.test'")]


@pytest.mark.parametrize(
    "overrides, logged",
    [({"proxy_headers": True}, "203.0.113.7"), ({}, "127.0.0.1")],
    ids=["behind a proxy", "direct"],
)
async def test_the_client_address_is_the_proxy_aware_one(api, access, overrides, logged):
    """Behind nginx (proxy_headers) the line names the client from X-Real-IP, as login throttling counts it;
    served directly, a client's own X-Real-IP is ignored (it could forge any address)."""
    await api.fetch("GET", "/roles", headers={"X-Real-IP": "203.0.113.7"})
    assert [parsed(line)["ip"] for line in access()] == [logged]

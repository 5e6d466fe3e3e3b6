# SPDX-License-Identifier: MIT
"""The login audit (issue 18.10): every answered login is recorded without a password, bounded, and readable
through GET /users/logins by the roles holding that permission only."""

import re

import pytest

import messages as msg
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, assert_error
from tests.support.database import sql
from tests.test_throttle import login_from

pytestmark = pytest.mark.both_backends

USER_ROLE = 2
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def stored(config):
    return sql(config, "SELECT outcome, userId, email, address FROM logins ORDER BY id")


def entries(response):
    assert response.status == 200, response.body
    return [(e["outcome"], e["userId"], e["email"], e["full_name"], e["address"]) for e in response.data]


async def test_every_answered_login_is_recorded_without_a_password(api, base_url, config):
    admin = await api.login()
    ana = await api.create_user(admin, "ana@seam.test", USER_ROLE, full_name="Ana Pérez")
    paused = await api.create_user(admin, "paused@seam.test", USER_ROLE, full_name="Pausada")
    assert (await api.fetch("PUT", f"/users/{paused}/state", json={"isActive": 0}, token=admin)).status == 200

    assert await login_from(base_url, "127.0.0.2", "ANA@seam.test", PASSWORD) == 200
    assert await login_from(base_url, "127.0.0.3", "ana@seam.test", "guess-one-1") == 401
    assert await login_from(base_url, "127.0.0.4", "typed-my-password-here", "guess-two-2") == 401
    assert await login_from(base_url, "127.0.0.5", "paused@seam.test", PASSWORD) == 423
    assert await login_from(base_url, "127.0.0.6", "paused@seam.test", "guess-three-3") == 401

    listed = await api.fetch("GET", "/users/logins", token=admin)
    assert listed.body["message"] == msg.LOGINS_FETCHED
    assert listed.body["meta"] == {"limit": 50, "next": None}
    # Newest first; the account is named only when the email is one (its stored spelling), never what was typed.
    assert entries(listed) == [
        ("failure", paused, "paused@seam.test", "Pausada", "127.0.0.6"),
        ("inactive", paused, "paused@seam.test", "Pausada", "127.0.0.5"),
        ("failure", None, None, None, "127.0.0.4"),
        ("failure", ana, "ana@seam.test", "Ana Pérez", "127.0.0.3"),
        ("success", ana, "ana@seam.test", "Ana Pérez", "127.0.0.2"),
        ("success", 1, ADMIN_EMAIL, "Administrador", "127.0.0.1"),
    ]
    assert all(ISO_UTC.match(e["at"]) for e in listed.data)
    ids = [e["id"] for e in listed.data]
    assert ids == sorted(ids, reverse=True)
    everything = " ".join(str(v) for row in sql(config, "SELECT * FROM logins") for v in row)
    for secret in ("guess-", PASSWORD, ADMIN_PASSWORD, "typed-my-password-here", "$2b$"):
        assert secret not in everything
    # A login stays a read: no change row, nothing in the feed.
    feed = await api.fetch("GET", "/changes?limit=500", token=admin)
    assert "auth:login" not in [c["operation"] for c in feed.data]


@pytest.mark.parametrize("overrides", [{"login_max_failures": 2}])
async def test_refused_attempts_check_no_password_and_are_not_recorded(api, base_url, config, overrides):
    for _ in range(2):
        assert await login_from(base_url, "127.0.0.9", ADMIN_EMAIL, "wrong-password") == 401
    for _ in range(3):
        assert await login_from(base_url, "127.0.0.9", ADMIN_EMAIL, "wrong-password") == 429
    assert stored(config) == [("failure", 1, ADMIN_EMAIL, "127.0.0.9")] * 2


async def test_only_the_newest_attempts_are_kept(api, services, config):
    services.logins.kept = 3
    for _ in range(5):
        await api.login()
    assert [row[0] for row in sql(config, "SELECT id FROM logins ORDER BY id")] == [3, 4, 5]


async def test_filters_and_pages(api, base_url):
    admin = await api.login()
    ana = await api.create_user(admin, "ana@seam.test", USER_ROLE)
    for _ in range(3):
        assert await login_from(base_url, "127.0.0.2", "ana@seam.test", PASSWORD) == 200
    assert await login_from(base_url, "127.0.0.2", "ana@seam.test", "wrong-password") == 401
    everything = (await api.fetch("GET", "/users/logins", token=admin)).data
    assert len(everything) == 5

    first = await api.fetch("GET", f"/users/logins?userId={ana}&outcome=success&limit=2", token=admin)
    assert [e["id"] for e in first.data] == [everything[1]["id"], everything[2]["id"]]
    assert first.body["meta"] == {"limit": 2, "next": everything[2]["id"]}
    rest = await api.fetch(
        "GET", f"/users/logins?userId={ana}&outcome=success&limit=2&before={everything[2]['id']}", token=admin
    )
    assert [e["id"] for e in rest.data] == [everything[3]["id"]] and rest.body["meta"]["next"] is None
    failures = await api.fetch("GET", "/users/logins?outcome=failure", token=admin)
    assert [e["id"] for e in failures.data] == [everything[0]["id"]]

    # dateFrom is inclusive and dateTo exclusive, as moments with their offset.
    middle = everything[2]["at"]
    since = await api.fetch("GET", f"/users/logins?dateFrom={middle}", token=admin)
    assert [e["id"] for e in since.data] == [e["id"] for e in everything if e["at"] >= middle]
    assert everything[2]["id"] in [e["id"] for e in since.data]
    until = await api.fetch("GET", f"/users/logins?dateTo={middle}", token=admin)
    assert [e["id"] for e in until.data] == [e["id"] for e in everything if e["at"] < middle]
    shifted = middle.replace("Z", "+00:00")
    assert (await api.fetch("GET", f"/users/logins?dateFrom={shifted.replace('+', '%2B')}", token=admin)).data == (
        since.data
    )
    assert (await api.fetch("GET", "/users/logins?dateFrom=2999-01-01T00:00:00Z", token=admin)).data == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("outcome=maybe", "'outcome' tiene un formato inválido"),
        ("dateFrom=2025-01-01", "'dateFrom' tiene un formato inválido"),
        ("dateTo=2025-01-01T10:00:00", "'dateTo' tiene un formato inválido"),
        ("dateTo=yesterday", "'dateTo' tiene un formato inválido"),
        ("limit=0", "'limit' debe ser mayor o igual a 1"),
        ("limit=201", "'limit' debe ser menor o igual a 200"),
        ("before=x", "'before' debe ser de tipo number"),
    ],
)
async def test_bad_filters_are_refused(api, query, message):
    admin = await api.login()
    assert_error(await api.fetch("GET", f"/users/logins?{query}", token=admin), 400, message)


async def test_only_roles_holding_the_permission_read_the_audit(api):
    admin = await api.login()
    readers = await api.create_role(admin, "user readers", ["GET /api/v1/users"])
    await api.create_user(admin, "reader@seam.test", readers)
    reader = await api.login("reader@seam.test", PASSWORD)
    assert_error(await api.fetch("GET", "/users/logins", token=reader), 403, msg.FORBIDDEN)
    auditors = await api.create_role(admin, "auditors", ["GET /api/v1/users/logins"])
    await api.create_user(admin, "auditor@seam.test", auditors)
    auditor = await api.login("auditor@seam.test", PASSWORD)
    assert (await api.fetch("GET", "/users/logins", token=auditor)).status == 200

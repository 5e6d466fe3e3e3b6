"""The per-request shortcuts (bench/README.md) keep behaviour: cached tokens still expire, pages still count."""

import sqlite3

import pytest

import messages as msg
from handlers import security
from store.models import User, from_rows
from tests.conftest import assert_error


async def test_a_remembered_token_is_refused_once_it_expires(api, services, monkeypatch):
    token = await api.login()
    assert (await api.fetch("GET", "/auth/me", token=token)).status == 200  # decoded and remembered
    expires = services.tokens.decode(token)["exp"]
    monkeypatch.setattr(security.time, "time", lambda: expires + 1)
    assert_error(await api.fetch("GET", "/auth/me", token=token), 401, msg.TOKEN_INVALID)


async def test_a_tampered_token_is_refused_even_after_the_real_one_was_seen(api):
    token = await api.login()
    assert (await api.fetch("GET", "/auth/me", token=token)).status == 200
    head, claims, signature = token.split(".")
    forged = f"{head}.{claims}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert_error(await api.fetch("GET", "/auth/me", token=forged), 401, msg.TOKEN_INVALID)


async def test_user_pages_report_the_total_also_past_the_last_page(api):
    token = await api.login()
    role_id = (await api.fetch("GET", "/auth/me", token=token)).data["user"]["roleId"]
    for i in range(3):
        await api.create_user(token, f"page{i}@seam.test", role_id)
    first = await api.fetch("GET", "/users?limit=2", token=token)
    assert [u["email"] for u in first.data] == ["admin@seam.test", "page0@seam.test"]
    assert first.body["meta"] == {"page": 1, "limit": 2, "total": 4}
    past = await api.fetch("GET", "/users?limit=2&page=9", token=token)
    assert past.data == [] and past.body["meta"] == {"page": 9, "limit": 2, "total": 4}
    found = await api.fetch("GET", "/users?q=page1", token=token)
    assert [u["email"] for u in found.data] == ["page1@seam.test"] and found.body["meta"]["total"] == 1


def test_rows_must_start_with_the_model_fields_in_order():
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    swapped = conn.execute("SELECT 1 AS full_name, 2 AS idUser").fetchall()
    with pytest.raises(RuntimeError):
        from_rows(User, swapped)

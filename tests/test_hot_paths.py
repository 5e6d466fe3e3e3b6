# SPDX-License-Identifier: MIT
"""The per-request shortcuts (bench/README.md) keep behaviour: cached tokens still expire, pages still count."""

import sqlite3

import pytest

import messages as msg
import security.tokens
from store.models import User, from_rows
from tests.support.clients import assert_error


async def test_a_remembered_token_is_refused_once_it_expires(api, services, monkeypatch):
    token = await api.login()
    assert (await api.fetch("GET", "/auth/me", token=token)).status == 200  # decoded and remembered
    expires = services.tokens.decode(token)["exp"]
    monkeypatch.setattr(security.tokens.time, "time", lambda: expires + 1)
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


async def test_a_kept_user_page_never_outlives_a_write(api, services, tmp_path):
    """Each write that shows in the list is seen by the very next read of the same page."""
    token = await api.login()
    user_id = await api.create_user(token, "kept@seam.test", 2)

    async def listed():
        page = await api.fetch("GET", "/users?limit=10", token=token)
        return {u["email"]: u for u in page.data}, page.body["meta"]["total"]

    assert (await listed())[1] == 2
    assert (await listed())[1] == 2  # served from the kept page
    await api.fetch("PUT", f"/users/{user_id}", json={"full_name": "Renamed"}, token=token)
    assert (await listed())[0]["kept@seam.test"]["full_name"] == "Renamed"
    await api.fetch("PUT", f"/users/{user_id}/state", json={"isActive": 0}, token=token)
    assert (await listed())[0]["kept@seam.test"]["isActive"] == 0
    await api.fetch("PUT", "/roles/2", json={"roleName": "staff"}, token=token)
    assert (await listed())[0]["kept@seam.test"]["roleName"] == "staff"
    await api.create_user(token, "new@seam.test", 2)
    assert (await listed())[1] == 3
    await api.fetch("DELETE", f"/users/{user_id}", token=token)
    assert "kept@seam.test" not in (await listed())[0]
    with sqlite3.connect(services.config["db_path"]) as other_process:  # e.g. a maintenance subcommand
        other_process.execute("UPDATE users SET full_name = 'Outside' WHERE email = 'new@seam.test'")
    await services._check_external_changes()  # what the server's once-a-second poll runs
    assert (await listed())[0]["new@seam.test"]["full_name"] == "Outside"


def test_rows_must_start_with_the_model_fields_in_order():
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    swapped = conn.execute("SELECT 1 AS full_name, 2 AS idUser").fetchall()
    with pytest.raises(RuntimeError):
        from_rows(User, swapped)

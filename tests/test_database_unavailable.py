# SPDX-License-Identifier: MIT
"""A database that cannot take a write (locked by another process, full): 503 with Retry-After, the operation's
`error` event, nothing written or announced; a maintenance command says so in one line (issue 18.6).

test_first_week.py covers the same through `python seam.py` and the binary, with a real full disk."""

import sqlite3
from contextlib import closing

import pytest

import messages as msg
from bench.seam_process import seam_env
from tests.support.clients import ADMIN_EMAIL, assert_error
from tests.support.processes import run_seam_async
from tests.support.realtime import barrier, changes, progress

pytestmark = pytest.mark.timeout(60)


async def test_a_lock_held_elsewhere_is_503_with_the_operation_error_and_no_change(api, sockets, services, config):
    admin = await api.login()
    tab = await sockets(admin)
    before = await services.changes.latest_seq()
    headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": "locked"}
    with closing(sqlite3.connect(config["db_path"], isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        refused = await api.fetch("POST", "/roles", json={"roleName": "never"}, token=admin, headers=headers)
        other.execute("ROLLBACK")
    assert_error(refused, 503, msg.DATABASE_BUSY)
    assert refused.headers["Retry-After"] == "5"
    assert await services.changes.latest_seq() == before
    name = await barrier(api, admin, tab)
    assert progress(tab, "locked")[0][0] == "start" and progress(tab, "locked")[-1] == ("error", msg.DATABASE_BUSY)
    assert [c["operationId"] for c in changes(tab)] == [name]
    assert "never" not in [r["roleName"] for r in (await api.fetch("GET", "/roles", token=admin)).data]


async def test_a_maintenance_command_on_a_locked_database_is_one_line(api, services, config, tmp_path):
    env = seam_env(db_path=config["db_path"], bcrypt_rounds=4, admin_email=ADMIN_EMAIL)
    with closing(sqlite3.connect(config["db_path"], isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        result = await run_seam_async("create-admin", "ops@seam.test", cwd=tmp_path, env=env)
        other.execute("ROLLBACK")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"seam: {msg.DATABASE_BUSY}" and "Traceback" not in result.stderr
    assert await services.users.by_email("ops@seam.test") is None


async def test_a_full_database_is_503_until_it_has_room(api, sockets, services):
    """SQLite's own limit on the database's size (PRAGMA max_page_count) makes it full for real."""
    admin = await api.login()
    tab = await sockets(admin)
    [(pages,)] = await services.db.writer.execute_fetchall("PRAGMA page_count")
    await services.db.writer.execute(f"PRAGMA max_page_count = {pages}")
    for n in range(500):  # the first roles may fit in pages that still have room
        headers = {"X-Socket-ID": tab.sid, "X-Operation-ID": f"full-{n}"}
        response = await api.fetch("POST", "/roles", json={"roleName": f"full-{n}"}, token=admin, headers=headers)
        if response.status != 201:
            break
    assert_error(response, 503, msg.DATABASE_FULL)
    assert response.headers["Retry-After"] == "60"
    await services.db.writer.execute(f"PRAGMA max_page_count = {2**30}")
    name = await barrier(api, admin, tab)
    assert progress(tab, f"full-{n}")[-1] == ("error", msg.DATABASE_FULL)
    assert [c["operationId"] for c in changes(tab)] == [*(f"full-{k}" for k in range(n)), name]
    assert (await api.fetch("POST", "/roles", json={"roleName": f"full-{n}"}, token=admin)).status == 201

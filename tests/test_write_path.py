# SPDX-License-Identifier: MIT
"""One write path (store/unit.py): a failed COMMIT ends cleanly, a commit is always announced with its effects,
maintenance commands write changes like the API does, and migrations run real statement lists."""

import asyncio
import re
import sqlite3
from contextlib import closing

import aiosqlite
import pytest

import messages as msg
from bench.seam_process import seam_env
from handlers.users import UserStateHandler
from store.migrations import MIGRATIONS, SchemaTooNew, migrate, statements
from store.unit import Origin
from tests.support.clients import ADMIN_EMAIL, PASSWORD, assert_error
from tests.support.database import database_env
from tests.support.processes import run_seam_async
from tests.support.realtime import barrier, changes

pytestmark = [pytest.mark.timeout(90), pytest.mark.both_backends]


@pytest.mark.sqlite_only  # a COMMIT made to fail through SQLite's deferred foreign keys
async def test_a_failed_commit_rolls_back_and_the_server_keeps_writing(api, services, config):
    """A deferred foreign key fails at COMMIT, which leaves SQLite's transaction open unless it is rolled back."""
    admin = await api.login()
    before = await services.changes.latest_seq()
    with pytest.raises(sqlite3.IntegrityError):
        async with services.writes.unit(Origin("users:create", "deferred")) as tx:
            await tx.execute("PRAGMA defer_foreign_keys = ON")
            await tx.execute(
                "INSERT INTO users (full_name, email, password, roleId) VALUES ('Ghost', 'ghost@seam.test', 'x', 999)"
            )
            tx.record("m", {})
    created = await api.fetch("POST", "/roles", json={"roleName": "after-the-failure"}, token=admin)
    assert created.status == 201, created.body
    feed = await api.fetch("GET", f"/changes?since={before}", token=admin)
    assert [c["operationId"] for c in feed.data] == [created.headers["X-Operation-ID"]]
    with closing(sqlite3.connect(f"file:{config['db_path']}?mode=ro", uri=True)) as db:
        assert db.execute("SELECT COUNT(*) FROM users WHERE email = 'ghost@seam.test'").fetchone()[0] == 0


async def test_a_handler_failing_after_commit_still_announces_the_change_with_its_effects(
    api, sockets, services, monkeypatch
):
    admin = await api.login()
    user_id = await api.create_user(admin, "disabled@seam.test", 2)
    victim = await sockets(await api.login("disabled@seam.test", PASSWORD))
    watcher = await sockets(admin)

    async def broken(*args, **kwargs):
        raise RuntimeError("after the commit")

    monkeypatch.setattr(UserStateHandler, "ok", broken)
    failed = await api.fetch("PUT", f"/users/{user_id}/state", json={"isActive": 0}, token=admin)
    assert_error(failed, 500, msg.INTERNAL_ERROR)
    monkeypatch.undo()
    await victim.disconnected.wait()
    assert victim.of("session:revoked") == [{"reason": msg.REVOKED_DISABLED}]
    await barrier(api, admin, watcher)
    (disabled,) = [c for c in changes(watcher) if c["operation"] == "users:update"]
    assert disabled["data"]["isActive"] == 0 and disabled["actorId"] == 1


async def test_reset_password_from_the_cli_is_a_change_and_revokes_open_sockets(api, sockets, config, tmp_path):
    admin = await api.login()
    user_id = await api.create_user(admin, "forgetful@seam.test", 2)
    tab = await sockets(await api.login("forgetful@seam.test", PASSWORD))
    watcher = await sockets(admin)
    before = (await api.fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    env = seam_env(**database_env(config), bcrypt_rounds=4, admin_email=ADMIN_EMAIL)
    result = await run_seam_async("reset-password", "forgetful@seam.test", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    temporary = re.search(r"new temporary password for forgetful@seam.test: (\S+) ", result.stdout).group(1)
    await asyncio.wait_for(tab.disconnected.wait(), 10)  # the server reads the command's change from the table
    assert tab.of("session:revoked") == [{"reason": msg.REVOKED_PASSWORD_RESET}]
    await watcher.wait_for(lambda events: changes(watcher))
    (live,) = changes(watcher)
    feed = (await api.fetch("GET", f"/changes?since={before}", token=admin)).data
    assert [(c["operation"], c["actorId"], c["initiatorSocketId"]) for c in feed] == [("users:update", None, None)]
    assert feed[0]["message"] == msg.USER_PASSWORD_RESET and feed[0]["data"]["idUser"] == user_id
    assert live == {k: v for k, v in feed[0].items() if k not in ("before", "after")}
    assert temporary not in str(feed) and "$2b$" not in str(feed)


async def test_create_admin_from_the_cli_is_announced_to_readers_of_users(api, sockets, config, tmp_path):
    admin = await api.login()
    watcher = await sockets(admin)
    env = seam_env(**database_env(config), bcrypt_rounds=4, admin_email=ADMIN_EMAIL, admin_password=PASSWORD)
    result = await run_seam_async("create-admin", "ops@seam.test", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    await watcher.wait_for(lambda events: changes(watcher), timeout=10)
    (created,) = changes(watcher)
    assert (created["operation"], created["actorId"], created["message"]) == ("users:create", None, msg.USER_CREATED)
    assert created["data"]["email"] == "ops@seam.test" and created["data"]["roleName"] == "admin"


async def test_a_migration_with_a_trigger_applies_and_a_failing_one_leaves_nothing(tmp_path):
    trigger = """
        CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, edited INTEGER NOT NULL DEFAULT 0);
        CREATE TRIGGER notes_edited AFTER UPDATE OF body ON notes
        BEGIN
            UPDATE notes SET edited = edited + 1 WHERE id = NEW.id;
        END;
        INSERT INTO notes (body) VALUES ('a; b');
    """
    broken = "CREATE TABLE half (id INTEGER);\nINSERT INTO missing_table VALUES (1);"
    assert len(statements(trigger)) == 3
    async with aiosqlite.connect(tmp_path / "m.db", isolation_level=None) as conn:
        await migrate(conn, [("notes", trigger)])
        await conn.execute("UPDATE notes SET body = 'c' WHERE id = 1")
        assert await conn.execute_fetchall("SELECT body, edited FROM notes") == [("c", 1)]
        with pytest.raises(sqlite3.OperationalError):
            await migrate(conn, [("notes", trigger), ("broken", broken)])
        assert not conn.in_transaction
        assert await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE name = 'half'") == []
        assert await conn.execute_fetchall("PRAGMA user_version") == [(1,)]


async def test_a_database_from_a_newer_seam_is_refused(tmp_path):
    async with aiosqlite.connect(tmp_path / "new.db", isolation_level=None) as conn:
        await conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        with pytest.raises(SchemaTooNew):
            await migrate(conn)

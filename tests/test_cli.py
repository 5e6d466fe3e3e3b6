# SPDX-License-Identifier: MIT
"""Maintenance subcommands (SPEC §8), run as separate processes against a database the test server is using."""

import asyncio
import pathlib
import re
import runpy
import sqlite3
import unicodedata
from contextlib import closing

import pytest

import messages as msg
import seam
from app.config import DEFAULTS, SETTINGS
from bench.seam_process import seam_env
from handlers import ROUTE_TABLE
from tests.support.clients import ADMIN_EMAIL, PASSWORD, assert_error
from tests.support.processes import run_seam, run_seam_async

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def env(config):
    return seam_env(db_path=config["db_path"], bcrypt_rounds=4, admin_email=ADMIN_EMAIL)


def test_help_lists_settings_and_commands(tmp_path):
    result = run_seam("--help", cwd=tmp_path, env=seam_env())
    assert result.returncode == 0
    for setting in SETTINGS:
        assert "--" + setting.name.replace("_", "-") in result.stdout, setting.name
    for command in ("routes", "create-admin EMAIL", "reset-password EMAIL", "backup PATH"):
        assert command in result.stdout
    assert not (tmp_path / "seam.db").exists()


def test_every_setting_is_documented_with_its_default():
    """seam.conf holds every setting at its default (and nothing else); the README's table names each one."""
    root = pathlib.Path(seam.__file__).parent
    conf = {k: v for k, v in runpy.run_path(str(root / "seam.conf")).items() if not k.startswith("__")}
    assert conf == DEFAULTS
    readme = (root / "README.md").read_text()
    assert [s.name for s in SETTINGS if f"| `{s.name}` |" not in readme] == []


def test_routes_prints_the_catalog(tmp_path):
    result = run_seam("routes", cwd=tmp_path, env=seam_env())
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == len(ROUTE_TABLE)
    for route, line in zip(ROUTE_TABLE, lines, strict=True):
        assert line.split()[:3] == [route.method, "/api/v1" + route.pattern, route.guard]
        if route.guard == "rbac":
            assert line.endswith(route.permission)
    assert not (tmp_path / "seam.db").exists()


def test_unknown_command_is_one_line(tmp_path):
    result = run_seam("frobnicate", cwd=tmp_path, env=seam_env())
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "frobnicate" in result.stderr


async def test_create_admin_then_login(api, env, tmp_path):
    given = await run_seam_async(
        "create-admin", "ops@seam.test", cwd=tmp_path, env={**env, "SEAM_ADMIN_PASSWORD": PASSWORD}
    )
    assert given.returncode == 0, given.stderr
    assert PASSWORD not in given.stdout and "password" not in given.stdout
    login = await api.fetch("POST", "/auth/login", json={"email": "ops@seam.test", "password": PASSWORD})
    assert login.status == 200 and login.data["user"]["roleName"] == "admin"
    assert login.data["mustChangePassword"] is False
    assert (await api.fetch("GET", "/users", token=login.data["token"])).status == 200

    printed = await run_seam_async("create-admin", "ops2@seam.test", cwd=tmp_path, env=env)
    assert printed.returncode == 0, printed.stderr
    password = re.search(r"with password (\S+) \(shown once\)", printed.stdout).group(1)
    login = await api.fetch("POST", "/auth/login", json={"email": "ops2@seam.test", "password": password})
    assert login.status == 200 and login.data["mustChangePassword"] is True

    duplicate = await run_seam_async("create-admin", "OPS@seam.test", cwd=tmp_path, env=env)
    assert duplicate.returncode != 0
    assert duplicate.stderr.strip().splitlines() == [f"seam: {msg.EMAIL_IN_USE}"]


async def test_reset_password_revokes_tokens_of_a_running_server(api, env, tmp_path):
    admin = await api.login()
    await api.create_user(admin, "forgetful@seam.test", 2)
    token = await api.login("forgetful@seam.test", PASSWORD)
    assert (await api.fetch("GET", "/auth/me", token=token)).status == 200  # cached now
    result = await run_seam_async("reset-password", "forgetful@seam.test", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    temporary = re.search(r"new temporary password for forgetful@seam.test: (\S+) ", result.stdout).group(1)
    # The server notices another process's commit within about a second (PRAGMA data_version poll).
    for _ in range(100):
        response = await api.fetch("GET", "/auth/me", token=token)
        if response.status == 401:
            break
        await asyncio.sleep(0.05)
    assert_error(response, 401, msg.TOKEN_INVALID)
    login = await api.fetch("POST", "/auth/login", json={"email": "forgetful@seam.test", "password": temporary})
    assert login.status == 200 and login.data["mustChangePassword"] is True
    missing = await run_seam_async("reset-password", "nobody@seam.test", cwd=tmp_path, env=env)
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
    assert "nobody@seam.test" in missing.stderr


async def test_backup_while_serving(api, env, tmp_path):
    admin = await api.login()
    await api.create_user(admin, "backed@seam.test", 2)
    writes = asyncio.ensure_future(
        asyncio.gather(*(api.fetch("POST", "/roles", json={"roleName": f"role-{n}"}, token=admin) for n in range(20)))
    )
    target = tmp_path / "copy.db"
    result = await run_seam_async("backup", str(target), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert all(r.status == 201 for r in await writes)
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        emails = {r[0] for r in copy.execute("SELECT email FROM users")}
        roles = copy.execute("SELECT COUNT(*) FROM roles").fetchone()[0]
    assert emails == {ADMIN_EMAIL, "backed@seam.test"}
    assert 2 <= roles <= 22
    # The server is unaffected.
    assert (await api.fetch("GET", "/users", token=admin)).body["meta"]["total"] == 2


@pytest.mark.parametrize("target", ["missing-dir/copy.db", "not-a-database.txt", "SELF"])
def test_backup_to_a_bad_target_is_one_line(services, config, tmp_path, monkeypatch, capsys, target):
    """Run in-process against the database the test's services hold open, as a running server would."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEAM_DB_PATH", config["db_path"])
    (tmp_path / "not-a-database.txt").write_text("hello\n")
    before = pathlib.Path(config["db_path"]).read_bytes()
    path = config["db_path"] if target == "SELF" else target
    assert seam.main(["seam.py", "backup", path]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and path in captured.err
    assert (tmp_path / "not-a-database.txt").read_text() == "hello\n"
    assert pathlib.Path(config["db_path"]).read_bytes() == before


def test_create_admin_refuses_a_malformed_email(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEAM_DB_PATH", str(tmp_path / "seam.db"))
    assert seam.main(["seam.py", "create-admin", "not an email"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().splitlines() == ["seam: 'not an email' is not an email address"]
    assert not (tmp_path / "seam.db").exists()


@pytest.mark.parametrize("email", ["ops@seam.test\n", "op\u200bs@seam.test", "ops@seam.test\r"])
def test_create_admin_applies_the_api_email_rules(tmp_path, monkeypatch, capsys, email):
    """A trailing newline (e.g. from a pasted line) or an invisible character is refused, in one line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEAM_DB_PATH", str(tmp_path / "seam.db"))
    assert seam.main(["seam.py", "create-admin", email]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.splitlines() == [f"seam: {email!r} is not an email address"]
    assert not (tmp_path / "seam.db").exists()


def test_create_admin_stores_the_normal_form_and_checks_the_password(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEAM_DB_PATH", str(tmp_path / "seam.db"))
    monkeypatch.setenv("SEAM_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("SEAM_ADMIN_PASSWORD", "ñ" * 40)
    decomposed = unicodedata.normalize("NFD", "josé@seam.test")
    assert seam.main(["seam.py", "create-admin", decomposed]) == 2
    assert capsys.readouterr().err.splitlines() == ["seam: 'SEAM_ADMIN_PASSWORD' no debe exceder 72 bytes"]
    monkeypatch.setenv("SEAM_ADMIN_PASSWORD", PASSWORD)
    assert seam.main(["seam.py", "create-admin", decomposed]) == 0
    with closing(sqlite3.connect(tmp_path / "seam.db")) as db:
        emails = [row[0] for row in db.execute("SELECT email FROM users ORDER BY idUser")]
    assert emails[-1] == unicodedata.normalize("NFC", "josé@seam.test") != decomposed
    # Once the database is seeded the variable is unused: a leftover short value does not stop anything.
    monkeypatch.setenv("SEAM_ADMIN_PASSWORD", "x")
    assert seam.main(["seam.py", "reset-password", decomposed]) == 0

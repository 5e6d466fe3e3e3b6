# SPDX-License-Identifier: MIT
"""First start, restart, catalog top-up, invalid configuration and graceful shutdown (SPEC §4, §8, §9)."""

import os
import re
import sqlite3
import threading
from contextlib import closing

import pytest

import messages as msg
import seam
from app.config import ConfigError, validate
from app.services import Services
from bench.seam_process import http_json, seam_env
from handlers import permission_catalog
from store.seed import DEFAULT_MENU
from tests.support.clients import ADMIN_EMAIL
from tests.support.processes import run_seam

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - only ever validated here, never bound
PASSWORD_LINE = re.compile(r"SEAM first start: admin account (\S+) with password (\S+) ")


def counts(path):
    with closing(sqlite3.connect(path)) as db:
        return {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("roles", "users", "permissions", "permissionXRole", "sidebarItems", "roleXItem")
        }


def admin_grants(path):
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT p.nameUri FROM permissionXRole x JOIN permissions p ON p.idPermission = x.permissionId "
            "JOIN roles r ON r.idRole = x.roleId WHERE r.roleName = 'admin'"
        ).fetchall()
    return {r[0] for r in rows}


async def started(config, password=None):
    return await Services(config, permission_catalog()).start(password)


async def test_first_start_seeds_once_and_restart_keeps_data(config):
    first = await started(config)
    assert first.admin_password  # generated, to be printed once
    admin = await first.users.by_email(config["admin_email"])
    assert admin.mustChangePassword == 1
    async with first.db.transaction() as tx:
        await first.roles.create(tx, "kept", "survives restarts")
    secret = first.tokens.secret
    await first.stop()
    seeded = counts(config["db_path"])
    catalog = permission_catalog()
    assert seeded == {
        "roles": 3,
        "users": 1,
        "permissions": len(catalog),
        "permissionXRole": len(catalog),
        "sidebarItems": len(DEFAULT_MENU),
        "roleXItem": len(DEFAULT_MENU),
    }
    second = await started(config)
    try:
        assert second.admin_password is None
        assert second.tokens.secret == secret  # tokens survive a restart
        assert (await second.roles.by_name("kept")).description == "survives restarts"
    finally:
        await second.stop()
    assert counts(config["db_path"]) == seeded


async def test_restart_adds_missing_routes_without_regranting_revoked_ones(config):
    await (await started(config)).stop()
    revoked, removed = "GET /api/v1/users", "DELETE /api/v1/sidebar/:idItem"
    with closing(sqlite3.connect(config["db_path"])) as db, db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(
            "DELETE FROM permissionXRole WHERE permissionId = (SELECT idPermission FROM permissions WHERE nameUri = ?)",
            (revoked,),
        )
        db.execute("DELETE FROM permissions WHERE nameUri = ?", (removed,))
    assert revoked not in admin_grants(config["db_path"]) and removed not in admin_grants(config["db_path"])
    await (await started(config)).stop()
    grants = admin_grants(config["db_path"])
    assert removed in grants  # "a route added later" gets its row, granted to admin
    assert revoked not in grants  # what the operator revoked stays revoked
    assert counts(config["db_path"])["permissions"] == len(permission_catalog())
    await (await started(config)).stop()
    assert admin_grants(config["db_path"]) == grants


@pytest.mark.parametrize("settings, name", [({"port": "abc"}, "port"), ({"bcrypt_rounds": "99"}, "bcrypt_rounds")])
def test_invalid_config_stops_start_up_with_one_line(tmp_path, settings, name):
    """As a user meets it: `python seam.py` with a bad SEAM_* variable."""
    result = run_seam(cwd=tmp_path, env=seam_env(**settings), timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "seam.db").exists()


def unusable_database(tmp_path, kind):
    """A db_path SEAM cannot open: a file that is no database, a path in a missing directory, a directory."""
    path = {"not a database": tmp_path / "seam.db", "missing directory": tmp_path / "missing/seam.db"}.get(
        kind, tmp_path / "a-directory"
    )
    if kind == "not a database":
        path.write_bytes(b"this is no sqlite file" * 300)
    elif kind == "a directory":
        path.mkdir()
    return path


UNUSABLE = ["not a database", "missing directory", "a directory"]


@pytest.mark.parametrize("kind", UNUSABLE)
def test_unusable_database_stops_start_up_with_one_line(tmp_path, kind):
    """A corrupt file or an impossible path: one line naming it and a non-zero exit, not a traceback
    (regression: the traceback came, then the process hung on the open database's thread; and, 1 run in
    7, aiosqlite's thread printed `Event loop is closed` after the line)."""
    path = unusable_database(tmp_path, kind)
    result = run_seam(cwd=tmp_path, env=seam_env(db_path=str(path)), timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"seam: cannot use database {str(path)!r}: "), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", UNUSABLE)
async def test_failed_start_up_has_ended_every_database_thread(tmp_path, kind):
    """When start() raises, no aiosqlite worker thread is still running: one that is would hand its result
    to the event loop after asyncio.run closed it and print a traceback (the race behind 1 failure in 7)."""
    config = validate({"db_path": str(unusable_database(tmp_path, kind))})
    with pytest.raises(ConfigError, match="cannot use database"):
        await started(config)
    assert [t.name for t in threading.enumerate() if "_connection_worker_thread" in t.name] == []


@pytest.mark.parametrize(
    "environ, argv, name",
    [
        ({"SEAM_PORT": "70000"}, [], "port"),
        ({"SEAM_LOGIN_WINDOW": "soon"}, [], "login_window"),
        ({"SEAM_JWT_EXPIRES": "0"}, [], "jwt_expires"),
        ({"SEAM_LOG_LEVEL": "loud"}, [], "log_level"),
        ({"SEAM_ADMIN_EMAIL": "nobody"}, [], "admin_email"),
        ({"SEAM_MAX_BODY_BYTES": "10"}, [], "max_body_bytes"),
        ({"SEAM_PASSWORD_MIN_LENGTH": "x"}, [], "password_min_length"),
        ({}, ["--bcrypt_rounds=3"], "bcrypt_rounds"),
        ({}, ["--port=x"], "port"),
        ({}, ["--no-such-thing=1"], "no_such_thing"),
        ({}, ["--config=missing.conf"], "config"),
        ({"SEAM_OPEN_REGISTRATION": "perhaps"}, [], "open_registration"),
        ({}, ["--open_registration=maybe"], "open_registration"),
        ({"SEAM_JWT_SECRET": "a"}, [], "jwt_secret"),
        ({"SEAM_JWT_SECRET": "x" * 31}, [], "jwt_secret"),
        ({}, ["--jwt_secret=" + "ñ" * 15], "jwt_secret"),  # 15 characters, 30 bytes
        ({"SEAM_PROXY_HEADERS": "true", "SEAM_ADDRESS": EVERY_INTERFACE}, [], "proxy_headers"),
        ({"SEAM_PROXY_HEADERS": "true", "SEAM_ADDRESS": ""}, [], "proxy_headers"),
        ({"SEAM_PROXY_HEADERS": "true"}, ["--address=192.168.1.10"], "proxy_headers"),
        ({"SEAM_PROXY_HEADERS": "true", "SEAM_ADDRESS": "::"}, [], "proxy_headers"),
    ],
)
def test_every_invalid_setting_is_one_line_naming_it(tmp_path, monkeypatch, capsys, environ, argv, name):
    """The same path in-process, for every kind of bad value (environment and flags)."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("SEAM_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert seam.main(["seam.py", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and f"'{name}'" in lines[0], captured.err
    assert captured.out == ""
    assert not (tmp_path / "seam.db").exists()


@pytest.mark.parametrize(
    "environ",
    [
        {"SEAM_JWT_SECRET": "x" * 32},
        {"SEAM_JWT_SECRET": "ñ" * 16},
        {"SEAM_PROXY_HEADERS": "true"},
        {"SEAM_PROXY_HEADERS": "true", "SEAM_ADDRESS": "::1"},
        {"SEAM_PROXY_HEADERS": "true", "SEAM_ADDRESS": "localhost"},
        {"SEAM_PROXY_HEADERS": "true", "SEAM_ADDRESS": "127.0.0.2"},
        {"SEAM_PROXY_HEADERS": "false", "SEAM_ADDRESS": EVERY_INTERFACE},
    ],
)
def test_long_enough_secrets_and_proxy_headers_on_loopback_are_accepted(tmp_path, monkeypatch, environ):
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("SEAM_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    config, _ = seam.load_config(["seam.py"], os.environ)
    assert config["jwt_secret"] == environ.get("SEAM_JWT_SECRET", "")
    assert config["proxy_headers"] is (environ.get("SEAM_PROXY_HEADERS") == "true")
    assert config["address"] == environ.get("SEAM_ADDRESS", "127.0.0.1")


@pytest.mark.parametrize("word, expected", [("no", False), ("off", False), ("0", False), ("yes", True), ("on", True)])
def test_boolean_words_mean_what_they_say(tmp_path, monkeypatch, word, expected):
    """tornado alone would read 'no' and 'off' as true and open registration to anyone."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEAM_OPEN_REGISTRATION", word)
    config, _ = seam.load_config(["seam.py"], os.environ)
    assert config["open_registration"] is expected


@pytest.mark.timeout(120)
def test_serves_as_a_user_starts_it_and_stops_gracefully_on_sigterm(processes, tmp_path):
    """`python seam.py` with SEAM_* variables in an empty directory; SIGTERM → exit 0, data intact."""
    seam = processes.seam(name="first", db_path="seam.db", admin_password="")
    base = f"{seam.base_url}/api/v1"
    match = PASSWORD_LINE.search(seam.output())
    assert match and match.group(1) == ADMIN_EMAIL, seam.output()
    assert seam.output().count("SEAM first start") == 1
    password = match.group(2)
    status, login = http_json("POST", f"{base}/auth/login", {"email": ADMIN_EMAIL, "password": password})
    assert status == 200 and login["data"]["mustChangePassword"] is True
    token = login["data"]["token"]
    # The printed password opens nothing but its own replacement (SPEC §10).
    assert http_json("POST", f"{base}/roles", {"roleName": "from-http"}, token) == (
        403,
        {"success": False, "message": msg.MUST_CHANGE_PASSWORD},
    )
    change = {"currentPassword": password, "newPassword": "chosen-admin-pass"}
    status, changed = http_json("PUT", f"{base}/auth/password", change, token)
    assert status == 200, changed
    password, token = "chosen-admin-pass", changed["data"]["token"]
    status, created = http_json("POST", f"{base}/roles", {"roleName": "from-http"}, token)
    assert status == 201 and created["message"] == msg.ROLE_CREATED
    assert seam.stop() == 0
    assert not (tmp_path / "seam.db-wal").exists()  # the database was closed (checkpointed), not abandoned
    with closing(sqlite3.connect(tmp_path / "seam.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM roles WHERE roleName = 'from-http'").fetchone()[0] == 1

    again = processes.seam(name="second", db_path="seam.db", admin_password="")
    base = f"{again.base_url}/api/v1"
    assert "password" not in again.output().lower()
    assert http_json("POST", f"{base}/auth/login", {"email": ADMIN_EMAIL, "password": password})[0] == 200
    status, roles = http_json("GET", f"{base}/roles", token=token)
    assert status == 200 and "from-http" in [r["roleName"] for r in roles["data"]]
    assert again.stop() == 0

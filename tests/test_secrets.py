# SPDX-License-Identifier: MIT
"""Secrets at rest and in logs (SPEC §10): private database files, and no secret in a debug log."""

import json
import re
import sqlite3
import stat
import subprocess
import sys
import urllib.request
from contextlib import closing

import pytest

from bench.seam_process import SEAM, free_port, http_json, seam_env
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD
from tests.support.processes import run_seam

pytestmark = pytest.mark.timeout(90)
CHANGED = "changed-pass-2"
METRICS_TOKEN = "metrics-token-0123456789abcdefghijklmnop"


def with_umask(umask, *args):
    """`python seam.py ARGS` under a shell that set this umask first, as an operator's shell would."""
    return ["sh", "-c", f'umask {umask:03o} && exec "$0" "$@"', sys.executable, SEAM, *args]


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_database_its_wal_and_shm_and_backups_are_created_0600(processes, tmp_path, umask):
    """Regression: they were 0644 (world-readable: every bcrypt hash and the JWT secret) outside the unit."""
    port = free_port()
    env = seam_env(port=port, db_path="seam.db", admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    server = processes("seam", with_umask(umask), tmp_path, env)
    server.wait_until_up(f"http://127.0.0.1:{port}/healthz")
    status, _ = http_json(
        "POST", f"http://127.0.0.1:{port}/api/v1/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert status == 200
    files = [tmp_path / name for name in ("seam.db", "seam.db-wal", "seam.db-shm")]
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}

    backup = subprocess.run(
        with_umask(umask, "backup", "copy.db"), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert backup.returncode == 0, backup.stderr
    assert mode(tmp_path / "copy.db") == 0o600
    assert server.stop() == 0


def jwt_signatures(*tokens):
    """Each token, and its signature alone: either would let a reader of the log forge or replay."""
    return [part for token in tokens for part in (token, token.rsplit(".", 1)[1])]


def access_line_seen(log, log_format, method, route, status):
    """Whether the log holds the access line of that request (the log is really there, at debug)."""
    if log_format == "text":
        return f"seam.access: {method} {route} {status}" in log
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is one JSON object
    return any(
        (line["logger"], line.get("method"), line.get("route"), line.get("status"))
        == ("seam.access", method, route, status)
        for line in lines
    )


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_debug_log_holds_no_secret(processes, tmp_path, log_format):
    """log_level=debug through login, a reset (API and CLI), a password change and a scrape of /metrics with
    its token, in either log format: the server's log and the CLI's stderr hold no JWT secret, hash, password
    or token. Regression: debug raised every library's logger, and aiosqlite logged each statement with its
    parameters (a working admin token was forged)."""
    seam = processes.seam(log_level="debug", log_format=log_format, metrics="true", metrics_token=METRICS_TOKEN)
    admin = seam.login()
    status, created = seam.request(
        "POST", "/users", {"full_name": "Con Depuración", "email": "debug@seam.test", "password": PASSWORD,
                           "roleId": 2}, admin,
    )  # fmt: skip
    assert status == 201, created
    user_id = created["data"]["idUser"]
    status, reset = seam.request("PUT", f"/users/{user_id}/resetPassword", token=admin)
    assert status == 200, reset
    first_temporary = reset["data"]["temporaryPassword"]
    reset_token = seam.login("debug@seam.test", first_temporary)
    status, changed = seam.request(
        "PUT", "/auth/password", {"currentPassword": first_temporary, "newPassword": CHANGED}, reset_token
    )
    assert status == 200, changed
    request = urllib.request.Request(seam.base_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as scraped:
        assert scraped.status == 200
    env = seam_env(db_path=seam.db_path, bcrypt_rounds=4, log_level="debug", log_format=log_format)
    cli = run_seam("reset-password", "debug@seam.test", cwd=tmp_path, env=env)
    assert cli.returncode == 0, cli.stderr
    (second_temporary,) = re.findall(r"new temporary password for debug@seam\.test: (\S+) ", cli.stdout)
    last_token = seam.login("debug@seam.test", second_temporary)
    assert seam.stop() == 0

    with closing(sqlite3.connect(seam.db_path)) as db:
        (jwt_secret,) = db.execute("SELECT value FROM settings WHERE key = 'jwt_secret'").fetchone()
        hashes = [row[0] for row in db.execute("SELECT password FROM users")]
    secrets = [jwt_secret, *hashes, ADMIN_PASSWORD, PASSWORD, first_temporary, CHANGED, second_temporary, METRICS_TOKEN]
    secrets += jwt_signatures(admin, reset_token, changed["data"]["token"], last_token)
    log = seam.output()
    assert access_line_seen(log, log_format, "PUT", "/api/v1/auth/password", 200)
    assert access_line_seen(log, log_format, "GET", "/metrics", 200)
    for text, where in ((log, "server log"), (cli.stderr, "CLI stderr")):
        assert "$2b$" not in text, where
        leaked = [secret for secret in secrets if secret in text]
        assert leaked == [], f"{where} holds {len(leaked)} secrets"

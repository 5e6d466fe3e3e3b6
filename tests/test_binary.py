# SPDX-License-Identifier: MIT
"""`make binary`: dist/seam runs alone from an empty directory, with a minimal environment, like `python seam.py`."""

import json
import re
import shutil
import sqlite3
import subprocess

from bench.seam_process import ROOT, START_SECONDS, free_port
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, Api
from tests.support.processes import expect_change

FIRST_START = re.compile(r"SEAM first start: admin account (\S+) with password (\S+) ")


def install(binary, directory):
    """The binary alone in an empty directory, as on a fresh server."""
    directory.mkdir()
    shutil.copy2(binary, directory / "seam")
    return directory


def minimal_env(**settings):
    """`env -i PATH=/usr/bin:/bin` plus the given variables: no venv, no PYTHONPATH, no HOME."""
    return {"PATH": "/usr/bin:/bin", **{name: str(value) for name, value in settings.items()}}


def snapshot(directory):
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns) for p in directory.rglob("*")}


def run(argv, cwd, env):
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=START_SECONDS)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_binary_first_start_alone(binary, tmp_path, processes):
    home = install(binary, tmp_path / "srv")
    unpack = tmp_path / "unpack"
    unpack.mkdir()
    port = free_port()
    env = minimal_env(TMPDIR=unpack, SEAM_PORT=port, SEAM_BCRYPT_ROUNDS=4)
    server = processes("seam", ["./seam"], home, env)
    base_url = f"http://127.0.0.1:{port}"
    server.wait_until_up(base_url + "/healthz")

    assert (home / "seam.db").is_file()
    printed = FIRST_START.search(server.output())
    assert printed, server.output()
    email, password = printed.groups()
    assert email == "admin@seam.local"
    bundle = snapshot(unpack)
    api = Api(base_url)
    # The printed password must be replaced first (SPEC §10): then the session opens everything.
    first = await api.login(email, password)
    change = {"currentPassword": password, "newPassword": "binary-admin-pass"}
    changed = await api.fetch("PUT", "/auth/password", json=change, token=first)
    assert changed.status == 200, changed.body
    token = changed.data["token"]

    console = await api.fetch("GET", "/", prefix="")
    assert console.status == 200 and console.headers["Content-Type"].startswith("text/html")
    assert console.text == (ROOT / "static" / "index.html").read_text()
    vendored = ROOT / "static" / "vendor" / "socket.io.min.js"
    if vendored.exists():
        client = await api.fetch("GET", "/vendor/socket.io.min.js", prefix="")
        assert client.status == 200 and client.text == vendored.read_text()

    # Handshake over long-polling, then the upgrade: both engineio paths of the frozen tornado driver.
    assert await expect_change(base_url, token, api, "frozen", transports=("polling", "websocket")) == "websocket"

    assert snapshot(unpack) == bundle, "the binary wrote into its extraction directory"
    assert not [p for p in bundle if p.endswith((".pyc", ".db"))]
    assert server.stop() == 0, server.output()
    assert "stopped" in server.output()
    assert list(unpack.iterdir()) == [], "the extraction directory was not removed at exit"


async def test_binary_config_file_subcommands_and_restart(binary, tmp_path, processes):
    home = install(binary, tmp_path / "srv")
    port = free_port()
    (home / "seam.conf").write_text(
        f'port = {port}\nbcrypt_rounds = 4\ndb_path = "{home / "seam.db"}"\nmetrics = True\nlog_format = "json"\n'
    )
    env = minimal_env(SEAM_ADMIN_PASSWORD=ADMIN_PASSWORD, SEAM_ADMIN_EMAIL=ADMIN_EMAIL)

    assert "/api/v1/users" in run(["./seam", "routes"], home, env)
    assert "admin account ops@seam.test created" in run(["./seam", "create-admin", "ops@seam.test"], home, env)
    server = processes("seam", ["./seam"], home, env)
    base_url = f"http://127.0.0.1:{port}"
    server.wait_until_up(base_url + "/healthz")
    assert "first start" not in server.output()
    token = await Api(base_url).login("ops@seam.test", ADMIN_PASSWORD)
    assert token
    # prometheus_client frozen in: the process collector reads /proc, the request counter saw the login.
    scraped = await Api(base_url).fetch("GET", "/metrics", prefix="")
    assert scraped.status == 200 and "process_resident_memory_bytes " in scraped.text
    assert 'seam_http_requests_total{method="POST",route="/api/v1/auth/login",status="200"} 1.0' in scraped.text

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run([str(home / "seam"), f"--config={home / 'seam.conf'}", "backup", "copy.db"], elsewhere, env)
    with sqlite3.connect(elsewhere / "copy.db") as copy:
        emails = {row[0] for row in copy.execute("SELECT email FROM users")}
    assert emails == {ADMIN_EMAIL, "ops@seam.test"}
    assert server.stop() == 0, server.output()
    lines = [json.loads(line) for line in server.output().splitlines()]  # log_format = "json": every line
    assert (lines[-1]["logger"], lines[-1]["message"]) == ("seam", "stopped")

# SPDX-License-Identifier: MIT
"""Issue 18 as an operator meets it, through `python seam.py` and the built binary (each test runs with both):
start-up that fails in one line, versions, the first-start account, the admin password's rules, a locked or
full database, and self-delete/self-disable."""

import errno
import os
import socket
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

import messages as msg
from app.version import VERSION
from bench.seam_process import free_port, seam_env
from store.migrations import MIGRATIONS
from tests.support.clients import Api, assert_error
from tests.support.processes import run_seam

pytestmark = pytest.mark.timeout(180)
FIRST_START = "SEAM first start: admin account admin@seam.local with password {} (shown once; change it at first login)"


def one_line(result):
    """The refusal an operator reads: exit 2, exactly one line on stderr, nothing on stdout."""
    assert result.returncode == 2, result
    assert result.stdout == "" and "Traceback" not in result.stderr, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# 1. A port in use or an address this machine lacks: one line, exit 2, nothing created (no hang).


def test_a_port_in_use_is_one_line_naming_address_and_port(seam_command, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_seam(cwd=tmp_path, env=seam_env(port=port, bcrypt_rounds=4), command=seam_command)
    assert one_line(result) == (
        f"seam: cannot listen on 127.0.0.1:{port}: Address already in use;"
        " another program is listening there: stop it or set 'port'"
    )
    assert list(tmp_path.iterdir()) == []  # no database, and no first-start password for a server that never ran


@pytest.mark.parametrize(
    "address, reason",
    [
        ("192.0.2.1", "Cannot assign requested address; this machine has no such address: set 'address'"),
        ("no-such-host.invalid", None),  # the resolver's own words; the line ends naming the setting
    ],
)
def test_an_address_this_machine_lacks_is_one_line(seam_command, tmp_path, address, reason):
    port = free_port()
    result = run_seam(cwd=tmp_path, env=seam_env(address=address, port=port), command=seam_command)
    line = one_line(result)
    assert line.startswith(f"seam: cannot listen on {address}:{port}: "), line
    assert line.endswith(reason or "; set 'address'"), line
    assert list(tmp_path.iterdir()) == []


# 2. Versions: --version, /healthz, and a database from a newer SEAM refused with what to do.


def test_version_is_printed_without_touching_anything(seam_command, tmp_path):
    result = run_seam("--version", cwd=tmp_path, env=seam_env(port="not-a-port"), command=seam_command)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"seam {VERSION} (database schema {len(MIGRATIONS)})\n"
    assert list(tmp_path.iterdir()) == []


async def test_healthz_names_the_version(seam_command, processes):
    server = processes.seam(command=seam_command)
    health = await Api(server.base_url).fetch("GET", "/healthz", prefix="")
    assert health.status == 200
    assert health.body == {"success": True, "message": msg.HEALTHY, "data": {"status": "ok", "version": VERSION}}
    assert server.stop() == 0


def test_a_database_from_a_newer_seam_is_refused_saying_what_to_do(seam_command, tmp_path):
    newer = len(MIGRATIONS) + 1
    with closing(sqlite3.connect(tmp_path / "seam.db")) as db:
        db.execute("PRAGMA journal_mode = WAL")  # as SEAM keeps every database
        db.execute("CREATE TABLE from_the_future (x)")
        db.execute(f"PRAGMA user_version = {newer}")
        db.commit()
    before = (tmp_path / "seam.db").read_bytes()
    result = run_seam(cwd=tmp_path, env=seam_env(bcrypt_rounds=4, port=free_port()), command=seam_command)
    assert one_line(result) == (
        f"seam: cannot use database 'seam.db': a newer SEAM migrated it (schema version {newer};"
        f" SEAM {VERSION} knows up to {len(MIGRATIONS)}): start that newer version,"
        " or restore the backup taken before the upgrade"
    )
    assert (tmp_path / "seam.db").read_bytes() == before


# 4. create-admin before the first start announces the first-start account as serve does.


async def test_create_admin_before_the_first_start_announces_the_first_account(seam_command, tmp_path, processes):
    env = seam_env(bcrypt_rounds=4)
    result = run_seam("create-admin", "ops@seam.test", cwd=tmp_path, env=env, command=seam_command)
    assert (result.returncode, result.stderr) == (0, ""), result
    first, created = result.stdout.splitlines()
    password = first.split(" with password ")[1].split()[0]
    assert first == FIRST_START.format(password)
    assert created.startswith("admin account ops@seam.test created with password ")
    server = processes.seam(command=seam_command, admin_email="admin@seam.local", admin_password="")
    assert "first start" not in server.output()
    login = await Api(server.base_url).fetch(
        "POST", "/auth/login", json={"email": "admin@seam.local", "password": password}
    )
    assert login.status == 200 and login.data["mustChangePassword"] is True
    assert server.stop() == 0


def test_create_admin_names_the_first_account_when_the_password_is_given(seam_command, tmp_path):
    env = seam_env(bcrypt_rounds=4, admin_password="given-admin-pass")
    result = run_seam("create-admin", "ops@seam.test", cwd=tmp_path, env=env, command=seam_command)
    assert (result.returncode, result.stderr) == (0, ""), result
    assert result.stdout.splitlines() == [
        "SEAM first start: admin account admin@seam.local with the password in SEAM_ADMIN_PASSWORD",
        "admin account ops@seam.test created",
    ]


# 5. SEAM_ADMIN_PASSWORD follows the API's password rules: one line, exit 2, no database created.


@pytest.mark.parametrize("command", [[], ["create-admin", "ops@seam.test"]], ids=["serve", "create-admin"])
@pytest.mark.parametrize(
    "password, problem",
    [
        ("short", "debe tener al menos 8 caracteres"),
        (" " * 12, "no puede estar en blanco"),
        ("admin@seam.local", "no puede ser igual al correo"),
        ("ñ" * 40, "no debe exceder 72 bytes"),
    ],
    ids=["short", "blank", "the email", "73+ bytes"],
)
def test_a_weak_admin_password_is_refused_in_one_line(seam_command, tmp_path, command, password, problem):
    env = seam_env(bcrypt_rounds=4, port=free_port(), admin_password=password)
    result = run_seam(*command, cwd=tmp_path, env=env, command=seam_command)
    assert one_line(result) == f"seam: 'SEAM_ADMIN_PASSWORD' {problem}"
    assert list(tmp_path.iterdir()) == []


# 6. A locked or full database: 503 with Retry-After and nothing written; /healthz fails meanwhile.


async def test_a_locked_database_answers_503_and_healthz_fails(seam_command, processes):
    server = processes.seam(command=seam_command)
    api = Api(server.base_url)
    token = await api.login()
    with closing(sqlite3.connect(server.db_path, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock past SEAM's busy timeout
        refused = await api.fetch("POST", "/roles", json={"roleName": "locked-out"}, token=token)
        health = await api.fetch("GET", "/healthz", prefix="")
        roles = await api.fetch("GET", "/roles", token=token)  # reads go on
        other.execute("ROLLBACK")
    for response in (refused, health):
        assert_error(response, 503, msg.DATABASE_BUSY)
        assert response.headers["Retry-After"] == "5"
    assert roles.status == 200
    assert (await api.fetch("GET", "/healthz", prefix="")).status == 200
    assert (await api.fetch("POST", "/roles", json={"roleName": "after"}, token=token)).status == 201
    names = [r["roleName"] for r in (await api.fetch("GET", "/roles", token=token)).data]
    assert "after" in names and "locked-out" not in names
    assert server.stop() == 0
    assert "a write was refused (503): database is locked" in server.output()
    assert "Traceback" not in server.output()


@pytest.fixture(scope="module")
def on_tmpfs(tmp_path_factory):
    """argv prefix: the command runs in its own mount namespace, with a 4 MiB tmpfs mounted on the directory
    given first; nothing outside that process sees the mount, and it goes away with the process."""
    prefix = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix.append("--map-root-user")
    command = [*prefix, "sh", "-c", 'mount -t tmpfs -o size=4m seam-test "$1" && shift && exec "$@"', "sh"]
    try:
        probe = subprocess.run([*command, str(tmp_path_factory.mktemp("probe")), "true"], capture_output=True)
    except OSError as error:
        pytest.skip(f"no unshare: {error}")
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a mount namespace here: {probe.stderr.decode().strip()}")
    return command


def fill(directory):
    """Write zeros into directory until its filesystem has no room left; returns the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as error:
        assert error.errno == errno.ENOSPC, error
    finally:
        os.close(fd)
    return filler


async def test_a_full_disk_answers_503_and_healthz_fails_until_space_is_freed(
    seam_command, processes, tmp_path, on_tmpfs
):
    """A real full disk: the database on a tmpfs that only SEAM's process sees, filled to the last byte."""
    data = tmp_path / "data"
    data.mkdir()
    server = processes.seam(command=[*on_tmpfs, str(data), *seam_command], db_path=str(data / "seam.db"))
    api = Api(server.base_url)
    token = await api.login()
    before = [r["roleName"] for r in (await api.fetch("GET", "/roles", token=token)).data]
    filler = fill(Path(f"/proc/{server.pid}/root{data}"))  # the tmpfs as SEAM's mount namespace shows it
    created = []
    for n in range(200):  # the first writes may still fit in the WAL's last allocated page
        response = await api.fetch("POST", "/roles", json={"roleName": f"full-{n}"}, token=token)
        if response.status != 201:
            break
        created.append(f"full-{n}")
    assert_error(response, 503, msg.DATABASE_FULL)
    assert response.headers["Retry-After"] == "60"
    health = await api.fetch("GET", "/healthz", prefix="")
    assert_error(health, 503, msg.DATABASE_FULL)

    filler.unlink()
    assert (await api.fetch("GET", "/healthz", prefix="")).status == 200
    assert (await api.fetch("POST", "/roles", json={"roleName": "room-again"}, token=token)).status == 201
    names = [r["roleName"] for r in (await api.fetch("GET", "/roles", token=token)).data]
    assert names == [*before, *created, "room-again"]  # the refused role was not written at all
    assert server.stop() == 0
    assert "a write was refused (503): database or disk is full" in server.output()
    assert "Traceback" not in server.output()


# 9. Nobody deletes or disables their own account through the API.


async def test_an_admin_cannot_delete_or_disable_their_own_account(seam_command, processes):
    server = processes.seam(command=seam_command)
    api = Api(server.base_url)
    token = await api.login()
    me = (await api.fetch("GET", "/auth/me", token=token)).data["user"]["idUser"]
    assert_error(await api.fetch("DELETE", f"/users/{me}", token=token), 409, msg.SELF_DELETE)
    assert_error(await api.fetch("PUT", f"/users/{me}/state", json={"isActive": 0}, token=token), 409, msg.SELF_DISABLE)
    assert (await api.fetch("GET", "/auth/me", token=token)).data["user"]["isActive"] == 1
    assert server.stop() == 0

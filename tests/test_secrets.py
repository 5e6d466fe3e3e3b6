"""Secrets at rest and in logs (SPEC §10): private database files, and no secret in a debug log."""

import stat
import subprocess
import sys

import pytest

from bench.seam_process import SEAM, free_port, http_json, seam_env
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.timeout(90)


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

"""Servers a test starts as real processes: `python seam.py`, the built binary, nginx."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, EventRecorder

ROOT = Path(__file__).resolve().parent.parent
SEAM = str(ROOT / "seam.py")
START_SECONDS = 60
STOP_SECONDS = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A server this test started: output in a file, SIGTERM to stop, its whole session killed if it hangs."""

    def __init__(self, argv, cwd, env, log_path):
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self):
        return self.log_path.read_text(errors="replace")

    def wait_until_up(self, url, context=None):
        """Poll url until it answers 200; fail early if the process exits."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"exited with {self.popen.returncode} before answering:\n{self.output()}")
            try:
                with urllib.request.urlopen(url, timeout=2, context=context) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{url} did not answer within {START_SECONDS}s:\n{self.output()}")

    def stop(self):
        """SIGTERM, as systemd sends it; returns the exit code."""
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(STOP_SECONDS)

    def kill(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def seam_env(**settings):
    """The parent's environment without any SEAM_* variable, plus the given ones as SEAM_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAM_")}
    env.update({f"SEAM_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def serve_from_source(start, tmp_path, name="seam", **settings):
    """`python seam.py` on a free port with a temp database; returns (process, port) once healthy.

    settings override the defaults below (admin_password="" leaves the first-start password to SEAM).
    """
    port = free_port()
    defaults = {
        "port": port,
        "db_path": tmp_path / "seam.db",
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "bcrypt_rounds": 4,
    }
    seam = start(name, [sys.executable, SEAM], tmp_path, seam_env(**{**defaults, **settings}))
    seam.wait_until_up(f"http://127.0.0.1:{port}/healthz")
    return seam, port


def run_seam(*args, cwd, env, timeout=60):
    """A subcommand run to completion: CompletedProcess with text stdout and stderr."""
    return subprocess.run(
        [sys.executable, SEAM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


async def run_seam_async(*args, cwd, env, timeout=60):
    """run_seam for async tests: the test's own server keeps serving while the subcommand runs."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, SEAM, *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


def http_json(method, url, body=None, token=None, timeout=10):
    """(status, parsed JSON body) over plain urllib, for tests without an IOLoop; HTTP errors are answers."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def processes(tmp_path):
    """start(name, argv, cwd, env) → Process; anything still running at teardown is killed."""
    started = []

    def start(name, argv, cwd, env):
        process = Process(argv, cwd, env, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


async def expect_change(base_url, token, api, role_name, transports=("websocket",), **client_options):
    """A socket with the token sees data:changed for a role created over the API; returns its transport."""
    recorder = EventRecorder(base_url, **client_options)
    try:
        await recorder.connect(token, transports=transports)
        transport = recorder.client.transport()
        created = await api.fetch("POST", "/roles", json={"roleName": role_name}, token=token)
        assert created.status == 201, created.body
        await recorder.wait_for(lambda events: any(name == "data:changed" for name, _ in events))
        assert [(c["operation"], c["data"]["roleName"]) for c in recorder.of("data:changed")] == [
            ("roles:create", role_name)
        ]
        return transport
    finally:
        await recorder.close()

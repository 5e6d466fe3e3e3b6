# SPDX-License-Identifier: MIT
"""Servers a test starts as real processes (`python seam.py`, the built binary, nginx) and SEAM's subcommands."""

import asyncio
import subprocess
import sys

import pytest

from bench.seam_process import ROOT, SEAM, Process, SeamProcess
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, EventRecorder


class Processes:
    """The servers one test started, each logging to tmp_path/<name>.log; any still running at teardown is killed."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.started = []

    def __call__(self, name, argv, cwd, env):
        """Any server → Process; waiting until it is up is the caller's."""
        process = Process(argv, cwd, env, self.tmp_path / f"{name}.log")
        self.started.append(process)
        return process

    def seam(self, name="seam", command=None, **settings):
        """`python seam.py` (or `command`) in tmp_path with the tests' admin, once healthy → SeamProcess.

        settings override SeamProcess's defaults (admin_password="" leaves the first-start password to SEAM).
        """
        settings = {"admin_email": ADMIN_EMAIL, "admin_password": ADMIN_PASSWORD, **settings}
        process = SeamProcess(self.tmp_path, name, command, **settings)
        self.started.append(process)
        return process

    def kill_all(self):
        for process in self.started:
            process.kill()


def run_seam(*args, cwd, env, timeout=60, command=None):
    """A subcommand (of `python seam.py`, or `command`) run to completion: CompletedProcess with text output."""
    command = command or [sys.executable, SEAM]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
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


@pytest.fixture(scope="session")
def binary():
    """dist/seam from `make binary`, which rebuilds it only when a source is newer."""
    built = subprocess.run(
        ["make", "--no-print-directory", "binary"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    return ROOT / "dist" / "seam"


@pytest.fixture(params=["seam.py", "binary"])
def seam_command(request):
    """SEAM started as an operator starts it: `python seam.py`, then the built binary (a test runs with each)."""
    if request.param == "binary":
        return [str(request.getfixturevalue("binary"))]
    return [sys.executable, SEAM]


@pytest.fixture
def processes(tmp_path):
    """processes(name, argv, cwd, env) → Process, processes.seam(**settings) → SeamProcess; killed at teardown."""
    started = Processes(tmp_path)
    yield started
    started.kill_all()


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

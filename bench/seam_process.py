# SPDX-License-Identifier: MIT
"""Servers as real subprocesses on loopback: SEAM (`python seam.py`, temp database), the binary, nginx.

The one launcher for the soak, the fuzzing test, the process tests and the browser tests; it needs
nothing but the standard library, so `python bench/soak.py` runs on its own.
"""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEAM = str(ROOT / "seam.py")
ADMIN_EMAIL = "admin@seam.bench"
ADMIN_PASSWORD = "bench-admin-pass-1"  # noqa: S105 - the throwaway test server's admin
START_SECONDS = 60
PORTS_FROM = 10000  # test and bench servers take ports from here up to the ephemeral range
STOP_SECONDS = 20


def ephemeral_low():
    """The lowest port the kernel hands out to outgoing connections (Linux default 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A free loopback port below the ephemeral range, for a server to bind.

    A port from bind(0) is an ephemeral one: between the probe and the server's bind, an outgoing connection
    (to Redis, to another test's server) may take it as its local port, and a test then fails or talks to
    another program. Below the range only another server can take it, which a probe sees.
    """
    high = ephemeral_low() - 1
    for _ in range(200):
        port = random.randint(PORTS_FROM, high)  # noqa: S311 - spreading ports, not a secret
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port between {PORTS_FROM} and {high}")


def seam_env(**settings):
    """The parent's environment without any SEAM_* variable, plus the given ones as SEAM_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAM_")}
    env.update({f"SEAM_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def http_json(method, url, body=None, token=None, timeout=10):
    """(status, parsed JSON body) over plain urllib, for callers without an IOLoop; HTTP errors are answers."""
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


def redis_argv(port, directory):
    """Debian's redis-server on this loopback port, no persistence, its files in `directory`."""
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(directory)]  # fmt: skip


def redis_answers(port, seconds=START_SECONDS):
    """True once the redis-server on this loopback port answers PING; False if it has not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


class Process:
    """A started server: output in a file, SIGTERM to stop, its whole session killed if it hangs."""

    def __init__(self, argv, cwd, env, log_path):
        self.log_path = Path(log_path)
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self):
        return self.popen.pid

    def output(self):
        return self.log_path.read_text(errors="replace")

    def wait_until_up(self, url, context=None):
        """Poll url until it answers 200; fail early if the process exits."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"exited with {self.popen.returncode} before answering:\n{self.output()}")
            try:
                with urllib.request.urlopen(url, timeout=2, context=context) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{url} did not answer within {START_SECONDS}s:\n{self.output()}")

    def stop(self):
        """SIGTERM, as systemd sends it; returns the exit code."""
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(STOP_SECONDS)

    def kill(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def close(self):
        """Stop it if it still runs, kill it if it does not stop in time."""
        if self.popen.poll() is None:
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                self.kill()


class SeamProcess(Process):
    """`python seam.py` in workdir on a free port, healthy once constructed; settings become SEAM_* variables.

    `with SeamProcess(workdir, log_level="warning") as seam:` → seam.base_url, seam.request(...), seam.login();
    stopped on exit. Logs to workdir/<name>.log. `command` starts another way (the built binary).
    """

    def __init__(self, workdir, name="seam", command=None, **settings):
        workdir = Path(workdir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.settings = {
            "port": self.port,
            "db_path": str(workdir / "seam.db"),
            "admin_email": ADMIN_EMAIL,
            "admin_password": ADMIN_PASSWORD,
            "bcrypt_rounds": 4,
            **settings,
        }
        command = command or [sys.executable, SEAM]
        super().__init__(command, workdir, seam_env(**self.settings), workdir / f"{name}.log")
        try:
            self.wait_until_up(self.base_url + "/healthz")
        except BaseException:
            self.kill()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def db_path(self):
        return self.settings["db_path"]

    def request(self, method, path, body=None, token=None):
        """(status, parsed JSON) against /api/v1, for setting up accounts."""
        return http_json(method, self.base_url + "/api/v1" + path, body, token, timeout=30)

    def login(self, email=None, password=None):
        email, password = email or self.settings["admin_email"], password or self.settings["admin_password"]
        status, body = self.request("POST", "/auth/login", {"email": email, "password": password})
        assert status == 200, body
        return body["data"]["token"]

    def resources(self):
        """(rss_kib, open_fds) of the server process, from /proc."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{self.pid}/fd"))

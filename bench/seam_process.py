"""SEAM as a real subprocess on a loopback port with a temp database: for the soak and the fuzzing test."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "admin@seam.bench"
ADMIN_PASSWORD = "bench-admin-pass-1"  # noqa: S105 - the throwaway test server's admin
START_TIMEOUT_SECONDS = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SeamProcess:
    """`with SeamProcess(tmp_dir, bcrypt_rounds=4) as seam:` → seam.base_url, seam.pid; stopped on exit."""

    def __init__(self, workdir, **settings):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.settings = {"port": self.port, "address": "127.0.0.1", "db_path": str(self.workdir / "seam.db")}
        self.settings.update({"admin_email": ADMIN_EMAIL, "bcrypt_rounds": 4, "log_level": "warning", **settings})
        self.process = None
        self.log = None

    @property
    def pid(self):
        return self.process.pid

    @property
    def db_path(self):
        return self.settings["db_path"]

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEAM_")}
        env.update({f"SEAM_{name.upper()}": str(value) for name, value in self.settings.items()})
        env.update({"SEAM_ADMIN_PASSWORD": ADMIN_PASSWORD, "SEAM_CONFIG": str(self.workdir / "none.conf")})
        self.log = open(self.workdir / "seam.log", "wb")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "seam.py")], cwd=self.workdir, env=env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SEAM exited at start: {self.output()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"SEAM did not answer within {START_TIMEOUT_SECONDS}s: {self.output()}")

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()

    def output(self):
        return (self.workdir / "seam.log").read_text(errors="replace")[-4000:]

    def request(self, method, path, body=None, token=None):
        """(status, parsed JSON) against /api/v1, for setting up accounts."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + "/api/v1" + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def login(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        status, body = self.request("POST", "/auth/login", {"email": email, "password": password})
        assert status == 200, body
        return body["data"]["token"]

    def resources(self):
        """(rss_kib, open_fds) of the server process, from /proc."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{self.pid}/fd"))

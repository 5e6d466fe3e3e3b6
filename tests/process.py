"""Helpers for tests that run `python seam.py` as a user would: a child process, plain HTTP, bounded waits."""

import asyncio
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SEAM = str(pathlib.Path(__file__).resolve().parent.parent / "seam.py")


def seam_env(**settings):
    """The parent's environment without any SEAM_* variable, plus the given settings as SEAM_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAM_")}
    env.update({f"SEAM_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def run_seam(*args, cwd, env, timeout=60):
    """Run a subcommand to completion: CompletedProcess with text stdout/stderr."""
    return subprocess.run(
        [sys.executable, SEAM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method, url, body=None, token=None, timeout=10):
    """(status, parsed JSON body) over plain urllib; HTTP errors are answers, not exceptions."""
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


class Server:
    """`python seam.py` serving in `cwd`; output goes to files so no pipe can fill up."""

    def __init__(self, cwd, port, name="server", **settings):
        self.cwd = pathlib.Path(cwd)
        self.base = f"http://127.0.0.1:{port}"
        self.stdout_path = self.cwd / f"{name}.out"
        self.stderr_path = self.cwd / f"{name}.err"
        env = seam_env(**{"port": port, "bcrypt_rounds": 4, **settings})
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen([sys.executable, SEAM], cwd=cwd, env=env, stdout=out, stderr=err)

    @property
    def stdout(self):
        return self.stdout_path.read_text()

    @property
    def stderr(self):
        return self.stderr_path.read_text()

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"seam exited with {self.proc.returncode}: {self.stderr}")
            try:
                if http("GET", self.base + "/healthz", timeout=2)[0] == 200:
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"seam not ready after {timeout}s: {self.stderr}")

    def api(self, method, path, body=None, token=None):
        return http(method, f"{self.base}/api/v1{path}", body, token)

    def terminate(self, timeout=30):
        """SIGTERM, then the exit code (killed and failed if it does not exit in time)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"seam ignored SIGTERM for {timeout}s") from None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


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

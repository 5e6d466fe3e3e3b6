# SPDX-License-Identifier: MIT
"""Several SEAM processes as one service, as an operator runs them: Debian's redis-server on a loopback port,
`python seam.py serve --processes N --port P` (the real supervisor), and deploy/nginx.conf in front."""

import json
import os
import shutil
import signal
import socket
import sys
import urllib.request
from pathlib import Path

from bench.seam_process import SEAM, free_port, redis_answers, redis_argv, seam_env
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.nginx import start_nginx


def redis_executable():
    found = shutil.which("redis-server")
    assert found, "redis-server is missing: .ci/system-deps installs it"
    return found


def consecutive_free_ports(count):
    """A base port with `count` free ports from it (the supervisor takes P..P+count-1)."""
    for _ in range(50):
        base = free_port()
        if base + count > 65535:
            continue
        probes = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no run of free ports")


class Redis:
    """redis-server on a free loopback port, no persistence; stop() and start() again on the same port."""

    def __init__(self, processes, workdir):
        self.processes = processes
        self.workdir = Path(workdir)
        self.workdir.mkdir(exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self):
        argv = [redis_executable(), *redis_argv(self.port, self.workdir)[1:]]
        self.process = self.processes("redis", argv, self.workdir, None)
        if not redis_answers(self.port):
            raise RuntimeError(f"redis-server did not answer:\n{self.process.output()}")

    def stop(self):
        self.process.kill()


def service_settings(redis, **settings):
    """What every process of one service is started with: the tests' admin, Redis between them, nginx's headers."""
    return {
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "bcrypt_rounds": 4,
        "redis_url": redis.url,
        "proxy_headers": "true",
        **settings,
    }


class Cluster:
    """N processes under one supervisor with a Redis; `urls[i]` reaches process i directly, `base_url` through
    nginx (TLS, `trust` verifies it). Every server is killed at teardown by the `processes` fixture."""

    def __init__(self, processes, workdir, count=3, nginx=True, **settings):
        self.workdir = Path(workdir)
        self.redis = Redis(processes, self.workdir / "redis")
        self.base_port = consecutive_free_ports(count)
        self.ports = list(range(self.base_port, self.base_port + count))
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.settings = service_settings(self.redis, db_path=str(self.workdir / "seam.db"), **settings)
        argv = [sys.executable, SEAM, "serve", "--processes", str(count), "--port", str(self.base_port)]
        self.supervisor = processes("cluster", argv, self.workdir, seam_env(**self.settings))
        for url in self.urls:
            self.supervisor.wait_until_up(url + "/healthz")
        if nginx:
            _, self.base_url, _, self.cert, self.trust = start_nginx(
                processes, self.workdir / "nginx", self.ports, connections=4096
            )

    def child_pid(self, port):
        """The pid of the child serving this port (its command line names --port=<port>)."""
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"--port={port}".encode() in argv and b"--processes" not in argv:
                return int(entry)
        return None

    def kill(self, port):
        """SIGKILL one process, as the kernel's OOM killer would; returns its pid."""
        pid = self.child_pid(port)
        os.kill(pid, signal.SIGKILL)
        return pid

    def health(self, index):
        with urllib.request.urlopen(self.urls[index] + "/healthz", timeout=5) as answer:
            return json.loads(answer.read())["data"]

    def output(self):
        return self.supervisor.output()


class Hosts(Cluster):
    """The several-hosts layout on one machine: N separate `python seam.py` processes, each in a working directory
    of its own (no file shared between them), one PostgreSQL (database_url), one Redis, nginx in front. No
    supervisor: a killed process stays dead, as a host that went down would."""

    def __init__(self, processes, workdir, database_url, count=3, nginx=True, **settings):
        self.workdir = Path(workdir)
        self.redis = Redis(processes, self.workdir / "redis")
        self.ports = [free_port() for _ in range(count)]
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.hosts = []
        for index, port in enumerate(self.ports):
            home = self.workdir / f"host{index}"
            home.mkdir()
            env = seam_env(**service_settings(self.redis, port=port, database_url=database_url, **settings))
            self.hosts.append(processes(f"host{index}", [sys.executable, SEAM], home, env))
        for host, url in zip(self.hosts, self.urls, strict=True):
            host.wait_until_up(url + "/healthz")
        if nginx:
            _, self.base_url, _, self.cert, self.trust = start_nginx(
                processes, self.workdir / "nginx", self.ports, connections=4096
            )

    def child_pid(self, port):
        return self.hosts[self.ports.index(port)].pid

    def kill(self, port):
        host = self.hosts[self.ports.index(port)]
        pid = host.pid
        host.kill()
        return pid

    def output(self):
        return "".join(host.output() for host in self.hosts)

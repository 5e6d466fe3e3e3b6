# SPDX-License-Identifier: MIT
"""Issue 13's benchmark (`bench/run.py --only scale`): the single process against the commit before scale-out,
one process holding 10,000 sockets, and two processes over Redis beside one, for sockets and for reads via nginx.

A 2-core machine shows what scale-out costs and how the work splits between processes, not its gain: the
servers and the load generator share the two cores (bench/README.md, "Scale-out").
"""

import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

import run
from loadgen import rss_mib, server_cpu_seconds

# main just before the scale-out commits (106a9d1..2bdc2d0, which landed on main without a merge of their own).
BASE = "adbb8d2"
MANY = 10_000  # sockets on one process
MANY_BROADCASTS = 30
SPREAD = 2_000  # sockets over 1 and over 2 processes
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def git(*args):
    return subprocess.run(["git", "-C", run.ROOT, *args], check=True, capture_output=True, text=True).stdout.strip()


class Redis:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self, workdir):
        self.port = run.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen([*argv, "--dir", workdir], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not answer")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)


class Nginx:
    """One nginx process (no master, one worker) on the load core: `one` proxies to `single`, `two` to `pair`
    (least_conn), both plain HTTP on loopback with keep-alive to SEAM; the shape of deploy/nginx.conf's
    upstream without its TLS and rate limits, which would measure OpenSSL and the limits instead."""

    def __init__(self, workdir, single, pair):
        self.prefix = os.path.join(workdir, "nginx")
        os.makedirs(self.prefix, exist_ok=True)
        ports = {"one": run.free_port(), "two": run.free_port()}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        blocks = []
        for name, servers in (("one", [single]), ("two", pair)):
            members = "".join(f"        server 127.0.0.1:{s.port};\n" for s in servers)
            blocks.append(
                f"    upstream {name} {{\n        least_conn;\n{members}        keepalive 64;\n    }}\n"
                f"    server {{\n        listen 127.0.0.1:{ports[name]};\n        location / {{\n"
                f"            proxy_pass http://{name};\n            proxy_http_version 1.1;\n"
                '            proxy_set_header Connection "";\n            proxy_set_header Host $host;\n'
                "        }\n    }\n"
            )
        temp = "".join(f"    {kind}_temp_path {self.prefix}/{kind};\n" for kind in ("client_body", "proxy"))
        config = os.path.join(self.prefix, "nginx.conf")
        with open(config, "w") as f:
            f.write(
                f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {self.prefix}/nginx.pid;\n"
                f"error_log {self.prefix}/error.log warn;\nworker_rlimit_nofile 4096;\n"
                "events { worker_connections 1024; }\n"
                f"http {{\n    access_log off;\n{temp}{''.join(blocks)}}}\n"
            )
        argv = ["taskset", "-c", run.CLIENT_CORE, NGINX, "-p", self.prefix, "-e", f"{self.prefix}/error.log"]
        self.proc = subprocess.Popen([*argv, "-c", config])
        deadline = time.monotonic() + 30
        for url in self.urls.values():
            while not self.healthy(url):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit(f"nginx did not start: see {self.prefix}/error.log")
                time.sleep(0.05)

    @staticmethod
    def healthy(url):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)


class Setup:
    """The base commit's worktree (outside the repository, never committed) with its own database, for the runs."""

    def __init__(self, workdir, args):
        self.workdir, self.args = workdir, args
        self.wanted = args.only in (None, "scale")
        self.base = None
        self.tree = None

    def __enter__(self):
        if not self.wanted:
            return self
        sha = git("rev-parse", self.args.base)
        self.base = {"commit": sha, "subject": git("log", "-1", "--format=%s", sha), "head": git("rev-parse", "HEAD")}
        self.tree = tempfile.mkdtemp(prefix="seam-bench-base-")
        git("worktree", "add", "--detach", self.tree, sha)
        self.base_dir = os.path.join(self.workdir, "base")
        os.makedirs(self.base_dir)
        self.base_ids = run.prepare(self.base_dir, root=self.tree)  # an older SEAM refuses a newer database
        return self

    def __exit__(self, *exc):
        if self.tree:
            git("worktree", "remove", "--force", self.tree)
            shutil.rmtree(self.tree, ignore_errors=True)

    def run(self, index, ids):
        return {
            "same": self.same_process(index, ids),
            "many": many_sockets(self.workdir, ids),
            "spread": spread(self.workdir, ids, index, self.args),
        }

    def same_process(self, index, ids):
        """Reads and fan-out N=1000, SEAM at HEAD and at the base commit, one after the other (order flipped
        each run), each on its own database prepared by its own code."""
        sides = {"head": (run.ROOT, self.workdir, ids), "base": (self.tree, self.base_dir, self.base_ids)}
        result = {}
        for side in ("head", "base") if index % 2 == 0 else ("base", "head"):
            root, workdir, side_ids = sides[side]
            server = run.Server("seam", workdir, root=root)
            try:
                admin, writer = run.tokens(server.url)
                reads = run.reads(server, admin, self.args.seconds)
                sockets = fanout(server.url, [server], admin, writer, side_ids, 1000, self.args.broadcasts)
                result[side] = {"reads": reads, "fanout": sockets}
            finally:
                server.stop()
        return result


def fanout(url, servers, admin, writer, ids, n, count, extra_pids=()):
    """loadgen fanout: sockets spread round-robin over `servers`, mutations alternating over them."""
    urls = ",".join(s.url for s in servers)
    pids = [s.proc.pid for s in servers] + list(extra_pids)
    return run.loadgen(
        "fanout", "--url", url, "--socket-urls", urls, "--mutate-urls", urls, "--token", admin,
        "--writer-token", writer, "--pid", *pids, "--mutate", f"/api/v1/users/{ids['subject']}",
        "--count", count, "--n", n,
    )  # fmt: skip


def many_sockets(workdir, ids):
    """One SEAM process with MANY sockets (connect time, RSS, last socket), and the load client's own floor."""
    result = {}
    for kind in ("floor", "seam"):
        server = run.Server(kind, workdir)
        try:
            admin, writer = run.tokens(server.url) if kind == "seam" else ("bench", "bench")
            idle = rss_mib(server.proc.pid)
            result[kind] = {**fanout(server.url, [server], admin, writer, ids, MANY, MANY_BROADCASTS), "idle_mib": idle}
        finally:
            server.stop()
    return result


def spread(workdir, ids, index, args):
    """SPREAD sockets on one process (no Redis) and over two (shared mode, Redis), process i pinned to core i;
    then reads through nginx, 1 vs 2 processes, in alternating bursts. Each setup has its own copy of the
    database, all servers are up at once."""
    dirs = {name: os.path.join(workdir, f"spread-{name}") for name in ("one", "two", "redis")}
    for name, path in dirs.items():
        os.makedirs(path, exist_ok=True)
        if name != "redis":
            shutil.copy(os.path.join(workdir, "seam.db"), path)
    redis = Redis(dirs["redis"])
    started = []
    try:
        single = run.Server("seam", dirs["one"])
        started.append(single)
        pair = []
        for core in ("0", "1"):
            pair.append(run.Server("seam", dirs["two"], cores=core, flags=[f"--redis_url={redis.url}"]))
            started.append(pair[-1])
        result = {"fanout": {}}
        for name in ("one", "two") if index % 2 == 0 else ("two", "one"):
            servers = [single] if name == "one" else pair
            admin, writer = run.tokens(servers[0].url)
            extra = [redis.proc.pid] if name == "two" else []
            result["fanout"][name] = fanout(servers[0].url, servers, admin, writer, ids, SPREAD, args.broadcasts, extra)
        nginx = Nginx(workdir, single, pair)
        try:
            result["reads"] = reads_via_nginx(nginx, {"one": [single], "two": pair}, args)
        finally:
            nginx.stop()
        return result
    finally:
        for server in started:
            server.stop()
        redis.stop()


def reads_via_nginx(nginx, groups, args):
    """wrk through nginx on GET /api/v1/users, 1 and 2 processes, 2 s bursts alternating (order flipped each
    round); per side: mean req/s, median p99, and on-CPU µs per request of each SEAM process and of nginx."""
    keys = {name: run.tokens(servers[0].url)[0] for name, servers in groups.items()}
    urls = {name: nginx.urls[name] + "/api/v1/users" for name in groups}
    for name in groups:
        run.wrk(urls[name], 16, 2, keys[name])  # warm-up: every process's page cache
    result = {}
    rounds = max(3, args.seconds // 2)
    for connections in (16, 64):
        bursts = {name: [] for name in groups}
        for round_ in range(rounds):
            for name in ("one", "two") if round_ % 2 == 0 else ("two", "one"):
                pids = [s.proc.pid for s in groups[name]] + [nginx.proc.pid]
                before = [server_cpu_seconds(pid) for pid in pids]
                burst = run.wrk(urls[name], connections, run.BURST_SECONDS, keys[name])
                spent = [server_cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
                bursts[name].append({**burst, "cpu": spent})
        for name, measured in bursts.items():
            requests = sum(b["requests"] for b in measured)
            cpu = [sum(b["cpu"][i] for b in measured) for i in range(len(measured[0]["cpu"]))]
            result.setdefault(name, {})[connections] = {
                "rps": statistics.mean(b["rps"] for b in measured),
                "p99": statistics.median(b["p99"] for b in measured),
                "requests": requests,
                "cpu_us_by_process": [1e6 * c / requests for c in cpu[:-1]],
                "nginx_cpu_us": 1e6 * cpu[-1] / requests,
            }
    return result

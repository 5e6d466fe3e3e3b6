# SPDX-License-Identifier: MIT
"""Issue 13's benchmark (`bench/run.py --only scale`): the single process against the commit before scale-out,
one process holding 10,000 sockets, and two processes over Redis beside one, for sockets and for reads via nginx.

A 2-core machine shows what scale-out costs and how the work splits between processes, not its gain: the
servers and the load generator share the two cores (bench/README.md, "Scale-out").
"""

import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

import run
from loadgen import percentile, rss_mib
from seam_process import redis_answers, redis_argv

# main just before the scale-out commits (106a9d1..2bdc2d0, which landed on main without a merge of their own).
BASE = "adbb8d2"
MANY = 10_000  # sockets on one process
MANY_BROADCASTS = 30
BLOCKS = 4  # HEAD against base: fan-out in this many alternating blocks per run
SPREAD = 2_000  # sockets over 1 and over 2 processes
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def git(*args):
    return subprocess.run(["git", "-C", run.ROOT, *args], check=True, capture_output=True, text=True).stdout.strip()


class Redis:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self, workdir):
        self.port = run.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(redis_argv(self.port, workdir), stdout=subprocess.DEVNULL)
        if not redis_answers(self.port, 30):
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
        try:
            self.base_ids = run.prepare(self.base_dir, root=self.tree)  # an older SEAM refuses a newer database
        except BaseException:
            self.__exit__()
            raise
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
        """SEAM at HEAD and at the base commit, each from its own tree on its own database, both up at once on the
        server core: reads in alternating wrk bursts, then fan-out N=1000 in BLOCKS alternating blocks of
        mutations (order flipped each block and each run), so the machine's other load falls on both alike."""
        sides = {"head": (run.ROOT, self.workdir, ids), "base": (self.tree, self.base_dir, self.base_ids)}
        servers = {}
        try:
            for side, (root, workdir, _) in sides.items():
                servers[side] = run.Server("seam", workdir, root=root)
            keys = {side: run.tokens(server.url) for side, server in servers.items()}
            targets = {side: (s.url, keys[side][0], [s.proc.pid]) for side, s in servers.items()}
            reads = run.alternating_reads(targets, self.args.seconds)
            blocks = {side: [] for side in sides}
            order = ["head", "base"] if index % 2 == 0 else ["base", "head"]
            for block in range(BLOCKS):
                for side in order if block % 2 == 0 else order[::-1]:
                    server, (admin, writer) = servers[side], keys[side]
                    count = self.args.broadcasts // BLOCKS
                    blocks[side].append(fanout(server.url, [server], admin, writer, sides[side][2], 1000, count))
            return {side: {"reads": reads[side], "fanout": merge(blocks[side])} for side in sides}
        finally:
            for server in servers.values():
                server.stop()


def merge(blocks):
    """Fan-out blocks of one server as one: percentiles over every broadcast, CPU and faults summed."""
    last = [x for b in blocks for x in b["raw_ms"]["last"]]
    count = sum(b["broadcasts"] for b in blocks)
    return {
        "n": blocks[0]["n"],
        "broadcasts": count,
        "blocks": len(blocks),
        "completed": sum(b["completed"] for b in blocks),
        "p50": statistics.median(last),
        "p95": percentile(last, 95),
        "p99": percentile(last, 99),
        "http_p50": statistics.median([x for b in blocks for x in b["raw_ms"]["http"]]),
        "cpu_ms_per_broadcast": sum(b["cpu_ms_per_broadcast"] * b["broadcasts"] for b in blocks) / count,
        **{key: sum(b[key] for b in blocks) for key in ("lost", "duplicated", "out_of_order")},
        "raw_ms": {key: [x for b in blocks for x in b["raw_ms"][key]] for key in ("last", "first", "http")},
    }


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
            targets = {name: (nginx.urls[name], run.tokens(nginx.urls[name])[0]) for name in ("one", "two")}
            pids = {"one": [single.proc.pid, nginx.proc.pid], "two": [*(s.proc.pid for s in pair), nginx.proc.pid]}
            targets = {name: (*target, pids[name]) for name, target in targets.items()}
            result["reads"] = run.alternating_reads(targets, max(3, args.seconds // 2))
        finally:
            nginx.stop()
        return result
    finally:
        for server in started:
            server.stop()
        redis.stop()

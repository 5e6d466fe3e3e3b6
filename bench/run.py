# SPDX-License-Identifier: MIT
"""`make bench`: SEAM and its baselines pinned to core 0, load from core 1, bench/RESULTS.md written.

Every server is started fresh for each measurement set; medians [min–max] over --runs runs; ratios
are taken between servers measured in the same run. Raw numbers go to bench/results.json.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata

import report
import scale
from loadgen import server_cpu_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PYTHON = sys.executable  # the load generators (aiohttp, from requirements-dev.txt)
RUNTIME = os.path.join(BENCH, ".venv-runtime", "bin", "python")  # servers, as deployed: requirements.txt only
SERVER_PYTHON = RUNTIME if os.path.exists(RUNTIME) else PYTHON
SERVER_CORE, CLIENT_CORE = "0", "1"
CLIENT_ENV = {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=67108864"}
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@seam.bench", "bench-admin-pass"
WRITER_EMAIL = "writer@seam.bench"
USERS = 50
# SEAM's max_connections for every bench server: its default (1000) would keep the writer's connection waiting
# once 1000 sockets are open, and 10,000 sockets need room of their own.
MAX_CONNECTIONS = 12_000
BURST_SECONDS = 2  # metrics cost: one wrk burst against one server, alternating between the two
SOCKET_SERVERS = [
    *("floor", "stock-untuned", "stock-tuned"),  # baselines.py
    *("seam-stock", "seam-queued", "seam-d2", "seam"),  # seam_variant.py
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as response:
        return json.loads(response.read())


class Server:
    """One server process pinned to `cores` (the server core); `started` is seconds from spawn to /healthz 200.
    SEAM comes from the source tree `root` (another commit's worktree for a same-run comparison), with `flags`
    added to its command line."""

    def __init__(self, kind, workdir, rows_path=None, root=ROOT, cores=SERVER_CORE, flags=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if kind.startswith("seam"):
            variant = {"seam": "full", "seam-metrics": "full"}.get(kind, kind.removeprefix("seam-"))
            args = [os.path.join(root, "bench", "seam_variant.py"), variant, f"--port={self.port}"]
            args += [f"--db_path={os.path.join(workdir, 'seam.db')}", "--log_level=warning", "--bcrypt_rounds=12"]
            args += [f"--admin_email={ADMIN_EMAIL}", f"--max_connections={MAX_CONNECTIONS}", *flags]
            if kind == "seam-metrics":
                args.append("--metrics=true")  # every request observed by prometheus_client (issue 15)
        elif kind.startswith("stock"):
            args = [os.path.join(BENCH, "baselines.py"), "stock", str(self.port), kind.removeprefix("stock-")]
        else:
            args = [os.path.join(BENCH, "baselines.py"), kind, str(self.port)] + ([rows_path] if rows_path else [])
        env = {**os.environ, "SEAM_ADMIN_PASSWORD": ADMIN_PASSWORD}
        spawned = time.perf_counter()
        self.proc = subprocess.Popen(["taskset", "-c", cores, SERVER_PYTHON, *args], cwd=workdir, env=env)
        deadline = spawned + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"{kind} did not become healthy")
            time.sleep(0.005)
        self.started = time.perf_counter() - spawned

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def loadgen(mode, *args):
    command = ["taskset", "-c", CLIENT_CORE, PYTHON, os.path.join(BENCH, "loadgen.py"), mode, *map(str, args)]
    out = subprocess.run(command, env={**os.environ, **CLIENT_ENV}, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"loadgen {mode} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def wrk(url, connections, seconds, token):
    command = ["taskset", "-c", CLIENT_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {token}", url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = p99 = requests = None
    errors = 0
    for line in out.splitlines():
        parts = line.split()
        if parts[1:3] == ["requests", "in"]:
            requests = int(parts[0])
        elif line.startswith("Requests/sec:"):
            rps = float(parts[1])
        elif parts[:1] == ["99%"]:
            p99 = to_ms(parts[1])
        elif "Non-2xx" in line or line.strip().startswith("Socket errors"):
            errors += 1
    if rps is None or p99 is None or not requests or errors:
        raise SystemExit(f"wrk failed or saw errors:\n{out}")
    return {"rps": rps, "p99": p99, "requests": requests}


def to_ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(text)


def prepare(workdir, root=ROOT):
    """An existing database: admin, a writer (admin role) and USERS users in all; the 50-row JSON."""
    server = Server("seam", workdir, root=root)
    try:
        admin = http("POST", server.url + "/api/v1/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        token = admin["data"]["token"]
        role_id = admin["data"]["user"]["roleId"]

        def create(i, email):
            body = {"full_name": f"Bench User {i}", "email": email, "password": ADMIN_PASSWORD, "roleId": role_id}
            return http("POST", server.url + "/api/v1/users", body, token)["data"]["idUser"]

        writer = create(1, WRITER_EMAIL)
        subject = create(2, "subject@seam.bench")
        for i in range(3, USERS):
            create(i, f"user{i}@seam.bench")
        rows = http("GET", server.url + "/api/v1/users?limit=50", token=token)
        assert len(rows["data"]) == USERS, len(rows["data"])
        with open(os.path.join(workdir, "rows.json"), "w") as f:
            json.dump(rows, f)
    finally:
        server.stop()
    return {"writer": writer, "subject": subject}


def tokens(url):
    login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    admin = http("POST", url + "/api/v1/auth/login", login)["data"]["token"]
    writer = http("POST", url + "/api/v1/auth/login", {**login, "email": WRITER_EMAIL})["data"]["token"]
    return admin, writer


def reads(server, token, seconds):
    """wrk on GET /api/v1/users at 16 and 64 connections, after a 2 s warm-up; with the server's on-CPU time
    per request answered (`cpu_us`), which other jobs on a shared machine disturb far less than req/s."""
    url = server.url + "/api/v1/users"
    wrk(url, 16, 2, token)
    figures = {}
    for connections in (16, 64):
        before = server_cpu_seconds(server.proc.pid)
        figures[connections] = wrk(url, connections, seconds, token)
        spent = server_cpu_seconds(server.proc.pid) - before
        figures[connections]["cpu_us"] = 1e6 * spent / figures[connections]["requests"]
    return figures


def counted_reads(url):
    """GET /api/v1/users 200s in the server's own /metrics: proof the instrumentation ran under the load."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        text = response.read().decode()
    found = re.search(
        r'^seam_http_requests_total\{method="GET",route="/api/v1/users",status="200"\} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


def alternating_reads(targets, rounds):
    """wrk on GET /api/v1/users against several servers that are up at once, in 2 s bursts alternating between
    them, the order reversed each round, so the load other jobs put on a shared machine falls on all alike.
    `targets`: side -> (url, token, pids whose CPU counts). Per side and connection count: mean req/s and median
    p99 of the bursts, and on-CPU µs per request answered, of all the pids (`cpu_us`) and of each one."""
    sides = list(targets)
    for url, token, _ in targets.values():
        wrk(url + "/api/v1/users", 16, 2, token)  # warm-up: the page cache of every process behind it
    result = {}
    for connections in (16, 64):
        bursts = {side: [] for side in sides}
        for round_ in range(rounds):
            for side in sides if round_ % 2 == 0 else sides[::-1]:
                url, token, pids = targets[side]
                before = [server_cpu_seconds(pid) for pid in pids]
                burst = wrk(url + "/api/v1/users", connections, BURST_SECONDS, token)
                spent = [server_cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
                bursts[side].append({**burst, "cpu": spent})
        for side, measured in bursts.items():
            requests = sum(b["requests"] for b in measured)
            by_pid = [1e6 * sum(b["cpu"][i] for b in measured) / requests for i in range(len(targets[side][2]))]
            result.setdefault(side, {})[connections] = {
                "rps": statistics.mean(b["rps"] for b in measured),
                "p99": statistics.median(b["p99"] for b in measured),
                "requests": requests,
                "cpu_us": sum(by_pid),
                "cpu_us_by_pid": by_pid,
            }
    return result


def metrics_cost(workdir, args):
    """Reads with metrics off and on (issue 15): both servers up at once (each on a copy of the database), in
    alternating wrk bursts (`alternating_reads`), `--seconds` rounds per connection count."""
    on_dir = os.path.join(workdir, "metrics-on")
    os.makedirs(on_dir, exist_ok=True)
    shutil.copy(os.path.join(workdir, "seam.db"), on_dir)
    servers = {}
    try:
        servers = {"off": Server("seam", workdir), "on": Server("seam-metrics", on_dir)}
        targets = {side: (s.url, tokens(s.url)[0], [s.proc.pid]) for side, s in servers.items()}
        result = alternating_reads(targets, args.seconds)
        result["counted"] = counted_reads(servers["on"].url)
        return result
    finally:
        for server in servers.values():
            server.stop()


def postgres_beside_sqlite(workdir, ids, args):
    """Reads, mutation latency and fan-out at 1000 sockets, SEAM on SQLite and on PostgreSQL (issue 14) in the same
    run: PostgreSQL 15 with its default durability (fsync, synchronous_commit) pinned to the server core beside
    SEAM, holding a migrate-to copy of the same database."""
    sys.path.insert(0, ROOT)
    from tests.support.postgres import PostgresServer

    database = PostgresServer(options=(), prefix=("taskset", "-c", SERVER_CORE))
    try:
        url = database.database(migrated=False)
        copy = [SERVER_PYTHON, os.path.join(ROOT, "seam.py"), f"--db_path={os.path.join(workdir, 'seam.db')}"]
        subprocess.run([*copy, "migrate-to", url], check=True, capture_output=True, cwd=workdir)
        result = {"server_version": database.sql("SHOW server_version")[0][0]}
        for side, flags in (("sqlite", ()), ("postgres", (f"--database_url={url}",))):
            server = Server("seam", workdir, flags=flags)
            try:
                admin, writer = tokens(server.url)
                common = ["--url", server.url, "--token", admin, "--writer-token", writer, "--pid", server.proc.pid]
                common += ["--mutate", f"/api/v1/users/{ids['subject']}", "--count", args.broadcasts]
                result[side] = {
                    "reads": reads(server, admin, args.seconds),
                    "fanout": loadgen("fanout", *common, "--n", 1000),
                }
            finally:
                server.stop()
        return result
    finally:
        database.close()


def one_run(workdir, ids, args):
    result = {"http": {}, "fanout": {}, "memory": {}, "startup": None, "logins": None}
    rows = os.path.join(workdir, "rows.json")
    for kind in ("bare", "seam"):
        server = Server(kind, workdir, rows if kind == "bare" else None)
        try:
            token = tokens(server.url)[0] if kind == "seam" else "none"
            result["http"][kind] = reads(server, token, args.seconds)
            if kind == "seam":
                result["startup"] = server.started
        finally:
            server.stop()
    for kind in SOCKET_SERVERS:  # named in report.NAMES
        server = Server(kind, workdir)
        try:
            admin, writer = tokens(server.url) if kind.startswith("seam") else ("bench", "bench")
            common = ["--url", server.url, "--token", admin, "--writer-token", writer, "--pid", server.proc.pid]
            common += ["--mutate", f"/api/v1/users/{ids['subject']}", "--count", args.broadcasts]
            result["fanout"][kind] = {n: loadgen("fanout", *common, "--n", n) for n in (100, 1000)}
        finally:
            server.stop()
    for kind in ("stock-tuned", "seam"):
        server = Server(kind, workdir)
        try:
            admin = tokens(server.url)[0] if kind == "seam" else "bench"
            result["memory"][kind] = loadgen(
                "memory", "--url", server.url, "--token", admin, "--pid", server.proc.pid, "--n", 1000
            )
        finally:
            server.stop()
    server = Server("seam", workdir)
    try:
        admin = tokens(server.url)[0]
        result["logins"] = loadgen(
            "logins", "--url", server.url, "--token", admin, "--email", WRITER_EMAIL, "--password", ADMIN_PASSWORD
        )
    finally:
        server.stop()
    return result


def machine():
    model = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?"
    )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    return {
        "cpu": f"{os.cpu_count()} × {model}",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "servers_venv": "requirements.txt only" if SERVER_PYTHON == RUNTIME else "the dev venv",
        "packages": {p: metadata.version(p) for p in ("tornado", "python-socketio", "python-engineio", "aiohttp")},
        "wrk": wrk_version.split(" [")[0],
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg": os.getloadavg()[0],  # the machine is shared: how busy it was as the run ended
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per measurement")
    parser.add_argument("--broadcasts", type=int, default=100)
    parser.add_argument("--output", default=os.path.join(BENCH, "RESULTS.md"))
    parser.add_argument(
        "--only",
        choices=["metrics-cost", "scale", "postgres"],
        help="run only this comparison; the rest of results.json is kept",
    )
    parser.add_argument("--base", default=scale.BASE, help="scale: the commit SEAM at HEAD is compared with")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("taskset"):
        raise SystemExit("bench needs wrk and taskset (apt-get install wrk util-linux)")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited: 10,000 sockets need as many descriptors
    results = os.path.join(BENCH, "results.json")
    workdir = tempfile.mkdtemp(prefix="seam-bench-")
    try:
        ids = prepare(workdir)
        runs, costs, scaled, backends = [], [], [], []
        with scale.Setup(workdir, args) as setup:
            for i in range(args.runs):
                print(f"run {i + 1}/{args.runs}", flush=True)
                if not args.only:
                    runs.append(one_run(workdir, ids, args))
                if args.only in (None, "metrics-cost"):
                    costs.append(metrics_cost(workdir, args))
                if args.only in (None, "scale"):
                    scaled.append(setup.run(i, ids))
                if args.only in (None, "postgres"):
                    backends.append(postgres_beside_sqlite(workdir, ids, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.only:
        with open(results) as f:
            raw = json.load(f)
    else:
        raw = {"machine": machine(), "args": vars(args), "runs": runs}
    if costs:
        raw["metrics_cost"] = {"machine": machine(), "args": vars(args), "runs": costs}
    if scaled:
        raw["scale"] = {"machine": machine(), "args": vars(args), "base": setup.base, "runs": scaled}
        raw["scale"]["max_connections"] = MAX_CONNECTIONS
    if backends:
        raw["postgres"] = {"machine": machine(), "args": vars(args), "runs": backends}
    with open(results, "w") as f:
        json.dump(raw, f, indent=1)
    with open(args.output, "w") as f:
        f.write(report.render(json.loads(json.dumps(raw))))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""bench/results.json → bench/RESULTS.md (also runnable alone: `python bench/report.py`)."""

import json
import os
import statistics
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
NAMES = {
    "floor": "floor: one send() per socket, not Socket.IO",
    "stock-untuned": "stock python-socketio `emit`, GC untouched",
    "stock-tuned": "stock python-socketio `emit`, GC tuned",
    "seam-stock": "SEAM with python-socketio's own AsyncManager",
    "seam-queued": "SEAM, FanoutManager queued path only (b)",
    "seam-d2": "SEAM, direct frame via IOStream.write (d2)",
    "seam": "**SEAM as shipped** (d3: socket.send when idle)",
}


def spread(values, digits=1):
    """median [min–max]"""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(values):.{digits}f}–{max(values):.{digits}f}]"


def median(values):
    return statistics.median(values)


def at_most(name, limit, values, digits=1):
    """A row of the targets table for an upper bound: (figure, target, median [min–max], met)."""
    return (name, f"≤ {limit}", spread(values, digits), median(values) <= limit)


def at_least(name, limit, values, digits=2):
    """The same for a lower bound."""
    return (name, f"≥ {limit:.2f}", spread(values, digits), median(values) >= limit)


def metrics_cost(cost):
    """The 'Metrics cost' section: reads with `metrics` off and on, measured in the same run (issue 15)."""
    runs, m = cost["runs"], cost["machine"]

    def reads(side, conns, key):
        return [r[side][str(conns)][key] for r in runs]

    def ratio(a, b):
        return [x / y for x, y in zip(a, b, strict=True)]

    lines = ["\n## Metrics cost (issue 15)\n"]
    lines.append(
        f"`GET /api/v1/users` as above, SEAM with `metrics` off and on, both servers up at once on core 0 and wrk "
        f"in 2 s bursts alternating between them ({cost['args']['seconds']} bursts each per figure, the order "
        f"flipped every round), {len(runs)} runs on {m['date']}, servers from a venv with {m['servers_venv']}"
        f"{'; only this comparison was run: `bench/run.py --only metrics-cost`' if cost['args'].get('only') else ''}."
        " With metrics on, every request is counted and timed (route, method, status) for prometheus_client."
        " *CPU/req* is the server's on-CPU time (all threads, `/proc/<pid>/task/*/schedstat`) per request answered:"
        " a core's throughput is its inverse, and other jobs on a shared machine disturb it less than req/s, so"
        " the target (under 5 % fewer requests per second) is judged on it. Absolute figures are comparable with"
        " the Reads table only when both come from the same run and the machine was equally busy.\n"
    )
    lines.append(
        "| conns | off req/s | on req/s | on ÷ off req/s | off CPU/req µs | on CPU/req µs | "
        "req/s per core, on ÷ off | met (≥ 0.95) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for conns in (16, 64):
        off_cpu, on_cpu = reads("off", conns, "cpu_us"), reads("on", conns, "cpu_us")
        per_core = ratio(off_cpu, on_cpu)
        lines.append(
            f"| {conns} | {spread(reads('off', conns, 'rps'), 0)} | {spread(reads('on', conns, 'rps'), 0)} | "
            f"{spread(ratio(reads('on', conns, 'rps'), reads('off', conns, 'rps')), 3)} | {spread(off_cpu, 0)} | "
            f"{spread(on_cpu, 0)} | {spread(per_core, 3)} | {'yes' if median(per_core) >= 0.95 else '**no**'} |"
        )
    counted = spread([r["counted"] for r in runs], 0)
    lines.append(f"\nRequests the metrics-on server counted itself (`seam_http_requests_total`, per run): {counted}.")
    return lines


def backends(compared):
    """The 'PostgreSQL beside SQLite' section (issue 14): the same reads, mutations and fan-out on both backends."""
    runs, m = compared["runs"], compared["machine"]

    def figure(side, *path):
        values = []
        for run in runs:
            value = run[side]
            for key in path:
                value = value[key]
            values.append(value)
        return values

    lines = ["\n## PostgreSQL beside SQLite (issue 14)\n"]
    lines.append(
        f"SEAM on its SQLite file and on PostgreSQL {runs[0]['server_version']} (`database_url`, a `migrate-to` copy"
        f" of the same database, default durability: fsync and synchronous_commit on, the server pinned to core 0"
        f" beside SEAM), one after the other in each of {len(runs)} runs on {m['date']}"
        f"{'; only this comparison was run: `bench/run.py --only postgres`' if compared['args'].get('only') else ''}."
        " Reads: wrk on `GET /api/v1/users` as above. Mutation: the `PUT /api/v1/users/:id` answer (p50 over the"
        f" {compared['args']['broadcasts']} of the fan-out run, each unit taking the advisory lock on PostgreSQL)."
        " Fan-out: that PUT → `data:changed` at the last of 1000 sockets.\n"
    )
    lines.append(
        "| backend | 16 conns req/s | 16 conns p99 ms | 64 conns req/s | 64 conns p99 ms | PUT p50 ms | "
        "N=1000 last p50 ms | N=1000 last p99 ms | CPU/bcast ms (SEAM) |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for side, label in (("sqlite", "SQLite (default)"), ("postgres", "PostgreSQL")):
        cells = [
            spread(figure(side, "reads", "16", "rps"), 0),
            spread(figure(side, "reads", "16", "p99")),
            spread(figure(side, "reads", "64", "rps"), 0),
            spread(figure(side, "reads", "64", "p99")),
            spread(figure(side, "fanout", "http_p50"), 2),
            spread(figure(side, "fanout", "p50")),
            spread(figure(side, "fanout", "p99")),
            spread(figure(side, "fanout", "cpu_ms_per_broadcast"), 2),
        ]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    lines.append(
        "\nWhy they differ: reads barely touch the database on either backend (the user page and the auth slice are"
        " kept in the process until the next write), so they stay close; what is left is asyncpg's round trip"
        " where SQLite reads in-process. A mutation is where PostgreSQL costs more: its unit is some eight round"
        " trips to another process (BEGIN, the advisory lock, the unit's reads and writes, the change row and its"
        " retention, the data version, COMMIT with a WAL flush) against SQLite's in-process statements and one"
        " fsync. The fan-out itself is the same code on both; the last-socket time includes the PUT, so the"
        " mutation's extra milliseconds are most of its difference. CPU/bcast counts SEAM's threads only, not"
        " PostgreSQL's. One short run on a shared 2-core machine (other jobs were running): read the direction,"
        " not the digits."
    )
    return lines


def render(raw):
    runs, m = raw["runs"], raw["machine"]
    lines = []
    out = lines.append

    def http(kind, conns, key):
        return [r["http"][kind][str(conns)][key] for r in runs]

    def fan(kind, n, key):
        return [r["fanout"][kind][str(n)][key] for r in runs]

    def ratio(a, b):
        return [x / y for x, y in zip(a, b, strict=True)]

    read16 = ratio(http("seam", 16, "rps"), http("bare", 16, "rps"))
    read64 = ratio(http("seam", 64, "rps"), http("bare", 64, "rps"))
    p99x64 = ratio(http("seam", 64, "p99"), http("bare", 64, "p99"))
    mem = [r["memory"]["seam"] for r in runs]
    drift = [100 * (x["connected"][-1] / x["connected"][0] - 1) for x in mem]
    order = [
        sum(r["fanout"]["seam"][n][k] for n in ("100", "1000") for k in ("lost", "duplicated", "out_of_order"))
        for r in runs
    ]
    targets = [
        at_least("reads: SEAM req/s ÷ bare Tornado, 16 conns", 0.6, read16),
        at_least("reads: SEAM req/s ÷ bare Tornado, 64 conns", 0.6, read64),
        at_most("reads: SEAM p99 ÷ bare p99, 64 conns", 2, p99x64, 2),
        at_most("fan-out N=1000, last socket p50 (ms)", 30, fan("seam", 1000, "p50")),
        at_most("fan-out N=1000, last socket p99 (ms)", 45, fan("seam", 1000, "p99")),
        at_most("fan-out N=100, last socket p50 (ms)", 8, fan("seam", 100, "p50")),
        at_most("fan-out N=100, last socket p99 (ms)", 12, fan("seam", 100, "p99")),
        at_most("server CPU per 1000-socket broadcast (ms)", 25, fan("seam", 1000, "cpu_ms_per_broadcast")),
        ("lost + duplicated + out-of-order frames", "0", str(sum(order)), sum(order) == 0),
        at_most("cheap authenticated GET p99 while 8 logins run (ms)", 25, [r["logins"]["p99"] for r in runs]),
        at_most("RSS idle (MiB)", 60, [x["idle"] for x in mem]),
        at_most("RSS with 1000 sockets (MiB)", 100, [max(x["connected"]) for x in mem]),
        ("RSS 5th vs 1st connect cycle (%)", "within ±10", spread(drift), abs(median(drift)) <= 10),
        at_most("start-up to healthy, existing DB (s)", 1, [r["startup"] for r in runs], 2),
    ]

    out("# SEAM benchmark results\n")
    out(f"Generated by `make bench` on {m['date']} ({len(runs)} runs; figures: median [min–max] over the runs).\n")
    out(f"- Machine: {m['cpu']}, Linux {m['kernel']}; servers pinned to core 0, load generators to core 1 (`taskset`).")
    out(f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + f"; {m['wrk']}.")
    out(
        f"- Servers run from a venv with {m.get('servers_venv', '?')} (as deployed); load generators from the dev venv."
    )
    args = raw["args"]
    out(
        f"- wrk: 1 thread, {args['seconds']} s per figure after a 2 s warm-up; fan-out: {args['broadcasts']} "
        "sequential mutations per N, each after the previous one reached every socket, plus 20 ms."
    )
    out(
        "- **Noise:** a 2-vCPU VM; absolute numbers vary between runs and machines. Compare servers through "
        "the ratios, which were taken in the same run.\n"
    )
    out("## Targets (issue 8)\n")
    out("| figure | target | SEAM | met |")
    out("|---|---|---|---|")
    for name, target, value, met in targets:
        out(f"| {name} | {target} | {value} | {'yes' if met else '**no**'} |")

    out("\n## Reads: GET /api/v1/users (50 rows)\n")
    out("SEAM runs the full path (JWT, auth cache, RBAC, operation, envelope); the page itself comes from")
    out("SQLite once and is then kept until the next write to users or roles (every console tab reloads the")
    out("same page after each change). The bare handler `json.dumps` the same 50-row body from memory.\n")
    out("| server | 16 conns req/s | 16 conns p99 ms | 64 conns req/s | 64 conns p99 ms |")
    out("|---|---|---|---|---|")
    for kind, label in (("bare", "bare Tornado handler"), ("seam", "**SEAM**")):
        out(
            f"| {label} | {spread(http(kind, 16, 'rps'), 0)} | {spread(http(kind, 16, 'p99'))} | "
            f"{spread(http(kind, 64, 'rps'), 0)} | {spread(http(kind, 64, 'p99'))} |"
        )

    if raw.get("metrics_cost"):
        lines.extend(metrics_cost(raw["metrics_cost"]))
    if raw.get("postgres"):
        lines.extend(backends(raw["postgres"]))

    out("\n## Fan-out: mutation sent → `data:changed` at the LAST of N sockets (ms)\n")
    out("`PUT /api/v1/users/:id` by one user; N sockets of another admin watch. CPU = all server threads")
    out("(`/proc/<pid>/task/*/schedstat`) per broadcast at N=1000, including the HTTP request and the SQLite write.\n")
    out("| server | N=100 p50 | N=100 p99 | N=1000 p50 | N=1000 p95 | N=1000 p99 | CPU/bcast ms | lost/dup/disorder |")
    out("|---|---|---|---|---|---|---|---|")
    kinds = [k for k in NAMES if k in runs[0]["fanout"]]
    for kind in kinds:
        faults = sum(
            r["fanout"][kind][n][k]
            for r in runs
            for n in ("100", "1000")
            for k in ("lost", "duplicated", "out_of_order")
        )
        out(
            f"| {NAMES[kind]} | {spread(fan(kind, 100, 'p50'))} | {spread(fan(kind, 100, 'p99'))} | "
            f"{spread(fan(kind, 1000, 'p50'))} | {spread(fan(kind, 1000, 'p95'))} | {spread(fan(kind, 1000, 'p99'))} | "
            f"{spread(fan(kind, 1000, 'cpu_ms_per_broadcast'))} | {faults} |"
        )

    out("\n### Ratios in the same run (N=1000)\n")
    out("| ratio | last p50 | last p99 | server CPU |")
    out("|---|---|---|---|")
    for other, label in (
        ("stock-untuned", "stock python-socketio (GC untouched) ÷ SEAM"),
        ("stock-tuned", "stock python-socketio (GC tuned) ÷ SEAM"),
        ("seam-stock", "SEAM with stock manager ÷ SEAM"),
        ("seam-queued", "SEAM queued path (b) ÷ SEAM"),
        ("seam-d2", "SEAM d2 ÷ SEAM (d3)"),
        ("floor", "floor ÷ SEAM"),
    ):
        if other not in kinds:
            continue
        cells = [
            spread(ratio(fan(other, 1000, key), fan("seam", 1000, key)), 2)
            for key in ("p50", "p99", "cpu_ms_per_broadcast")
        ]
        out(f"| {label} | " + " | ".join(cells) + " |")

    out("\n## Memory (RSS, MiB)\n")
    out("| server | idle | 1000 sockets, cycles 1→5 | after disconnect, cycles 1→5 |")
    out("|---|---|---|---|")
    for kind in ("stock-tuned", "seam"):
        rows = [r["memory"][kind] for r in runs]
        cycles = len(rows[0]["connected"])
        connected = " / ".join(f"{median([x['connected'][i] for x in rows]):.0f}" for i in range(cycles))
        after = " / ".join(f"{median([x['after_disconnect'][i] for x in rows]):.0f}" for i in range(cycles))
        out(f"| {NAMES[kind]} | {spread([x['idle'] for x in rows])} | {connected} | {after} |")

    out("\n## Logins and start-up (SEAM)\n")
    out("| figure | value |")
    out("|---|---|")
    out(f"| GET /api/v1/auth/me p99, quiet (ms) | {spread([r['logins']['quiet_p99'] for r in runs])} |")
    out(f"| same while 8 logins (bcrypt 12) run: p50 (ms) | {spread([r['logins']['p50'] for r in runs])} |")
    out(f"| same: p99 (ms) | {spread([r['logins']['p99'] for r in runs])} |")
    out(f"| logins completed during the probe | {spread([r['logins']['logins'] for r in runs], 0)} |")
    out(f"| start-up to /healthz 200, existing database (s) | {spread([r['startup'] for r in runs], 2)} |")

    out("\n## Notes\n")
    out(
        f"- The load client's own floor (the `floor` row) read p99 {spread(fan('floor', 100, 'p99'))} ms at N=100 "
        f"and {spread(fan('floor', 1000, 'p99'))} ms at N=1000 in these runs. "
        "A p99 over 100 broadcasts is the second-slowest one: on this shared VM, bursts of ~100 ms in which "
        "both cores slow down (the floor, which does no Socket.IO and no database work, gets them too) decide "
        "it. `results.json` keeps every broadcast's timings (`raw_ms`: last and first socket, HTTP response); "
        "server CPU per broadcast and the ratios are the steadier figures."
    )
    out(
        "- SEAM's mutation includes a durable SQLite commit (WAL, `synchronous=FULL`, one fsync) before the "
        "broadcast; the baselines write nothing. Its latency is part of every SEAM fan-out figure."
    )
    out(
        "- The bare Tornado handler keeps Tornado's defaults (it computes an ETag, a SHA-1 of the body); "
        "SEAM's API handlers do not (`no-store` bodies), which is part of why SEAM can read faster than it."
    )
    out("\n## Reproduce\n")
    out("```")
    out(
        "make bench                                  # all of the above, writes bench/RESULTS.md and bench/results.json"
    )
    out(".venv/bin/python bench/run.py --runs 1 --seconds 5 --broadcasts 30   # a quick look")
    out(".venv/bin/python bench/run.py --only metrics-cost   # only the metrics on/off comparison (~5 min)")
    out(".venv/bin/python bench/report.py            # re-render this file from bench/results.json")
    out("```")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    with open(os.path.join(BENCH, "results.json")) as f:
        text = render(json.load(f))
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BENCH, "RESULTS.md")
    with open(target, "w") as f:
        f.write(text)

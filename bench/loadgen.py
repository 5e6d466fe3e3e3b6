# SPDX-License-Identifier: MIT
"""The socket and latency load client: one process, many raw Engine.IO v4 websockets, one JSON result.

Sockets are plain asyncio protocols that speak the websocket and Engine.IO/Socket.IO framing
themselves and parse frames in `data_received` (no Task or queue per message, no Socket.IO client
library), so the client stays well below the servers it measures; HTTP goes through aiohttp.
Run it with the allocator tunables of PERF-NOTES (bench/run.py does), pinned to its own core.

    loadgen.py fanout  --url U --n N --count C --mutate PATH --token T [--writer-token W] --pid P [P...]
                       [--socket-urls U1,U2] [--mutate-urls U1,U2]   (several processes: sockets spread
                       round-robin over the socket URLs, mutations alternate over the mutate URLs)
    loadgen.py memory  --url U --n N --cycles K --token T --pid P
    loadgen.py logins  --url U --token T --email E --password P --seconds S
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import statistics
import sys
import time
import urllib.parse

import aiohttp

DATA_CHANGED = b'42["data:changed"'


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def server_cpu_seconds(pid):
    """On-CPU time of every thread of the server (first field of /proc/<pid>/task/*/schedstat, ns)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def client_frame(text):
    """A masked client→server text frame (the all-zero mask is valid and leaves the payload as is)."""
    data = text.encode()
    if len(data) < 126:
        return bytes([0x81, 0x80 | len(data)]) + b"\0\0\0\0" + data
    return bytes([0x81, 0x80 | 126]) + len(data).to_bytes(2, "big") + b"\0\0\0\0" + data


class Swarm:
    """N sockets; counts the j-th data:changed of every socket towards broadcast j."""

    def __init__(self, n):
        self.n = n
        self.sockets = []
        self.connected = 0
        self.all_connected = asyncio.Event()
        self.counts = []
        self.last_at = []
        self.first_at = []
        self.complete = {}
        self.errors = []

    def arrived(self, ordinal):
        while len(self.counts) <= ordinal:
            self.counts.append(0)
            self.last_at.append(None)
            self.first_at.append(time.perf_counter())
        self.counts[ordinal] += 1
        if self.counts[ordinal] == self.n:
            self.last_at[ordinal] = time.perf_counter()
            waiter = self.complete.pop(ordinal, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def wait_complete(self, ordinal):
        if ordinal < len(self.counts) and self.counts[ordinal] >= self.n:
            return asyncio.sleep(0)
        fut = asyncio.get_running_loop().create_future()
        self.complete[ordinal] = fut
        return fut


class EioSocket(asyncio.Protocol):
    def __init__(self, swarm, request, auth):
        self.swarm = swarm
        self.request = request
        self.auth = auth
        self.buffer = bytearray()
        self.upgraded = False
        self.transport = None
        self.seqs = []
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(self.request)

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data):
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.swarm.errors.append(bytes(buf[:80]).decode(errors="replace"))
                self.transport.close()
                return
            del buf[: end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            size, offset = buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, offset = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, offset = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < offset + size:
                return
            opcode = buf[0] & 0x0F
            payload = bytes(buf[offset : offset + size])
            del buf[: offset + size]
            if opcode == 1:
                self.on_text(payload)
            elif opcode == 8:
                self.transport.close()
                return

    def on_text(self, payload):
        if payload.startswith(DATA_CHANGED):
            at = payload.find(b'"seq":')
            end = at + 6
            while payload[end : end + 1].isdigit():
                end += 1
            self.seqs.append(int(payload[at + 6 : end]))
            self.swarm.arrived(len(self.seqs) - 1)
        elif payload == b"2":
            self.transport.write(client_frame("3"))
        elif payload.startswith(b"0{"):
            self.transport.write(client_frame("40" + json.dumps(self.auth)))
        elif payload.startswith(b"40"):
            self.swarm.connected += 1
            if self.swarm.connected == self.swarm.n:
                self.swarm.all_connected.set()
        elif payload.startswith(b"44"):
            self.swarm.errors.append(payload.decode())


async def connect_swarm(urls, n, token):
    """n sockets, socket i on urls[i % len(urls)]; returns once every one has its Socket.IO connect."""
    key = base64.b64encode(os.urandom(16)).decode()
    targets = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        request = (
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        targets.append((request, parts.hostname, parts.port))
    swarm = Swarm(n)
    loop = asyncio.get_running_loop()

    def connect(i):
        request, host, port = targets[i % len(targets)]
        return loop.create_connection(lambda: EioSocket(swarm, request, {"token": token}), host, port)

    for start in range(0, n, 50):
        batch = [connect(i) for i in range(start, min(n, start + 50))]
        swarm.sockets += [protocol for _, protocol in await asyncio.gather(*batch)]
    async with asyncio.timeout(max(60, n / 50)):
        while not swarm.all_connected.is_set():
            if swarm.errors:
                raise SystemExit(f"socket refused: {swarm.errors[0]}")
            await asyncio.sleep(0.01)
    return swarm


async def close_swarm(swarm):
    for s in swarm.sockets:
        s.transport.close()
    await asyncio.gather(*(s.closed for s in swarm.sockets))


def order_report(swarm, broadcasts):
    """Lost, duplicated and out-of-order data:changed frames over every socket."""
    seen = set()
    for s in swarm.sockets:
        seen.update(s.seqs)
    lost = dup = disorder = 0
    for s in swarm.sockets:
        lost += len(seen - set(s.seqs)) + max(0, broadcasts - len(seen))
        dup += len(s.seqs) - len(set(s.seqs))
        disorder += sum(1 for a, b in zip(s.seqs, s.seqs[1:], strict=False) if b < a)
    return {"lost": lost, "duplicated": dup, "out_of_order": disorder}


async def fanout(args):
    started = time.perf_counter()
    swarm = await connect_swarm(args.socket_urls or [args.url], args.n, args.token)
    connect_s = time.perf_counter() - started
    targets = [url + args.mutate for url in args.mutate_urls or [args.url]]
    headers = {"Authorization": f"Bearer {args.writer_token or args.token}", "Content-Type": "application/json"}
    lasts, firsts, responses = [], [], []
    # A bounded PUT: a server that keeps the writer's connection waiting fails the run instead of hanging it.
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as http:
        await asyncio.sleep(0.5)
        rss = [rss_mib(pid) for pid in args.pid]
        cpu_before = [server_cpu_seconds(pid) for pid in args.pid]
        for j in range(args.count):
            body = json.dumps({"full_name": f"Bench User {j % 2}"})
            started = time.perf_counter()
            async with http.put(targets[j % len(targets)], data=body) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"mutation failed: {response.status} {await response.text()}")
            responses.append(time.perf_counter() - started)
            try:
                async with asyncio.timeout(5):
                    await swarm.wait_complete(j)
                lasts.append(swarm.last_at[j] - started)
                firsts.append(swarm.first_at[j] - started)
            except TimeoutError:
                swarm.complete.pop(j, None)
            await asyncio.sleep(0.02)
        cpu = [server_cpu_seconds(pid) - before for pid, before in zip(args.pid, cpu_before, strict=True)]
    await asyncio.sleep(0.2)
    await close_swarm(swarm)
    ms = [1000 * x for x in lasts]
    return {
        "n": args.n,
        "broadcasts": args.count,
        "completed": len(lasts),
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms),
        "http_p50": 1000 * statistics.median(responses),
        "cpu_ms_per_broadcast": 1000 * sum(cpu) / args.count,
        "cpu_ms_by_pid": [1000 * c / args.count for c in cpu],
        "connect_s": connect_s,
        "rss_mib_by_pid": rss,
        **order_report(swarm, args.count),
        "raw_ms": {
            "last": [round(1000 * x, 2) for x in lasts],
            "first": [round(1000 * x, 2) for x in firsts],
            "http": [round(1000 * x, 2) for x in responses],
        },
    }


async def memory(args):
    pid = args.pid[0]
    result = {"idle": rss_mib(pid), "connected": [], "after_disconnect": []}
    for _ in range(args.cycles):
        swarm = await connect_swarm([args.url], args.n, args.token)
        await asyncio.sleep(1.0)
        result["connected"].append(rss_mib(pid))
        await close_swarm(swarm)
        await asyncio.sleep(1.5)
        result["after_disconnect"].append(rss_mib(pid))
    return result


async def logins(args):
    """p50/p99 of a cheap authenticated GET while 8 logins run back to back."""
    stop = asyncio.Event()
    done = []

    async def login_loop(http):
        while not stop.is_set():
            body = {"email": args.email, "password": args.password}
            async with http.post(args.url + "/api/v1/auth/login", json=body) as response:
                await response.read()
                done.append(response.status)

    async with aiohttp.ClientSession() as http, aiohttp.ClientSession() as probe:
        headers = {"Authorization": f"Bearer {args.token}"}
        quiet = []
        for _ in range(200):
            started = time.perf_counter()
            async with probe.get(args.url + args.probe, headers=headers) as response:
                await response.read()
            quiet.append(time.perf_counter() - started)
            await asyncio.sleep(0.005)
        loops = [asyncio.create_task(login_loop(http)) for _ in range(8)]
        await asyncio.sleep(0.3)
        times = []
        deadline = time.perf_counter() + args.seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with probe.get(args.url + args.probe, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            times.append(time.perf_counter() - started)
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.gather(*loops)
    ms, quiet_ms = [1000 * t for t in times], [1000 * t for t in quiet]
    return {
        "quiet_p99": percentile(quiet_ms, 99),
        "p50": statistics.median(ms),
        "p99": percentile(ms, 99),
        "requests": len(ms),
        "logins": len(done),
        "login_statuses": sorted(set(done)),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["fanout", "memory", "logins"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", default="bench")
    parser.add_argument("--writer-token")
    parser.add_argument("--pid", type=int, nargs="+", help="server processes whose CPU (and RSS) are measured")
    parser.add_argument("--socket-urls", type=lambda text: text.split(","))
    parser.add_argument("--mutate-urls", type=lambda text: text.split(","))
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--mutate", default="/api/v1/users/2")
    parser.add_argument("--email")
    parser.add_argument("--password")
    parser.add_argument("--probe", default="/api/v1/auth/me")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one descriptor per socket: 10,000 and more
    result = asyncio.run({"fanout": fanout, "memory": memory, "logins": logins}[args.mode](args))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

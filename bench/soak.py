#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Soak: SEAM under 200 live sockets plus mixed read/write HTTP traffic for a bounded time.

Starts SEAM as a subprocess (temp dir, SEAM_* environment), connects the sockets (raw Engine.IO v4
websockets through aiohttp, answering pings), runs readers and writers, then checks:
  - no request failed (unexpected status or transport error);
  - every socket received exactly the data:changed events its user may see, i.e. the same seqs
    GET /changes returns for that user (SPEC §6/§7), none missing, none extra;
  - the server's RSS and open file descriptors at the end are within bounds of the start.
Prints a report and exits non-zero on any failure.   Usage: python bench/soak.py --seconds 20
"""

import argparse
import asyncio
import itertools
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.seam_process import SeamProcess  # noqa: E402

PASSWORD = "soak-pass-1"  # noqa: S105 - throwaway accounts of a temp database
FD_SLACK = 25
RSS_GROWTH_LIMIT_KIB = 64 * 1024
SETTLE_SECONDS = 15


class Socket:
    """One raw Engine.IO websocket: answers pings, records the seq of every data:changed."""

    def __init__(self, session, base_url, token, owner):
        self.session = session
        self.url = base_url + "/socket.io/?EIO=4&transport=websocket"
        self.token = token
        self.owner = owner
        self.seqs = []
        self.ws = None
        self.reader = None
        self.error = None

    async def connect(self):
        self.ws = await self.session.ws_connect(self.url, autoping=True, heartbeat=None)
        opened = await self.ws.receive_str(timeout=10)
        assert opened.startswith("0{"), opened
        await self.ws.send_str("40" + json.dumps({"token": self.token}))
        while True:
            frame = await self.ws.receive_str(timeout=10)
            if frame.startswith("2"):
                await self.ws.send_str("3")
                continue
            assert frame.startswith("40{"), frame
            break
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                data = frame.data
                if data == "2":
                    await self.ws.send_str("3")
                elif data.startswith("42"):
                    name, payload = json.loads(data[2:])[:2]
                    if name == "data:changed":
                        self.seqs.append(payload["seq"])
                elif data.startswith("41"):
                    self.error = "disconnected by the server"
        except Exception as error:  # reported, never swallowed: the soak fails on it
            self.error = repr(error)

    async def close(self):
        if self.reader:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()


class Load:
    """Readers and writers against the API; every unexpected status is an error."""

    def __init__(self, session, base_url, admin, limited_ids):
        self.session = session
        self.api = base_url + "/api/v1"
        self.admin = admin
        self.limited_ids = limited_ids
        self.requests = 0
        self.errors = []
        self.names = itertools.count()

    async def call(self, method, path, expected, body=None):
        headers = {"Authorization": f"Bearer {self.admin}"}
        try:
            async with self.session.request(method, self.api + path, json=body, headers=headers) as response:
                payload = await response.json()
                self.requests += 1
                if response.status != expected:
                    self.errors.append(f"{method} {path}: {response.status} {payload.get('message')}")
                return payload.get("data")
        except Exception as error:
            self.errors.append(f"{method} {path}: {error!r}")
            return None

    async def reader(self, until):
        paths = ["/users?limit=20", "/roles", "/permission", "/sidebar", "/sidebar/items", "/changes?limit=50"]
        while time.monotonic() < until:
            await self.call("GET", random.choice(paths), 200)

    async def writer(self, until):
        mine = []
        while time.monotonic() < until:
            choice = random.random()
            if choice < 0.35 or not mine:
                role = await self.call("POST", "/roles", 201, {"roleName": f"soak-{next(self.names)}"})
                if role:
                    mine.append(role["idRole"])
            elif choice < 0.55:
                await self.call("PUT", f"/roles/{random.choice(mine)}", 200, {"description": f"d{next(self.names)}"})
            elif choice < 0.7:
                await self.call("DELETE", f"/roles/{mine.pop()}", 200)
            elif choice < 0.85:
                user_id = random.choice(self.limited_ids)
                await self.call("PUT", f"/users/{user_id}", 200, {"full_name": f"Soak {next(self.names)}"})
            else:
                await self.call("POST", "/sidebar", 201, {"nameItem": f"item-{next(self.names)}"})


def delivery_problem(received, expected):
    """What is wrong with one socket's data:changed seqs: missing, duplicated, extra or out of order."""
    missing = sorted(set(expected) - set(received))
    extra = sorted(set(received) - set(expected))
    if missing or extra or len(received) != len(set(received)):
        return f"missing {missing[:10]}, extra {extra[:10]}, {len(received) - len(set(received))} duplicated"
    inversions = [(a, b) for a, b in zip(received, received[1:], strict=False) if b < a]
    return f"out of seq order at {inversions[:5]} ({len(inversions)} inversions)"


async def feed_seqs(session, base_url, token, since):
    """The seqs GET /changes shows this user after `since`: what its sockets must have received."""
    seqs, headers = [], {"Authorization": f"Bearer {token}"}
    while True:
        url = f"{base_url}/api/v1/changes?since={since}&limit=500"
        async with session.get(url, headers=headers) as response:
            body = await response.json()
        assert response.status == 200, body
        if not body["data"]:
            return seqs
        seqs += [item["seq"] for item in body["data"]]
        since = seqs[-1]


async def setup(seam, session, sockets):
    """An admin-role pool and a no-permission pool of users, each with its share of the sockets."""
    admin = seam.login()
    status, role = seam.request("POST", "/roles", {"roleName": "soak-limited"}, admin)
    assert status == 201, role
    tokens, limited_ids = {}, []
    for index in range(10):
        for kind, role_id in (("admin", 1), ("limited", role["data"]["idRole"])):
            email = f"{kind}{index}@soak.test"
            body = {"full_name": f"{kind} {index}", "email": email, "password": PASSWORD, "roleId": role_id}
            status, created = seam.request("POST", "/users", body, admin)
            assert status == 201, created
            tokens[email] = seam.login(email, PASSWORD)
            if kind == "limited":
                limited_ids.append(created["data"]["idUser"])
    owners = list(tokens)
    made = [
        Socket(session, seam.base_url, tokens[owners[i % len(owners)]], owners[i % len(owners)]) for i in range(sockets)
    ]
    for start in range(0, sockets, 50):
        await asyncio.gather(*(s.connect() for s in made[start : start + 50]))
    return admin, tokens, limited_ids, made


async def soak(args):
    report = {"seconds": args.seconds, "sockets": args.sockets, "failures": []}
    with (
        tempfile.TemporaryDirectory(prefix="seam-soak-") as workdir,
        SeamProcess(workdir, log_level="warning", login_max_failures=10**6) as seam,
    ):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
            admin, tokens, limited_ids, sockets = await setup(seam, session, args.sockets)
            start_seq = (await feed_seqs(session, seam.base_url, admin, 0))[-1]
            report["start"] = dict(zip(("rss_kib", "fds"), seam.resources(), strict=True))
            load = Load(session, seam.base_url, admin, limited_ids)
            until = time.monotonic() + args.seconds
            workers = [load.reader(until) for _ in range(args.readers)] + [
                load.writer(until) for _ in range(args.writers)
            ]
            await asyncio.gather(*workers)
            expected = {
                email: await feed_seqs(session, seam.base_url, token, start_seq) for email, token in tokens.items()
            }
            deadline = time.monotonic() + SETTLE_SECONDS
            for socket in sockets:  # changes made while setting up are not part of the run
                socket.seqs = [seq for seq in socket.seqs if seq > start_seq]
            while time.monotonic() < deadline and any(len(s.seqs) < len(expected[s.owner]) for s in sockets):
                await asyncio.sleep(0.1)
                for socket in sockets:
                    socket.seqs = [seq for seq in socket.seqs if seq > start_seq]
            report["end"] = dict(zip(("rss_kib", "fds"), seam.resources(), strict=True))
            report["requests"], report["errors"] = load.requests, len(load.errors)
            report["changes"] = len(expected["admin0@soak.test"])
            report["events_delivered"] = sum(len(s.seqs) for s in sockets)
            report["failures"] += load.errors[:20]
            for socket in sockets:
                if socket.error:
                    report["failures"].append(f"socket of {socket.owner}: {socket.error}")
                elif socket.seqs != expected[socket.owner]:
                    report["failures"].append(
                        f"socket of {socket.owner}: {delivery_problem(socket.seqs, expected[socket.owner])}"
                    )
            await asyncio.gather(*(s.close() for s in sockets))
        if seam.popen.poll() is not None:
            report["failures"].append(f"server exited: {seam.output()[-4000:]}")
    fd_growth = report["end"]["fds"] - report["start"]["fds"]
    rss_growth = report["end"]["rss_kib"] - report["start"]["rss_kib"]
    if fd_growth > FD_SLACK:
        report["failures"].append(f"open fds grew by {fd_growth}")
    if rss_growth > RSS_GROWTH_LIMIT_KIB:
        report["failures"].append(f"RSS grew by {rss_growth} KiB")
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180, help="duration of the traffic (default 180)")
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args(argv)
    report = asyncio.run(soak(args))
    start, end = report["start"], report["end"]
    print(f"soak: {report['seconds']}s, {report['sockets']} sockets, {report['requests']} requests, ")
    print(f"  errors: {report['errors']}, changes: {report['changes']}, events delivered: {report['events_delivered']}")
    print(f"  server RSS: {start['rss_kib']} KiB -> {end['rss_kib']} KiB; open fds: {start['fds']} -> {end['fds']}")
    for failure in report["failures"]:
        print("  FAIL:", failure)
    print(json.dumps({k: v for k, v in report.items() if k != "failures"} | {"failed": len(report["failures"])}))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

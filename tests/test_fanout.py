# SPDX-License-Identifier: MIT
"""The broadcast fast path (realtime/fanout.py) delivers exactly what stock python-socketio would.

Raw Engine.IO v4 websocket clients record every frame; a seeded random mix of broadcasts, room and
targeted emits, emits with callback and binary attachments runs, some awaited and some racing as
tasks, with asyncio.sleep(0) interleavings. Each socket's frames must equal the stock manager's run
frame for frame and the program order of the emits. A deliberately unsafe direct write must be caught.
"""

import asyncio
import gc
import json
import random
import weakref

import aiohttp
import pytest
import socketio
import tornado.httpserver
import tornado.netutil
import tornado.web
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from realtime.fanout import ChurnCollector, FanoutManager, fast_path_refused, socketio_handler

pytestmark = pytest.mark.both_backends

CLIENTS = 40
OPERATIONS = 150
ROOMS = 4
END = '42["end"]'


class UnsafeManager(FanoutManager):
    """Writes directly even while packets wait in the socket's queue: must be caught."""

    def _write_direct(self, socket, frame):
        handler = self.connections.get(socket)
        if handler is None or handler.ws_connection is None:
            return False
        handler.ws_connection.stream.write(frame)
        return True


class RawClient:
    """An Engine.IO v4 websocket client that answers pings and records every other frame."""

    def __init__(self, ws):
        self.ws = ws
        self.frames = []
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self):
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT and message.data == "2":
                await self.ws.send_str("3")
            elif message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                self.frames.append(message.data)


async def serve(manager):
    sio = socketio.AsyncServer(async_mode="tornado", client_manager=manager)
    sids = {}

    @sio.on("connect")
    async def connect(sid, environ, auth):
        sids[auth["i"]] = sid
        await sio.enter_room(sid, f"r{auth['i'] % ROOMS}")

    app = tornado.web.Application([(r"/socket\.io/", socketio_handler(sio))])
    server = tornado.httpserver.HTTPServer(app)
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    return sio, server, sids, sock.getsockname()[1]


async def connect_clients(session, port, count=CLIENTS):
    clients = []
    for i in range(count):
        ws = await session.ws_connect(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket")
        opened = await ws.receive_str()
        assert opened.startswith("0{")
        await ws.send_str("40" + json.dumps({"i": i}))
        assert (await ws.receive_str()).startswith("40{")
        clients.append(RawClient(ws))
    return clients


def plan(seed):
    """(kind, target, n) operations; n numbers every emit so each socket's order can be checked."""
    rng = random.Random(seed)
    kinds = ["all", "all", "rooms", "room", "one", "one", "callback", "skip", "binary"]
    return [
        (rng.choice(kinds), rng.randrange(CLIENTS), n, rng.random() < 0.4, rng.randrange(7)) for n in range(OPERATIONS)
    ]


def recipients(kind, target):
    if kind in ("one", "callback"):
        return {target}
    if kind in ("room", "binary"):
        return {i for i in range(CLIENTS) if i % ROOMS == target % ROOMS}
    if kind == "rooms":
        return {i for i in range(CLIENTS) if i % ROOMS in (0, target % ROOMS)}
    if kind == "skip":
        return set(range(CLIENTS)) - {target}
    return set(range(CLIENTS))


def emission(kind, target, n, sids):
    """(event, data, emit kwargs) of one planned operation."""
    data = {"n": n, "kind": kind}
    room = f"r{target % ROOMS}"
    return {
        "all": ("data:changed", data, {}),
        "rooms": ("data:changed", data, {"to": ["r0", room]}),
        "room": ("data:changed", data, {"to": room}),
        "one": ("operation:progress", data, {"to": sids.get(target)}),
        "callback": ("ack", data, {"to": sids.get(target), "callback": lambda *args: None}),
        "skip": ("data:changed", data, {"skip_sid": sids.get(target)}),
        "binary": ("blob", {**data, "raw": b"\x00\x01"}, {"to": room}),
    }[kind]


async def run(manager, seed):
    """(each client's frames, the order in which the emits began) against a server with this manager."""
    sio, server, sids, port = await serve(manager)
    started = []

    async def perform(kind, target, n):
        event, data, kwargs = emission(kind, target, n, sids)
        started.append(n)
        await sio.emit(event, data, **kwargs)

    async with aiohttp.ClientSession() as session:
        clients = await connect_clients(session, port)
        racing = []
        for kind, target, n, race, yields in plan(seed):
            if race:
                racing.append(asyncio.get_running_loop().create_task(perform(kind, target, n)))
            else:
                await perform(kind, target, n)
            for _ in range(yields):
                await asyncio.sleep(0)
        await asyncio.gather(*racing)
        await sio.emit("end", None)
        async with asyncio.timeout(10):
            while not all(c.frames and c.frames[-1] == END for c in clients):
                await asyncio.sleep(0.01)
        for client in clients:
            await client.ws.close()
            client.reader.cancel()
    server.stop()
    await sio.shutdown()
    return [client.frames for client in clients], started


def expected_frames(seed, started):
    """What each client must receive: every emit it is a recipient of, in the order the emits began,
    encoded as python-socketio encodes them (ack ids count per socket)."""
    planned = {n: (kind, target) for kind, target, n, _, _ in plan(seed)}
    per_client = [[] for _ in range(CLIENTS)]
    acks = [0] * CLIENTS
    for n in started:
        kind, target = planned[n]
        event, data, _ = emission(kind, target, n, {})
        for i in recipients(kind, target):
            ack = None
            if kind == "callback":
                acks[i] += 1
                ack = acks[i]
            encoded = sio_packet.Packet(sio_packet.EVENT, data=[event, data], id=ack).encode()
            for part in encoded if isinstance(encoded, list) else [encoded]:
                per_client[i].append(eio_packet.Packet(eio_packet.MESSAGE, part).encode())
    return [frames + [END] for frames in per_client]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_fast_path_delivers_what_stock_delivers(seed):
    frames, started = await run(socketio.AsyncManager(), seed)
    assert frames == expected_frames(seed, started)

    fast = FanoutManager()
    outcomes = []
    write_direct = fast._write_direct

    def counted(socket, frame):
        outcomes.append(write_direct(socket, frame))
        return outcomes[-1]

    fast._write_direct = counted
    frames, started = await run(fast, seed)
    assert frames == expected_frames(seed, started)
    assert outcomes.count(True) > 0 and outcomes.count(False) > 0  # both the direct and the queued path ran


async def test_an_unsafe_direct_write_is_caught():
    frames, started = await run(UnsafeManager(), 1)
    assert frames != expected_frames(1, started)


@pytest.mark.parametrize("compressed", [False, True])
async def test_websocket_compression_is_declined(compressed):
    """Browsers offer permessage-deflate; SEAM's handler declines it (engineio's stock one accepts)."""
    sio = socketio.AsyncServer(async_mode="tornado")
    handler = socketio.get_tornado_handler(sio) if compressed else socketio_handler(sio)
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/socket\.io/", handler)]))
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, compress=15) as ws:
        assert (await ws.receive_str()).startswith("0{")
        assert bool(ws.compress) is compressed
    server.stop()
    await sio.shutdown()


async def test_closed_websockets_are_freed_under_tuned_gc(monkeypatch):
    """With automatic GC off (seam.tune_gc makes it rare), a closed websocket's connection is still freed:
    the churn collector breaks engineio's frame/traceback cycles."""
    monkeypatch.setattr(ChurnCollector, "CLOSED_PER_COLLECTION", 5)
    manager = FanoutManager()
    sio, server, _, port = await serve(manager)
    gc.disable()
    try:
        async with aiohttp.ClientSession() as session:
            clients = await connect_clients(session, port, count=5)
            handlers = [weakref.ref(handler) for handler in manager.connections.values()]
            assert len(handlers) == 5
            for client in clients:
                await client.ws.close()
                client.reader.cancel()
            async with asyncio.timeout(5):
                while any(ref() is not None for ref in handlers):
                    await asyncio.sleep(0.01)
    finally:
        gc.enable()
        server.stop()
        await sio.shutdown()


def test_the_installed_libraries_are_the_verified_ones():
    """requirements.txt pins what the fast path was verified against: the two must move together."""
    assert fast_path_refused() is None

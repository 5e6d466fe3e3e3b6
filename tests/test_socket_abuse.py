# SPDX-License-Identifier: MIT
"""Socket abuse: bad-token handshake floods, clients that never answer pings, unknown events, huge payloads.

The client here is a raw websocket speaking Engine.IO v4 / Socket.IO v5 text frames through aiohttp,
so it can misbehave in ways python-socketio's client never would.
"""

import asyncio
import gc
import json
import logging
import tracemalloc

import aiohttp
import pytest

import messages as msg
from realtime.hub import MAX_CLIENT_MESSAGE

pytestmark = pytest.mark.both_backends

BASELINE_HANDSHAKES = 100
FLOOD_HANDSHAKES = 300
# Generous: a leak of the request, environ or engineio socket per handshake is tens of KiB.
MAX_GROWTH_PER_HANDSHAKE = 2048


class RawSocket:
    """One Engine.IO websocket connection; `frames` are the text frames received, pings included."""

    def __init__(self, session, base_url):
        self.session = session
        self.url = base_url + "/socket.io/?EIO=4&transport=websocket"
        self.ws = None
        self.frames = []

    async def open(self):
        self.ws = await self.session.ws_connect(self.url, autoping=False)
        opened = await self.ws.receive_str(timeout=5)
        assert opened.startswith("0{"), opened
        return json.loads(opened[1:])

    async def next_message(self):
        """The next Socket.IO frame (4x), ignoring Engine.IO pings (never answered)."""
        while True:
            frame = await self.ws.receive(timeout=5)
            if frame.type != aiohttp.WSMsgType.TEXT:
                return frame
            self.frames.append(frame.data)
            if not frame.data.startswith("2"):
                return frame.data

    async def connect(self, token):
        await self.ws.send_str("40" + json.dumps({"token": token}))
        return await self.next_message()

    async def wait_closed(self, timeout=10):
        """Read until the server closes the connection; bounded so a hung test still ends."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.ws.receive()
                if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return frame
                self.frames.append(frame.data)

    async def close(self):
        if self.ws is not None:
            await self.ws.close()


async def connected(session, base_url, token):
    """A RawSocket whose Socket.IO connect was accepted, and its sid."""
    raw = RawSocket(session, base_url)
    await raw.open()
    reply = await raw.connect(token)
    assert reply.startswith("40{"), reply
    return raw, json.loads(reply[2:])["sid"]


async def watched_raw_socket(session, api, base_url, sockets, caplog):
    """An admin's token, a watching tab and a connected RawSocket, with the log captured from here on."""
    token = await api.login()
    watcher = await sockets(token)
    raw, sid = await connected(session, base_url, token)
    caplog.clear()
    caplog.set_level(logging.INFO)
    return token, watcher, raw, sid


async def failed_handshakes(session, base_url, count):
    for index in range(count):
        raw = RawSocket(session, base_url)
        await raw.open()
        token = None if index % 3 == 0 else f"not.a.jwt.{index}"
        reply = await raw.connect(token)
        expected = msg.SOCKET_TOKEN_REQUIRED if token is None else msg.TOKEN_INVALID
        assert reply.startswith("44") and json.loads(reply[2:]) == {"message": expected}, reply
        await raw.close()


async def assert_others_still_served(api, token, watcher, role_name):
    """The server still works for everyone else: a role created now reaches the watcher's socket, once."""
    created = await api.fetch("POST", "/roles", json={"roleName": role_name}, token=token)
    assert created.status == 201
    await watcher.wait_for(lambda events: len(watcher.of("data:changed")) == 1)


async def settled(predicate, timeout=5):
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def traced_bytes():
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def ping_timers():
    """engineio's per-socket ping tasks: each keeps its (closed) socket alive until it fires."""
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.endswith("._send_ping")]


async def test_bad_token_handshake_flood_does_not_grow_memory(base_url, services):
    """What a refused handshake leaves behind is released: growth per handshake stays small.

    A refused (or any closed) socket is held by engineio's pending ping timer until ping_interval
    passes (25 s by default, ~5 KiB each): a plateau under a sustained flood, not unbounded growth.
    Whole-second intervals here so the timers fire quickly.
    """
    async with aiohttp.ClientSession() as session:
        eio = services.hub.sio.eio
        eio.ping_interval = 1

        def idle():
            return not eio.sockets and not ping_timers()

        await failed_handshakes(session, base_url, 5)  # warm up imports and caches before tracing
        tracemalloc.start()
        try:
            await failed_handshakes(session, base_url, BASELINE_HANDSHAKES)
            await settled(idle)
            baseline = traced_bytes()
            await failed_handshakes(session, base_url, FLOOD_HANDSHAKES)
            await settled(idle)
            grown = traced_bytes() - baseline
        finally:
            tracemalloc.stop()
        assert grown / FLOOD_HANDSHAKES < MAX_GROWTH_PER_HANDSHAKE, f"{grown} bytes after {FLOOD_HANDSHAKES} handshakes"
        assert services.hub.sockets == {} and services.hub.user_sids == {} and services.hub.expiry == {}
        assert services.hub.handshakes == {}  # each refused session took its deadline timer with it


async def test_client_that_never_answers_pings_is_dropped(api, base_url, services, sockets):
    async with aiohttp.ClientSession() as session:
        eio = services.hub.sio.eio
        eio.ping_interval, eio.ping_timeout = 1, 2  # whole seconds (engineio advertises int(interval) * 1000)
        token = await api.login()
        polite = await sockets(token)  # python-socketio answers every ping
        silent = RawSocket(session, base_url)
        opened = await silent.open()
        assert opened["pingInterval"] == 1000
        reply = await silent.connect(token)
        assert reply.startswith("40{")
        silent_sid = json.loads(reply[2:])["sid"]
        assert silent_sid in services.hub.sockets
        await silent.wait_closed()
        assert "2" in silent.frames  # it was pinged, did not answer, and was dropped
        await settled(lambda: silent_sid not in services.hub.sockets)
        assert polite.client.connected and polite.sid in services.hub.sockets
        await assert_others_still_served(api, token, polite, "tras-ping")


async def test_unknown_events_and_garbage_frames_are_harmless(api, base_url, services, sockets):
    async with aiohttp.ClientSession() as session:
        token = await api.login()
        watcher = await sockets(token)
        raw, _ = await connected(session, base_url, token)
        for frame in [
            '42["unknown:event",{"x":1}]',
            '42["data:changed",{"operation":"users:delete","data":{"idUser":1}}]',
            '42["session:revoked",{"reason":"forged"}]',
            "42" + json.dumps(["big", "x" * (MAX_CLIENT_MESSAGE // 2)]),
            '43["ack"]',
            "4garbage",
            "42[",
            "6",
        ]:
            await raw.ws.send_str(frame)
        await asyncio.sleep(0.2)  # let the server chew; the assertions below do not depend on timing
        await assert_others_still_served(api, token, watcher, "sigue-vivo")
        # nothing the client sent was relayed: the watcher saw only the real operation and its change
        assert {event["operation"] for _, event in watcher.events} == {"roles:create"}
        assert [change["data"]["roleName"] for change in watcher.of("data:changed")] == ["sigue-vivo"]
        assert watcher.of("session:revoked") == []
        assert (await api.fetch("GET", "/healthz", prefix="")).status == 200
        await raw.close()


@pytest.mark.parametrize(
    "frame", ["42[", "4garbage", "42", "43xyz", "44", "9zz", "x", "", b"\x01\x02", "4\n2026-01-01 ERROR forged"]
)
async def test_a_malformed_frame_closes_that_socket_with_one_log_line(api, base_url, services, sockets, caplog, frame):
    """Left to engineio/socketio, each such frame logged a traceback (twice) and the socket stayed open:
    a client could flood the log. Now: one escaped WARNING line, that socket closed, everyone else served."""
    async with aiohttp.ClientSession() as session:
        token, watcher, raw, sid = await watched_raw_socket(session, api, base_url, sockets, caplog)
        await (raw.ws.send_bytes(frame) if isinstance(frame, bytes) else raw.ws.send_str(frame))
        await raw.wait_closed()
        await settled(lambda: sid not in services.hub.sockets)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [(r.name, r.levelname) for r in warnings] == [("seam.realtime", "WARNING")], caplog.text
        assert "malformed Socket.IO message" in warnings[0].getMessage()
        assert "\n" not in warnings[0].getMessage() and warnings[0].exc_info is None
        await assert_others_still_served(api, token, watcher, "tras-basura")


async def test_huge_payload_closes_only_that_socket(api, base_url, services, sockets):
    async with aiohttp.ClientSession() as session:
        token = await api.login()
        watcher = await sockets(token)
        raw, sid = await connected(session, base_url, token)
        try:
            await raw.ws.send_str("42" + json.dumps(["flood", "x" * (4 * 1024 * 1024)]))
            await raw.wait_closed()
        except ConnectionError:
            pass  # the server closed the connection while the frame was still being written
        await settled(lambda: sid not in services.hub.sockets)
        await assert_others_still_served(api, token, watcher, "tras-inundacion")
        assert watcher.sid in services.hub.sockets


@pytest.mark.parametrize(
    "payload, status",
    [("4" + "x" * (MAX_CLIENT_MESSAGE * 4), 413), ("2", 400), ("9", 400), ("6\x1e4x", 400), (b"\xff\xfe", 400)],
)
async def test_polling_posts_engineio_would_hang_on_are_refused(api, base_url, services, payload, status):
    """Regression: engineio answered these by closing the session and awaiting a GET poll to drain the
    close packet, so the POST (and its body) stayed open for as long as the client chose not to poll."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        token = await api.login()
        async with session.get(base_url + "/socket.io/?EIO=4&transport=polling") as response:
            sid = json.loads((await response.text())[1:])["sid"]
        url = f"{base_url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with session.post(url, data="40" + json.dumps({"token": token})) as response:
            assert response.status == 200
        async with session.post(url, data=payload) as response:
            assert response.status == status
            assert (await response.json())["success"] is False
        async with session.get(url) as response:  # the session is still usable
            assert response.status == 200 and (await response.text()).startswith("40{")
    assert (await api.fetch("GET", "/healthz", prefix="")).status == 200


async def test_a_binary_event_closes_the_socket_before_any_attachment_is_buffered(
    api, base_url, services, sockets, caplog
):
    """Regression: a client announced attachments (`451-[...]`) and streamed them: socketio buffered each one
    (+60 MiB on one socket). SEAM takes no binary client events: the header closes the socket, one log line."""
    async with aiohttp.ClientSession() as session:
        token, watcher, raw, sid = await watched_raw_socket(session, api, base_url, sockets, caplog)
        await raw.ws.send_str('452-["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
        try:
            for _ in range(20):
                await raw.ws.send_bytes(b"\0" * (MAX_CLIENT_MESSAGE // 2))
        except ConnectionError:
            pass  # closed while the attachments were still being written
        await raw.wait_closed()
        await settled(lambda: sid not in services.hub.sockets)
        assert services.hub.sio._binary_packet == {}  # nothing was held waiting for the attachments
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [(r.name, r.getMessage().split(" ", 2)[2]) for r in warnings] == [
            ("seam.realtime", "closed: binary Socket.IO events are not accepted")
        ], caplog.text
        await assert_others_still_served(api, token, watcher, "tras-binario")


async def test_the_python_socketio_client_emitting_bytes_is_disconnected(api, services, sockets):
    token = await api.login()
    watcher, sender = await sockets(token), await sockets(token)
    await sender.client.emit("upload", {"file": b"\x00\x01" * 1000})
    await asyncio.wait_for(sender.disconnected.wait(), 10)
    await settled(lambda: list(services.hub.sockets) == [watcher.sid])
    await assert_others_still_served(api, token, watcher, "tras-bytes")


async def test_sessions_without_a_socketio_handshake_are_closed_at_the_deadline(api, base_url, services, sockets):
    """Regression: an Engine.IO session that never sent the Socket.IO CONNECT (or was refused and stayed) lived
    for as long as it answered pings. The deadline is 10 s; 1 s here."""
    services.hub.handshake_seconds = 1
    token = await api.login()
    watcher = await sockets(token)  # connected in time: its deadline is cancelled
    assert services.hub.handshakes == {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        silent = RawSocket(session, base_url)
        await silent.open()
        refused = RawSocket(session, base_url)
        await refused.open()
        reply = await refused.connect("not.a.token")
        assert reply.startswith("44"), reply
        async with session.get(base_url + "/socket.io/?EIO=4&transport=polling") as response:
            polling_sid = json.loads((await response.text())[1:])["sid"]
        assert len(services.hub.sio.eio.sockets) == 4
        for raw in (silent, refused):
            closed = await raw.wait_closed()
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        async with session.get(f"{base_url}/socket.io/?EIO=4&transport=polling&sid={polling_sid}") as poll:
            assert poll.status == 400 or (await poll.text()) == "1"  # gone, or its close packet
        await settled(lambda: len(services.hub.sio.eio.sockets) == 1)
    assert services.hub.handshakes == {}
    assert watcher.client.connected and list(services.hub.sockets) == [watcher.sid]
    await assert_others_still_served(api, token, watcher, "tras-plazo")

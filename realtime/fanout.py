# SPDX-License-Identifier: MIT
"""Broadcast fan-out near the socket floor (PERF-NOTES "d2"/"d3"): encode once, write once per idle websocket.

Stock python-socketio spends ~130 µs per recipient on a Task, engineio's queue and its writer task
(wait_for, another Task, Tornado's write_message Task). `FanoutManager` is a `client_manager` (the
supported extension point) that, for an emit without callback, encodes the Engine.IO packet and its
websocket frame once and then, per recipient:

* closed socket → skipped (stock drops it too);
* emit with callback or binary attachments → queued, without a Task per recipient;
* ping timed out → the stock `send` path (which closes it);
* on websocket, not upgrading, engineio queue empty and the writer parked in `queue.get()`, no
  compression → the pre-built frame goes straight to the connection: nothing earlier can still be in
  flight for that socket, so order is what the writer would have produced;
* otherwise → `put_nowait` of the same packet into the engineio queue (the writer keeps the order).

It relies on internals of the pinned tornado / python-engineio versions (requirements.txt);
tests/test_fanout.py compares it frame by frame with the stock manager.
"""

import asyncio
import gc
import importlib.metadata
import struct
import time
import weakref

import socketio
from engineio import async_socket as eio_socket
from engineio import packet as eio_packet
from engineio.async_drivers import tornado as eio_tornado
from socketio import packet as sio_packet
from tornado.iostream import IOStream, StreamClosedError

from web.listener import ConnectionStream

TEXT_FIN = 0x81
# Streams over a plain TCP socket (not TLS), so a frame may go to socket.send() directly: Tornado's and SEAM's.
PLAIN_STREAMS = (IOStream, ConnectionStream)
# The versions whose internals this module was written and tested against (tests/test_fanout.py).
VERIFIED = {"python-engineio": "4.15.1", "python-socketio": "5.18.1", "tornado": "6.6.1"}
# The internals it reaches for, by owner: checked at start-up so a renamed one cannot fail silently later.
INTERNALS = (
    (eio_socket.AsyncSocket, ("_websocket_handler", "_send_ping", "send")),
    (eio_tornado, ("WebSocket",)),
    (socketio.AsyncServer, ("_send_eio_packet", "_handle_eio_message")),
    (asyncio.Queue(), ("_getters", "_queue")),
    (IOStream, ("write",)),
)


def websocket_frame(text):
    """One unmasked, uncompressed server→client text frame (RFC 6455 §5.2)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        header = struct.pack("!BB", TEXT_FIN, size)
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", TEXT_FIN, 127, size)
    return header + data


def socketio_handler(sio):
    """The Socket.IO Tornado handler without permessage-deflate (events are small; compressed sockets
    could not take the direct path) and with TCP_NODELAY (back-to-back small frames must not wait for
    an ACK)."""

    class SocketIOHandler(socketio.get_tornado_handler(sio)):
        def get_compression_options(self):
            return None

        async def open(self, *args, **kwargs):
            self.set_nodelay(True)
            await super().open(*args, **kwargs)

    return SocketIOHandler


class ChurnCollector:
    """A full GC pass after every CLOSED_PER_COLLECTION closed websockets.

    engineio leaves each closed websocket in a reference cycle (its handler's frame ↔ the traceback
    of the read that failed), which only the cyclic GC frees; with seam.tune_gc's high thresholds
    that garbage reaches the old generation and would stay for hours, so memory grew by ~20 MiB per
    1000 sockets that came and went. One pass (start-up objects are frozen) costs a few ms per
    thousand live sockets and runs on the loop after the disconnect, not inside it.
    """

    CLOSED_PER_COLLECTION = 500

    def __init__(self):
        self.count = 0

    def closed(self):
        self.count += 1
        if self.count >= self.CLOSED_PER_COLLECTION:
            self.count = 0
            asyncio.get_running_loop().call_soon(gc.collect)


class FanoutManager(socketio.AsyncManager):
    plain_send = True  # d3: one socket.send() when Tornado has nothing buffered (False: IOStream.write, d2)

    def __init__(self):
        super().__init__()
        self.connections = {}  # engineio socket -> Tornado WebSocketHandler, while its websocket is open

    def set_server(self, server):
        """Wrap this server's engineio websocket driver: learn each websocket's Tornado handler, and when
        the connection ends, cancel its ping task (sleeping 25 s with the socket) and count it for GC."""
        super().set_server(server)
        eio = server.eio
        if eio._async.get("websocket") is not eio_tornado.WebSocket:
            return  # not Tornado: everything takes the queued path
        connections, pings, churn = self.connections, weakref.WeakKeyDictionary(), ChurnCollector()
        start_background_task = eio.start_background_task

        def start_tracked_task(target, *args, **kwargs):
            task = start_background_task(target, *args, **kwargs)
            if getattr(target, "__name__", "") == "_send_ping":
                pings[target.__self__] = task
            return task

        class TrackedWebSocket(eio_tornado.WebSocket):
            async def __call__(self, environ):
                socket = self.handler.__self__  # the bound AsyncSocket._websocket_handler
                connections[socket] = environ["tornado.handler"]
                try:
                    await super().__call__(environ)
                finally:
                    connections.pop(socket, None)
                    ping = pings.pop(socket, None)
                    if socket.closed and ping is not None:
                        ping.cancel()  # it only returns early for a closed socket
                    churn.closed()

        eio.start_background_task = start_tracked_task
        eio._async = {**eio._async, "websocket": TrackedWebSocket}

    def close_websocket(self, socket, code):
        """Close the websocket connection under an engineio socket, if it has one."""
        handler = self.connections.get(socket)
        if handler is not None:
            handler.close(code)

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        """Every packet is queued (or written) before this yields, like stock's tasks would in order."""
        room = to or room
        if namespace not in self.rooms:
            return
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        args = [event] + data
        shared = None if callback else self._packets(namespace, args)
        frame = None
        if shared and len(shared) == 1 and isinstance(shared[0].data, str):
            frame = websocket_frame(shared[0].encode())
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        eio = self.server.eio
        sockets, now, timeout = eio.sockets, time.time(), eio.ping_timeout
        late = []
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            socket = sockets.get(eio_sid)
            if socket is None or socket.closed:
                continue
            packets = shared or self._packets(namespace, args, self._generate_ack_id(sid, callback))
            if socket.last_ping and now - socket.last_ping > timeout:
                late.append((eio_sid, packets))
            elif frame is None or not self._write_direct(socket, frame):
                for pkt in packets:
                    socket.queue.put_nowait(pkt)
        if late:
            await asyncio.wait([asyncio.create_task(self._send_late(eio_sid, packets)) for eio_sid, packets in late])

    def _packets(self, namespace, args, ack_id=None):
        """The Engine.IO packets of one Socket.IO event (several when it carries binary attachments)."""
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=args, id=ack_id).encode()
        return [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]

    async def _send_late(self, eio_sid, packets):
        """A socket whose client stopped answering pings: the stock send path, which closes it."""
        for pkt in packets:
            await self.server._send_eio_packet(eio_sid, pkt)

    def _write_direct(self, socket, frame):
        """Write the frame now if nothing can be ahead of it for this socket; False → queue it instead.

        Runs once per recipient per broadcast, so it reads attributes directly and allocates nothing.
        """
        if not socket.upgraded or socket.upgrading or socket.closing:
            return False
        queue = socket.queue
        if queue._queue or not writer_parked(queue._getters):
            return False
        handler = self.connections.get(socket)
        conn = None if handler is None else handler.ws_connection
        if conn is None or conn._compressor is not None or conn.is_closing():
            return False
        stream = conn.stream
        try:
            if self.plain_send and not stream._write_buffer and type(stream) in PLAIN_STREAMS:
                sent = stream.socket.send(frame)  # d3: nothing buffered, so the kernel gets it in order
                if sent < len(frame):
                    stream.write(frame[sent:])
            else:
                stream.write(frame)
        except BlockingIOError:
            stream.write(frame)
        except (StreamClosedError, OSError):
            return False
        return True


def writer_parked(getters):
    """True when the socket's writer task waits in queue.get() (a getter future still pending)."""
    for getter in getters:
        if not getter.done():
            return True
    return False


def fast_path_refused():
    """Why the fast path must not run with the libraries installed here, or None when it may.

    A security upgrade of python-engineio, say, must fall back to the stock delivery, never break it.
    """
    for distribution, version in VERIFIED.items():
        try:
            installed = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            installed = "of unknown version"
        if installed != version:
            return f"{distribution} {installed} is not the verified {version}"
    for owner, names in INTERNALS:
        missing = [name for name in names if not hasattr(owner, name)]
        if missing:
            return f"{getattr(owner, '__name__', type(owner).__name__)} lacks {missing[0]}"
    return None


def client_manager(log):
    """The fast-path manager when the verified internals are there; else python-socketio's own, said in one line."""
    reason = fast_path_refused()
    if reason is None:
        return FanoutManager()
    log.warning("broadcast fast path off (%s): delivering through python-socketio's own manager", reason)
    return socketio.AsyncManager()

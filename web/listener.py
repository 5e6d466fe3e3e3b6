# SPDX-License-Identifier: MIT
"""Accepting connections (SPEC §10 "Connections"): at most `max_connections` open at once, a pause with one
log line per interval when file descriptors run out, and SEAM's envelope for requests Tornado cannot parse.

Tornado's own accept loop logs a traceback for every failed accept(): with descriptors exhausted the
listening socket stays readable, so it spun at ~83 % CPU writing ~6 MB/s of tracebacks.
"""

import errno
import logging
import resource
import time

import tornado.ioloop
import tornado.iostream
import tornado.netutil

import messages as msg
from web.responses import SECURITY_HEADERS, envelope

log = logging.getLogger("seam.server")
# accept() failing for lack of descriptors or memory: pause accepting, the kernel queues new connections meanwhile.
EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
ACCEPT_PAUSE_SECONDS = 1.0
LOG_INTERVAL_SECONDS = 60.0
ACCEPTS_PER_EVENT = 128  # as Tornado: a burst of connections must not starve everything else on the loop
# Descriptors SEAM needs besides its connections: database and WAL files, listening sockets, console files, logs.
DESCRIPTOR_RESERVE = 128
# Tornado's whole answer to a request it cannot parse (then it closes the connection).
TORNADO_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\n\r\n"


def bad_request_reply():
    """SEAM's 400 envelope, saying the connection closes (SPEC §8): a pooled client must not reuse it."""
    body = envelope(False, msg.BAD_REQUEST).encode()
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "Content-Length": str(len(body)),
        "Connection": "close",
        "Cache-Control": "no-store",
        **SECURITY_HEADERS,
    }
    head = "HTTP/1.1 400 Bad Request\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode() + b"\r\n" + body


BAD_REQUEST_REPLY = bad_request_reply()


class ConnectionStream(tornado.iostream.IOStream):
    """An accepted connection, counted until its descriptor closes (a websocket too, which Tornado's HTTP
    server forgets once upgraded)."""

    def __init__(self, listener, connection, **kwargs):
        self.listener = listener
        super().__init__(connection, **kwargs)

    def close_fd(self):
        try:
            super().close_fd()
        finally:
            self.listener.released()

    def write(self, data):
        if data == TORNADO_BAD_REQUEST:
            data = BAD_REQUEST_REPLY
        return super().write(data)


class EveryInterval:
    """One warning line per interval for a recurring condition, counting the times it recurred unlogged."""

    def __init__(self, message):
        self.message = message
        self.last = None
        self.unlogged = 0

    def warn(self, *args):
        now = time.monotonic()
        if self.last is not None and now - self.last < LOG_INTERVAL_SECONDS:
            self.unlogged += 1
            return
        log.warning(self.message + " [%d more since the last such line]", *args, self.unlogged)
        self.last, self.unlogged = now, 0


class Listener:
    """Feeds accepted connections to a Tornado HTTPServer, stopping while `max_connections` are open."""

    def __init__(self, server, max_connections):
        self.server = server
        self.max_connections = max_connections
        self.open = 0
        self.sockets = []
        self.accepting = False
        self.stopped = False
        self.resume = None  # the timer that ends a pause after running out of descriptors
        self.io_loop = None
        self.full = EveryInterval("max_connections (%d) reached: new connections wait until one closes")
        self.exhausted = EveryInterval("cannot accept connections (%s): pausing %.0fs")

    def listen(self, port, address):
        self.add_sockets(tornado.netutil.bind_sockets(port, address))

    def add_sockets(self, sockets):
        self.io_loop = tornado.ioloop.IOLoop.current()
        self.sockets.extend(sockets)
        self._start()

    def stop(self):
        """Stop accepting and close the listening sockets; open connections stay (the server closes them)."""
        self.stopped = True
        self._pause()
        if self.resume is not None:
            self.resume.cancel()
            self.resume = None
        for sock in self.sockets:
            sock.close()

    def released(self):
        self.open -= 1
        if self.resume is None and not self.stopped:
            self._start()

    def _start(self):
        if not self.accepting and self.open < self.max_connections:
            for sock in self.sockets:
                self.io_loop.add_handler(sock, self._accept, tornado.ioloop.IOLoop.READ)
            self.accepting = True

    def _pause(self):
        if self.accepting:
            for sock in self.sockets:
                self.io_loop.remove_handler(sock)
            self.accepting = False

    def _resume(self):
        self.resume = None
        if not self.stopped:
            self._start()

    def _accept(self, sock, events):
        for _ in range(ACCEPTS_PER_EVENT):
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if error.errno not in EXHAUSTED:
                    raise
                self.exhausted.warn(errno.errorcode.get(error.errno, error.errno), ACCEPT_PAUSE_SECONDS)
                self._pause()
                self.resume = self.io_loop.call_later(ACCEPT_PAUSE_SECONDS, self._resume)
                return
            self.open += 1
            server = self.server
            stream = ConnectionStream(
                self, connection, max_buffer_size=server.max_buffer_size, read_chunk_size=server.read_chunk_size
            )
            server.handle_stream(stream, address)
            if self.open >= self.max_connections:
                self.full.warn(self.max_connections)
                self._pause()
                return


def raise_descriptor_limit(max_connections):
    """Raise the soft RLIMIT_NOFILE to what max_connections needs (up to the hard limit); the limit in force."""
    needed = max_connections + DESCRIPTOR_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft != resource.RLIM_INFINITY and soft < needed:
        log.warning(
            "open file limit %d is below max_connections + %d: raise it (LimitNOFILE, ulimit -n) or lower"
            " max_connections",
            soft,
            DESCRIPTOR_RESERVE,
        )
    return soft

# SPDX-License-Identifier: MIT
"""The operation lifecycle (SPEC §6): start → processing… → exactly one success or error.

Every event of one operation goes through one ordered queue drained by a single task, so
emissions can never overtake each other, and callers (including the synchronous
`write_error`) never block on the socket layer.
"""

import asyncio
import collections
import os
import re

import attrs

import messages as msg
from store.changes import utc_now

OPERATION_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def operation_id_from(header):
    """The client's X-Operation-ID when well-formed, else a fresh one."""
    if header and OPERATION_ID.match(header):
        return header
    return os.urandom(16).hex()  # uuid4().hex's format without building a UUID object


class Operation:
    def __init__(self, hub, name, operation_id, socket_id, user_id=None):
        self.hub = hub
        self.name = name
        self.id = operation_id
        self.socket_id = socket_id
        self.user_id = user_id
        self.closed = False
        self.route = None  # realtime.hub.Route once known
        self.routing = None  # a future while other processes are being asked
        self.public = False
        self.held = []
        self.queue = collections.deque()
        self.drainer = None
        # Resolved once the closing event has been emitted: the change this operation committed waits for it.
        self.settled = asyncio.get_running_loop().create_future()
        if user_id is not None:
            self._find_route()

    def _find_route(self):
        """This process's answer when it has one; else ask the others first, before any event goes out."""
        route = self.hub.local_route(self.socket_id, self.user_id)
        if route is not None:
            self._take(route)
        else:
            self.routing = asyncio.get_running_loop().create_future()
            self.then(self._ask_other_processes)

    async def _ask_other_processes(self):
        try:
            self._take(await self.hub.shared_route(self.socket_id, self.user_id))
        finally:
            if not self.routing.done():
                self.routing.set_result(None)

    def _take(self, route):
        if self.public and route.honored is None:
            route = attrs.evolve(route, target=None)  # a public operation speaks only to its own named socket
        self.route = route

    def bind(self, user_id, public=True):
        """A public operation learns its user (login): only that user's own named socket may hear it."""
        self.user_id = user_id
        self.public = public
        self._find_route()
        held, self.held = self.held, []
        for payload in held:
            self._progress_payload(payload)

    async def initiator(self):
        """The honored X-Socket-ID (or None), once known: it is written into this operation's change row."""
        if self.routing is not None:
            await asyncio.shield(self.routing)
        return self.route.honored if self.route is not None else None

    def start(self):
        self._progress("start", msg.OP_START.format(operation=self.name))

    def processing(self, message, data=None):
        self._progress("processing", message, data)

    def success(self, message, data=None):
        self._close("success", message, data)

    def error(self, message):
        self._close("error", message)

    def _close(self, status, message, data=None):
        if self.closed:
            return
        self._progress(status, message, data)
        self.closed = True
        self.held = []
        self.then(self._settle)

    async def _settle(self):
        if not self.settled.done():
            self.settled.set_result(None)

    def _progress(self, status, message, data=None):
        if self.closed or (self.route is not None and not self._heard()):
            return  # no socket would receive it: skip building and queueing the event (most API calls)
        payload = {
            "operation": self.name,
            "status": status,
            "message": message,
            "data": data,
            "timestamp": utc_now(),
            "operationId": self.id,
        }
        if self.user_id is None:
            self.held.append(payload)
        else:
            self._progress_payload(payload)

    def _heard(self):
        route = self.route
        return route.target is not None and (route.remote or self.hub.listening(route.target))

    def _progress_payload(self, payload):
        self.then(lambda: self._emit(payload))

    async def _emit(self, payload):
        """Sent where the route says once it is known (a route still being looked up is ahead in the queue)."""
        route = self.route
        if route is not None and route.target is not None:
            await self.hub.emit("operation:progress", payload, to=route.target, remote=route.remote)

    def then(self, emission):
        """Queue an emission (a coroutine factory) after everything this operation queued before."""
        self.queue.append(emission)
        if self.drainer is None or self.drainer.done():
            self.drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self):
        while self.queue:
            emission = self.queue.popleft()
            try:
                await emission()
            except Exception:  # a socket going away must not break the operation's other events
                self.hub.log.exception("emission failed for operation %s", self.id)

    async def drained(self):
        if self.drainer is not None:
            await asyncio.shield(self.drainer)

"""The operation lifecycle (SPEC §6): start → processing… → exactly one success or error.

Every event of one operation goes through one ordered queue drained by a single task, so
emissions can never overtake each other, and callers (including the synchronous
`write_error`) never block on the socket layer.
"""

import asyncio
import collections
import os
import re

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
        self.honored_socket = None
        self.target = self._resolve() if user_id is not None else None
        self.held = []
        self.queue = collections.deque()
        self.drainer = None
        # Resolved once the closing event has been emitted: the change this operation committed waits for it.
        self.settled = asyncio.get_running_loop().create_future()

    def _resolve(self):
        self.honored_socket = self.hub.owned_socket(self.socket_id, self.user_id)
        return self.honored_socket or f"user:{self.user_id}"

    def bind(self, user_id, public=True):
        """A public operation learns its user (login): only that user's own named socket may hear it."""
        self.user_id = user_id
        self.target = self._resolve()
        if public and self.honored_socket is None:
            self.target = None
        held, self.held = self.held, []
        for payload in held:
            self._progress_payload(payload)

    @property
    def initiator(self):
        return self.honored_socket

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
        if self.closed or (self.user_id is not None and not self.hub.listening(self.target)):
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

    def _progress_payload(self, payload):
        if self.target is not None:
            target = self.target
            self.then(lambda: self.hub.emit("operation:progress", payload, to=target))

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

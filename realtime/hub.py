# SPDX-License-Identifier: MIT
"""The Socket.IO server (SPEC §6): handshake auth, rooms, socket ownership and every emit.

Handlers never call `sio.emit`; they go through the hub, which knows which socket
belongs to whom and who may read what.
"""

import asyncio
import logging
import re
import time
import urllib.parse

import attrs
import socketio

import messages as msg
from realtime.bridge import NUDGE, NUDGE_ROOM, Presence, close_manager, shared_manager
from realtime.fanout import client_manager, socketio_handler
from store.changes import change_view
from store.errors import Forbidden, Unauthorized, Unavailable
from web.responses import envelope, set_security_headers

EVERYONE = "authenticated"
# Engine.IO packet types a client may POST: close, pong, message, upgrade, and base64 binary messages.
CLIENT_PACKETS = frozenset("1345b")
# ... and send as websocket text frames: close, ping (the "2probe" of an upgrade), pong, message, upgrade.
WEBSOCKET_CLIENT_PACKETS = frozenset("12345")
# Clients only send the handshake (a token) and pings: anything bigger is refused before it is buffered.
MAX_CLIENT_MESSAGE = 64 * 1024
# An Engine.IO session that has not completed the Socket.IO CONNECT by then is closed (SPEC §10).
HANDSHAKE_SECONDS = 10
# Socket.IO BINARY_EVENT and BINARY_ACK: SEAM takes no binary client events, so their attachments are never awaited.
BINARY_PACKETS = frozenset("56")
# engineio's sids are 16 url-safe base64 characters; it logs an unknown one as given (NUL, CR/LF and all).
ENGINEIO_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def client_payload(body):
    """A polling body engineio can take without its error path, which holds the POST open until the next GET.

    Too large or an unknown packet type makes engineio disconnect the session and wait for a poll to drain
    the close packet: a client that never polls again pins that request (and its body) indefinitely.
    """
    try:
        packets = body.decode("utf-8").split("\x1e")
    except UnicodeDecodeError:
        return False
    return all(packet[:1] in CLIENT_PACKETS for packet in packets)


@attrs.frozen
class Route:
    """Where an operation's progress goes: a socket or a user's room, and whether through Redis (other processes)."""

    target: str | None
    honored: str | None = None  # the X-Socket-ID, when it is connected and the caller's
    remote: bool = False


class RealtimeHub:
    """This process's sockets. With `shared` (redis_url), one of several processes: progress for a socket another
    process holds goes through Redis, everything else stays local (each process applies every change itself)."""

    def __init__(self, authenticator, cache, cors_origins, session_view, shared=None, freshen=None):
        self.authenticator = authenticator
        self.cache = cache
        self.session_view = session_view
        self.freshen = freshen  # several processes: see what the others committed before checking a handshake
        self.log = logging.getLogger("seam.realtime")
        self.origins = frozenset(cors_origins)
        self.presence = None
        self.on_nudge = None  # set by whoever follows the changes table (another process committed)
        manager = client_manager(self.log)
        if shared is not None:
            manager = shared_manager(shared.url, type(manager), lambda: self.on_nudge and self.on_nudge())
            self.presence = Presence(shared.url, shared.instance, lambda: self.on_nudge and self.on_nudge())
        self.sio = socketio.AsyncServer(
            async_mode="tornado",
            client_manager=manager,
            cors_allowed_origins=self.origin_allowed,
            cors_credentials=False,
            max_http_buffer_size=MAX_CLIENT_MESSAGE,
            logger=False,
            engineio_logger=False,
        )
        self.sockets = {}  # sid -> (user_id, role_id)
        self.user_sids = {}  # user_id -> {sid}
        self.expiry = {}  # sid -> TimerHandle
        self.handshake_seconds = HANDSHAKE_SECONDS
        self.handshakes = {}  # Engine.IO sid -> TimerHandle, until its Socket.IO connect is accepted
        self.closed = False
        self.observe_broadcast = None  # metrics: called with each data:changed fan-out's duration in seconds
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)
        self.sio.eio.on("connect", self.on_engineio_connect)  # these three in place of socketio's own
        self.sio.eio.on("message", self.on_client_message)
        self.sio.eio.on("disconnect", self.on_engineio_disconnect)
        if shared is not None:
            prefix = f"{shared.instance}_"
            generate = self.sio.eio.generate_id
            self.sio.eio.generate_id = lambda: prefix + generate()  # nginx routes by it (deploy/nginx.conf)

    async def start(self):
        """Several processes: listen on Redis from now, not from the first socket (SCALE-NOTES), and register."""
        if self.presence is not None:
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
            await self.presence.start()

    @property
    def redis_state(self):
        """For /healthz: "off" (one process), "ok" or "unavailable"."""
        return "off" if self.presence is None else self.presence.state

    def origin_allowed(self, origin, environ):
        """Configured origins (SPEC §8) and the server's own (the bundled console); no Origin = not a browser."""
        return not origin or origin in self.origins or urllib.parse.urlsplit(origin).netloc == environ.get("HTTP_HOST")

    def tornado_handler(self):
        """The /socket.io/ route: engineio's handler with SEAM's headers, origin rule and message cap."""
        hub = self

        class SocketHandler(socketio_handler(self.sio)):
            def set_default_headers(self):
                set_security_headers(self)

            def check_origin(self, origin):
                return hub.origin_allowed(origin, {"HTTP_HOST": self.request.host})

            @property
            def max_message_size(self):
                return MAX_CLIENT_MESSAGE

            def prepare(self):
                """A sid no session can have would reach the log verbatim: a client could forge a line."""
                sid = self.get_query_argument("sid", None)
                if sid is not None and not ENGINEIO_SID.match(sid):
                    self._refuse(400, msg.BAD_REQUEST)

            async def on_message(self, message):
                """An Engine.IO packet type engineio does not know would log a traceback per frame."""
                if isinstance(message, str) and message[:1] not in WEBSOCKET_CLIENT_PACKETS:
                    hub.malformed(f"websocket from {self.request.remote_ip}", f"packet type {message[:1]}")
                    self.close(1002)
                    return
                await super().on_message(message)

            async def post(self, *args, **kwargs):
                if len(self.request.body) > MAX_CLIENT_MESSAGE:
                    return self._refuse(413, msg.BODY_TOO_LARGE)
                if not client_payload(self.request.body):
                    return self._refuse(400, msg.BAD_REQUEST)
                await super().post(*args, **kwargs)

            def _refuse(self, status, message):
                self.set_status(status)
                self.set_header("Content-Type", "application/json; charset=UTF-8")
                self.finish(envelope(False, message))

        return SocketHandler

    async def on_connect(self, sid, environ, auth):
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token or not isinstance(token, str):
            raise socketio.exceptions.ConnectionRefusedError(msg.SOCKET_TOKEN_REQUIRED)
        try:
            if self.freshen is not None:
                await self.freshen()
            identity = await self.authenticator.identify(token)
            identity.ensure_password_changed()  # a socket would show data the API refuses until then
        except Unauthorized:
            raise socketio.exceptions.ConnectionRefusedError(msg.TOKEN_INVALID) from None
        except (Forbidden, Unavailable) as refusal:  # Unavailable: the database cannot be reached now
            raise socketio.exceptions.ConnectionRefusedError(refusal.message) from None
        user = identity.user
        self.sockets[sid] = (user.idUser, user.roleId)
        self.user_sids.setdefault(user.idUser, set()).add(sid)
        for room in (f"user:{user.idUser}", f"role:{user.roleId}", EVERYONE):
            await self.sio.enter_room(sid, room)
        if self.presence is not None:
            self.presence.added(sid, user.idUser)
        loop = asyncio.get_running_loop()
        delay = max(0.0, identity.expires_at - time.time())
        self.expiry[sid] = loop.call_later(delay, lambda: loop.create_task(self._expire(sid)))
        handshake = self.handshakes.pop(self.sio.manager.eio_sid_from_sid(sid, "/"), None)
        if handshake:
            handshake.cancel()

    async def on_engineio_connect(self, eio_sid, environ):
        """socketio's own Engine.IO connect, plus a deadline for the Socket.IO CONNECT: a session that never
        sends it (or is refused and stays) would otherwise live for as long as it answers pings."""
        await self.sio._handle_eio_connect(eio_sid, environ)
        loop = asyncio.get_running_loop()
        self.handshakes[eio_sid] = loop.call_later(
            self.handshake_seconds, lambda: loop.create_task(self._handshake_missed(eio_sid))
        )

    async def on_engineio_disconnect(self, eio_sid, reason):
        """socketio's own, and the session's handshake deadline goes with it (not 10 s later: a flood of
        refused handshakes must not pile up timers)."""
        handshake = self.handshakes.pop(eio_sid, None)
        if handshake:
            handshake.cancel()
        await self.sio._handle_eio_disconnect(eio_sid, reason)

    async def _handshake_missed(self, eio_sid):
        if self.handshakes.pop(eio_sid, None) is not None:
            await self.drop(eio_sid, 1008)

    async def on_client_message(self, eio_sid, data):
        """socketio's message dispatch; a message it cannot take closes that socket with one log line.

        Left to the libraries, every malformed frame logs a full traceback (twice) and the socket stays
        open, so one client could flood the log; and a binary event's header makes socketio buffer every
        attachment the client announces (+60 MiB on one socket), so it is refused before any arrives."""
        if isinstance(data, str) and data[:1] in BINARY_PACKETS:
            self.log.warning("socket %s closed: binary Socket.IO events are not accepted", eio_sid)
            await self.drop(eio_sid, 1003)
            return
        try:
            await self.sio._handle_eio_message(eio_sid, data)
        except Exception as error:
            self.malformed(f"socket {eio_sid}", f"{type(error).__name__}: {error}")
            await self.drop(eio_sid, 1002)

    def malformed(self, who, detail):
        """One line, the client's text escaped and cut short: it must not forge or flood log lines."""
        self.log.warning("%s closed: malformed Socket.IO message (%.200r)", who, detail)

    async def drop(self, eio_sid, code):
        """Close an Engine.IO session now: its close packet is queued, not awaited (a polling client that never
        polls again would hold this forever), and the websocket under it is closed with `code`."""
        socket = self.sio.eio.sockets.pop(eio_sid, None)
        if socket is None:
            return
        await socket.close(wait=False)
        self.sio.manager.close_websocket(socket, code)

    async def on_disconnect(self, sid, *reason):
        timer = self.expiry.pop(sid, None)
        if timer:
            timer.cancel()
        owner = self.sockets.pop(sid, None)
        if owner:
            if self.presence is not None:
                self.presence.removed(sid, owner[0])
            sids = self.user_sids.get(owner[0], set())
            sids.discard(sid)
            if not sids:
                self.user_sids.pop(owner[0], None)

    async def _expire(self, sid):
        """A socket does not outlive the token it connected with."""
        if sid in self.sockets:
            await self._emit("session:revoked", {"reason": msg.REVOKED_EXPIRED}, to=sid)
            await self._disconnect(sid)

    def local_route(self, sid, user_id):
        """The progress route when this process alone can tell; None when other processes must be asked.

        The X-Socket-ID is honored only when it is connected and belongs to this user (no spoofing)."""
        if sid and self.sockets.get(sid, (None,))[0] == user_id:
            return Route(sid, sid)
        if self.presence is None:
            return Route(f"user:{user_id}")
        return None

    async def shared_route(self, sid, user_id):
        """Ask the other processes: a socket one of them holds (its owner checked there), else the user's room,
        through Redis when another process holds one of the user's sockets."""
        if sid and await self.presence.owner(sid) == user_id:
            return Route(sid, sid, remote=True)
        return Route(f"user:{user_id}", remote=await self.presence.elsewhere(user_id))

    def listening(self, room):
        """Whether any socket is in this room (every sid is also a room of its own)."""
        return bool(self.sio.manager.rooms.get("/", {}).get(room))

    def users_in_roles(self, role_ids):
        """Connected users whose current role is one of these."""
        return {user_id for user_id, role_id in self.sockets.values() if role_id in role_ids}

    async def emit(self, event, data, to, remote=False):
        """To a socket or room; `remote`: also on other processes (python-socketio's Redis manager)."""
        await self.sio.emit(event, data, to=to, ignore_queue=not remote)

    async def _emit(self, event, data, to):
        """To this process's own sockets: every process applies each change itself, from the table."""
        await self.sio.emit(event, data, to=to, ignore_queue=True)

    async def _disconnect(self, sid):
        await self.sio.disconnect(sid, ignore_queue=True)

    def nudge(self, seq):
        """Tell the other processes a change committed (they read it from the table); best effort."""
        if self.presence is not None and self.presence.up:
            asyncio.ensure_future(self.sio.emit(NUDGE, seq, to=NUDGE_ROOM))

    async def apply(self, change):
        """A committed change, as its row says: data:changed to whoever may see it, then its session effects.

        The effects run before the next change fans out, so that one reaches the rooms as they now are.
        """
        if change.broadcast:
            await self.data_changed(change)
        effects = change.effects
        refreshed = set(effects.refreshUsers) | self.users_in_roles(effects.refreshRoles)
        if refreshed:
            await self.session_changed(sorted(refreshed))
        for revocation in effects.revocations:
            await self.revoke(revocation.userId, revocation.reason, revocation.keepSocket)

    async def data_changed(self, change):
        """Permission-aware fan-out (SPEC §10): readers of the resource, plus the users and roles it is about."""
        if change.readPermission is None:
            rooms = [EVERYONE]
        else:
            readers = await self.cache.roles_holding(change.readPermission)
            roles = sorted(set(readers) | set(change.effects.refreshRoles))
            rooms = [f"role:{role}" for role in roles] + [f"user:{user}" for user in change.effects.subjects]
        if rooms:
            started = time.perf_counter()
            await self._emit("data:changed", change_view(change, with_audit=False), to=rooms)
            if self.observe_broadcast is not None:
                self.observe_broadcast(time.perf_counter() - started)

    async def session_changed(self, user_ids):
        """Push fresh {user, permissions, sidebarItems} to each user's tabs; their role room follows."""
        for user_id in user_ids:
            sids = list(self.user_sids.get(user_id, ()))
            if not sids:
                continue
            view = await self.session_view(user_id)
            if view is None:
                continue
            role_id = view["user"]["roleId"]
            for sid in sids:
                old = self.sockets.get(sid)
                if old and old[1] != role_id:
                    await self.sio.leave_room(sid, f"role:{old[1]}")
                    await self.sio.enter_room(sid, f"role:{role_id}")
                    self.sockets[sid] = (user_id, role_id)
            await self._emit("session:changed", view, to=f"user:{user_id}")

    async def revoke(self, user_id, reason, keep_sid=None):
        """Tell the user's sockets why, then disconnect them (all but the caller's on a password change)."""
        for sid in list(self.user_sids.get(user_id, ())):
            if sid == keep_sid:
                continue
            await self._emit("session:revoked", {"reason": reason}, to=sid)
            await self._disconnect(sid)

    async def close(self):
        """Disconnect every socket, then stop engineio's service task: once, as its shutdown() fails when repeated."""
        for timer in self.handshakes.values():
            timer.cancel()
        self.handshakes.clear()
        for sid in list(self.sockets):
            await self._disconnect(sid)
        if not self.closed:
            self.closed = True
            await self.sio.shutdown()
            if self.presence is not None:
                await self.presence.close()
                await close_manager(self.sio.manager)

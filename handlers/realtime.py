"""The Socket.IO server (SPEC §6): handshake auth, rooms, socket ownership and every emit.

Handlers never call `sio.emit`; they go through the hub, which knows which socket
belongs to whom and who may read what.
"""

import asyncio
import logging
import time

import socketio

import messages as msg
from handlers.fanout import FanoutManager, socketio_handler
from store.changes import READ_USERS
from store.errors import Unauthorized

EVERYONE = "authenticated"


class RealtimeHub:
    def __init__(self, authenticator, cache, cors_origins, session_view):
        self.authenticator = authenticator
        self.cache = cache
        self.session_view = session_view
        self.log = logging.getLogger("seam.realtime")
        self.sio = socketio.AsyncServer(
            async_mode="tornado",
            client_manager=FanoutManager(),
            cors_allowed_origins=list(cors_origins),
            logger=False,
            engineio_logger=False,
        )
        self.tornado_handler = socketio_handler(self.sio)
        self.sockets = {}  # sid -> (user_id, role_id)
        self.user_sids = {}  # user_id -> {sid}
        self.expiry = {}  # sid -> TimerHandle
        self.closed = False
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)

    async def on_connect(self, sid, environ, auth):
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token or not isinstance(token, str):
            raise socketio.exceptions.ConnectionRefusedError(msg.SOCKET_TOKEN_REQUIRED)
        try:
            identity = await self.authenticator.identify(token)
        except Unauthorized:
            raise socketio.exceptions.ConnectionRefusedError(msg.TOKEN_INVALID) from None
        user = identity.user
        self.sockets[sid] = (user.idUser, user.roleId)
        self.user_sids.setdefault(user.idUser, set()).add(sid)
        for room in (f"user:{user.idUser}", f"role:{user.roleId}", EVERYONE):
            await self.sio.enter_room(sid, room)
        loop = asyncio.get_running_loop()
        delay = max(0.0, identity.expires_at - time.time())
        self.expiry[sid] = loop.call_later(delay, lambda: loop.create_task(self._expire(sid)))

    async def on_disconnect(self, sid, *reason):
        timer = self.expiry.pop(sid, None)
        if timer:
            timer.cancel()
        owner = self.sockets.pop(sid, None)
        if owner:
            sids = self.user_sids.get(owner[0], set())
            sids.discard(sid)
            if not sids:
                self.user_sids.pop(owner[0], None)

    async def _expire(self, sid):
        """A socket does not outlive the token it connected with."""
        if sid in self.sockets:
            await self.sio.emit("session:revoked", {"reason": msg.REVOKED_EXPIRED}, to=sid)
            await self.sio.disconnect(sid)

    def owned_socket(self, sid, user_id):
        """The X-Socket-ID if it is connected and belongs to this user, else None (no spoofing)."""
        if sid and self.sockets.get(sid, (None,))[0] == user_id:
            return sid
        return None

    def listening(self, room):
        """Whether any socket is in this room (every sid is also a room of its own)."""
        return bool(self.sio.manager.rooms.get("/", {}).get(room))

    def users_in_roles(self, role_ids):
        """Connected users whose current role is one of these."""
        return {user_id for user_id, role_id in self.sockets.values() if role_id in role_ids}

    async def emit(self, event, data, to):
        await self.sio.emit(event, data, to=to)

    async def data_changed(self, change, payload):
        """Permission-aware fan-out: users changes reach readers of users and their subject only."""
        if change.audience == "users":
            rooms = [f"role:{role}" for role in sorted(await self.cache.roles_holding(READ_USERS))]
            if change.subjectUserId is not None:
                rooms.append(f"user:{change.subjectUserId}")
            if rooms:
                await self.sio.emit("data:changed", payload, to=rooms)
        else:
            await self.sio.emit("data:changed", payload, to=EVERYONE)

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
            await self.sio.emit("session:changed", view, to=f"user:{user_id}")

    async def revoke(self, user_id, reason, keep_sid=None):
        """Tell the user's sockets why, then disconnect them (all but the caller's on a password change)."""
        for sid in list(self.user_sids.get(user_id, ())):
            if sid == keep_sid:
                continue
            await self.sio.emit("session:revoked", {"reason": reason}, to=sid)
            await self.sio.disconnect(sid)

    async def close(self):
        """Disconnect every socket and stop Socket.IO; safe to call again (serve() and Services.stop both do)."""
        for sid in list(self.sockets):
            await self.sio.disconnect(sid)
        if not self.closed:
            self.closed = True
            await self.sio.shutdown()

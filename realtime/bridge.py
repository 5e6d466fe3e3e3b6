# SPDX-License-Identifier: MIT
"""Several SEAM processes as one service, over Redis (issue 13; SCALE-NOTES.md).

Only two things cross processes through Redis: operation:progress for a socket another process holds
(python-socketio's Redis manager delivers it) and a nudge that a change was committed. Everything
else a process needs it reads from the database: the changes table is the source of truth, so a lost
nudge (Redis pub/sub is at most once) only delays a change until the table is next read.

`Presence` keeps, per process, which user holds which socket, so a request may name a socket another
process holds and its owner is still checked (no spoofing across processes).
"""

import asyncio
import logging
import time

import socketio

log = logging.getLogger("seam.redis")
CHANNEL = "seam"
# An event on python-socketio's channel that never reaches a client: another process committed a change.
NUDGE = "seam:committed"
NUDGE_ROOM = "seam:processes"
HEARTBEAT_SECONDS = 2.0
LIVE_SECONDS = 10.0  # a process not heard from for this long holds no sockets as far as lookups go
LOOKUP_SECONDS = 0.25  # a request never waits longer than this on Redis; past it, it answers as if Redis were down
RETRY_MAX_SECONDS = 10.0
# Whether a live process other than ARGV[3] holds a socket of user ARGV[4] (ARGV[1] now, ARGV[2] LIVE_SECONDS).
HELD_ELSEWHERE = """
local seen = redis.call('HGETALL', 'seam:instances')
for i = 1, #seen, 2 do
  if seen[i] ~= ARGV[3] and tonumber(ARGV[1]) - tonumber(seen[i + 1]) < tonumber(ARGV[2]) then
    local count = redis.call('HGET', 'seam:users:' .. seen[i], ARGV[4])
    if count and tonumber(count) > 0 then return 1 end
  end
end
return 0
"""


def instance_of(sid):
    """The process tag a tagged socket id starts with (`p3001_…`), or None."""
    tag, sep, _ = (sid or "").partition("_")
    return tag if sep and tag.isalnum() and tag.islower() else None


def shared_manager(url, base, on_nudge):
    """python-socketio's Redis manager over `base` (the fan-out fast path for this process's own sockets, first
    in line after Redis in the MRO as SCALE-NOTES requires), which hands nudges to `on_nudge` instead of clients.

    Its own log lines (one per failed publish or listen retry) go to a quiet logger: Presence reports Redis'
    state once per change of state instead."""

    class SharedManager(socketio.AsyncRedisManager, base):
        async def _handle_emit(self, message):
            if message.get("event") == NUDGE:
                if message.get("host_id") != self.host_id:
                    on_nudge()
                return
            await super()._handle_emit(message)

    quiet = logging.getLogger("seam.redis.socketio")
    quiet.setLevel(logging.CRITICAL)
    return SharedManager(url, channel=CHANNEL, logger=quiet, redis_options={"socket_connect_timeout": 1})


class Presence:
    """Which sockets (and users) each process holds, in Redis hashes written in batches by one task.

    Lookups happen only for sockets and users this process does not hold, and never raise: with Redis
    down they answer "nobody elsewhere", and progress stays on this process's own sockets.
    """

    def __init__(self, url, instance, on_recovered):
        import redis.asyncio  # only a process with redis_url set needs (and pays for) the client

        self.redis = redis.asyncio.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.held_elsewhere = self.redis.register_script(HELD_ELSEWHERE)
        self.instance = instance
        self.on_recovered = on_recovered
        self.sockets_key = f"seam:sockets:{instance}"
        self.users_key = f"seam:users:{instance}"
        self.local = {}  # sid -> user id, what this process holds (re-written whole after an outage)
        self.queue = []  # pending writes, in order: ("add" | "remove", sid, user id)
        self.wake = asyncio.Event()
        self.up = None  # unknown until the first heartbeat
        self.lock = asyncio.Lock()  # a whole re-registration and a batch of writes never interleave
        self.tasks = []

    async def start(self):
        self.tasks = [asyncio.ensure_future(self._heartbeat()), asyncio.ensure_future(self._writer())]

    async def close(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self._forget_me(), LOOKUP_SECONDS * 4)
        except Exception:  # noqa: S110 - leaving anyway; another process drops us once our heartbeat is stale
            pass
        await self.redis.aclose()

    @property
    def state(self):
        return "ok" if self.up else "unavailable"

    def added(self, sid, user_id):
        self.local[sid] = user_id
        self._queue(("add", sid, user_id))

    def removed(self, sid, user_id):
        if self.local.pop(sid, None) is not None:
            self._queue(("remove", sid, user_id))

    def _queue(self, operation):
        if self.up:
            self.queue.append(operation)
            self.wake.set()

    async def owner(self, sid):
        """The user holding a socket another process holds, or None."""
        instance = instance_of(sid)
        if not self.up or instance is None or instance == self.instance:
            return None
        found = await self._ask(self.redis.hget(f"seam:sockets:{instance}", sid))
        return int(found) if found else None

    async def elsewhere(self, user_id):
        """Whether another live process holds a socket of this user: one round trip, whatever the process count."""
        if not self.up:
            return False
        found = await self._ask(self.held_elsewhere(args=[time.time(), LIVE_SECONDS, self.instance, user_id]))
        return bool(found)

    async def _ask(self, command):
        try:
            return await asyncio.wait_for(command, LOOKUP_SECONDS)
        except Exception as error:  # a request must not fail because Redis did
            self._down(error)
            return None

    async def _heartbeat(self):
        delay = HEARTBEAT_SECONDS
        while True:
            try:
                await self.redis.hset("seam:instances", self.instance, time.time())
                if not self.up:
                    await self._register_all()
                delay = HEARTBEAT_SECONDS
            except Exception as error:
                self._down(error)
                delay = min(RETRY_MAX_SECONDS, delay * 2)
            await asyncio.sleep(delay if not self.up else HEARTBEAT_SECONDS)

    async def _register_all(self):
        """After start or an outage: this process's sockets, written whole (writes made meanwhile were lost).

        The snapshot and the queue are cut at one instant, so every later connect or disconnect is in the queue,
        written after this by the writer."""
        async with self.lock:
            was_down = self.up is False
            snapshot, self.queue, self.up = dict(self.local), [], True
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(self.sockets_key, self.users_key)
            users = {}
            for sid, user_id in snapshot.items():
                pipe.hset(self.sockets_key, sid, user_id)
                users[user_id] = users.get(user_id, 0) + 1
            for user_id, count in users.items():
                pipe.hset(self.users_key, user_id, count)
            await pipe.execute()
        if was_down:
            log.warning(
                "redis reachable again: %d sockets registered; catching up from the changes table", len(snapshot)
            )
            self.on_recovered()

    def _down(self, error):
        if self.up is not False:
            # A timeout's text is empty: the type says what happened ("TimeoutError", "ConnectionError: …").
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            log.error("redis unreachable (%s): serving on, this process's sockets only; retrying", reason)
        self.up = False
        self.queue.clear()

    async def _writer(self):
        """One task writes every registration, a batch per pipeline: a connect storm must not open a Redis
        connection per socket (SCALE-NOTES: it exhausted redis-py's pool)."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            async with self.lock:
                batch, self.queue = self.queue, []
                if not batch:
                    continue
                pipe = self.redis.pipeline(transaction=False)
                for kind, sid, user_id in batch:
                    if kind == "add":
                        pipe.hset(self.sockets_key, sid, user_id)
                        pipe.hincrby(self.users_key, user_id, 1)
                    else:
                        pipe.hdel(self.sockets_key, sid)
                        pipe.hincrby(self.users_key, user_id, -1)
                try:
                    await pipe.execute()
                except Exception as error:
                    self._down(error)  # the heartbeat re-registers everything once Redis answers again

    async def _forget_me(self):
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(self.sockets_key, self.users_key)
        pipe.hdel("seam:instances", self.instance)
        await pipe.execute()


async def close_manager(manager):
    """Stop python-socketio's Redis listener (it has no close of its own) and drop its connections."""
    thread = getattr(manager, "thread", None)
    if thread is not None:
        thread.cancel()
        await asyncio.gather(thread, return_exceptions=True)
    if manager.redis is not None:
        await manager.redis.aclose()

# SPDX-License-Identifier: MIT
"""Counted attempts per key within a sliding window (SPEC §3, §10), kept in the database so `seam.py unlock`
reaches a running server's counters (it notices another process's commit and reloads them).

Password guesses (login, password change) count against `ip:<address>` and `email:<folded email>`;
anonymous registrations against `register:<address>`. Address keys refuse (429) once full; email keys
only slow down, so failures from one address cannot lock the account's owner out at another.
An attempt reserves its place before any bcrypt work, so N concurrent guesses from one address
cost at most `max_failures` checks.
"""

import asyncio
import collections
import math
import time

import messages as msg
from store.db import fold
from store.errors import TooManyRequests

SLOW_DOWN_SECONDS = 1.0  # the first attempt past an email's limit waits this long; each further one twice as long
SLOW_DOWN_MAX_SECONDS = 8.0


def address_key(address):
    return f"ip:{address}"


def email_key(email):
    """Folded exactly as the account lookup folds it: `KEYſ@…` and `keys@…` are one bucket."""
    return f"email:{fold(email)}"


def register_key(address):
    return f"register:{address}"


def slow_down(over):
    """Seconds an attempt waits when its email key is `over` attempts past the limit (0 when within it)."""
    return 0.0 if over <= 0 else min(SLOW_DOWN_MAX_SECONDS, SLOW_DOWN_SECONDS * 2 ** (over - 1))


class Throttle:
    def __init__(self, db, max_failures, window_seconds):
        self.db = db
        self.max_failures = max_failures
        self.window = window_seconds
        self.counted = {}  # key -> deque of wall-clock times, oldest first (mirrors the throttle table)
        self.pending = collections.Counter()  # key -> attempts reserved and not yet decided

    async def load(self):
        """Read the counters from the database: at start, and after another process (unlock) changed them."""
        rows = await self.db.fetchall(
            "SELECT key, at FROM throttle WHERE at > ? ORDER BY at", (time.time() - self.window,)
        )
        counted = {}
        for key, at in rows:
            counted.setdefault(key, collections.deque()).append(at)
        self.counted = counted

    def _count(self, key, now):
        times = self.counted.get(key)
        if times is not None:
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self.counted[key]
                times = None
        return (len(times) if times else 0) + self.pending[key]

    def _retry_after(self, key, now):
        times = self.counted.get(key)
        return max(1, math.ceil(times[0] + self.window - now)) if times else 1

    def attempt(self, refuse=(), slow=()):
        """Reserve one attempt on every key, or raise 429 when a `refuse` key is full; `async with` it."""
        now = time.time()
        for key in refuse:
            if self._count(key, now) >= self.max_failures:
                retry = self._retry_after(key, now)
                raise TooManyRequests(msg.RATE_LIMITED, headers={"Retry-After": str(retry)})
        over = max((self._count(key, now) - self.max_failures + 1 for key in slow), default=0)
        keys = (*refuse, *slow)
        self.pending.update(keys)
        return Attempt(self, keys, slow_down(over))

    def _release(self, keys):
        self.pending.subtract(keys)
        for key in keys:
            if self.pending[key] <= 0:
                del self.pending[key]

    async def _count_in(self, keys):
        now = time.time()
        for key in keys:
            self.counted.setdefault(key, collections.deque()).append(now)
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM throttle WHERE at <= ?", (now - self.window,))
            for key in keys:
                await tx.execute("INSERT INTO throttle (key, at) VALUES (?, ?)", (key, now))

    async def forget(self, key):
        """Clear a key's count (a right password clears its email's); no write when there was none."""
        if self.counted.pop(key, None):
            async with self.db.transaction() as tx:
                await tx.execute("DELETE FROM throttle WHERE key = ?", (key,))

    async def unlock(self, email):
        """`seam.py unlock EMAIL`: drop the email's counted failures; returns how many there were."""
        key = email_key(email)
        self.counted.pop(key, None)
        async with self.db.transaction() as tx:
            removed = await tx.execute("DELETE FROM throttle WHERE key = ?", (key,))
        return removed.rowcount


class Attempt:
    """One reserved attempt: waits out its slow-down on entry; `count()` records it; leaving releases it."""

    def __init__(self, throttle, keys, delay):
        self.throttle = throttle
        self.keys = keys
        self.delay = delay
        self.reserved = True

    async def __aenter__(self):
        if self.delay:
            try:
                await asyncio.sleep(self.delay)
            except BaseException:
                self._release()
                raise
        return self

    async def __aexit__(self, *exc_info):
        self._release()

    def _release(self):
        if self.reserved:
            self.reserved = False
            self.throttle._release(self.keys)

    async def count(self):
        """This attempt counts against its keys (a wrong password; any anonymous registration)."""
        self._release()
        await self.throttle._count_in(self.keys)

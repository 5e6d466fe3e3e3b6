# SPDX-License-Identifier: MIT
"""Announces committed changes once each, in seq order, with their session effects (SPEC §6–7).

Changes this process commits are handed over at once (no database trip); changes committed
elsewhere (a maintenance command, another process) are read from the `changes` table, which is the
source of truth. Either way a change goes out only after every earlier seq, so a client resuming
from the last seq it applied can never have skipped one still in flight.
"""

import asyncio
import logging

from store.errors import Unavailable

# How long a change waits for the operation that made it to announce its own outcome before it goes out
# anyway: a handler that never settles must not hold back every later change.
HOLD_SECONDS = 10
RETRY_SECONDS = 1
BATCH = 500

log = logging.getLogger("seam.realtime")


class ChangePublisher:
    def __init__(self, read_after, apply, announced_here=None):
        self.read_after = read_after  # (seq, limit) -> changes after seq, oldest first
        self.apply = apply  # async (change) -> data:changed and the change's effects
        self.announced_here = announced_here  # (seq) after a change committed here went out (tell other processes)
        self.cursor = 0  # the last seq announced
        self.local = {}  # seq -> (change, hold, done) committed here, not yet announced
        self.expected = set()  # seqs being committed here: read from the table, they would skip their hold
        self.behind = False  # the table may hold changes committed elsewhere
        self.wake = asyncio.Event()
        self.task = None

    def start(self, latest_seq):
        """Announce only what commits from now on; earlier changes are history (the feed serves them)."""
        self.cursor = latest_seq
        self.task = asyncio.get_running_loop().create_task(self._run())

    def expect(self, seq):
        """A unit of work here wrote this seq and is committing it: wait for it rather than read it."""
        self.expected.add(seq)

    def abandon(self, seq):
        """That unit rolled back (its COMMIT failed): the seq will never be handed over."""
        self.expected.discard(seq)
        self.wake.set()

    def committed(self, change, hold=None):
        """A change this process committed; the future resolves once it (and every earlier one) is out."""
        self.expected.discard(change.seq)
        done = asyncio.get_running_loop().create_future()
        if change.seq <= self.cursor:  # already announced from the table
            done.set_result(None)
        else:
            self.local[change.seq] = (change, hold, done)
            self.wake.set()
        return done

    def catch_up(self):
        """Something else committed: read the table past the cursor."""
        self.behind = True
        self.wake.set()

    async def close(self):
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
        for _, _, done in self.local.values():
            if not done.done():
                done.set_result(None)

    async def _run(self):
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                await self._drain()
            except Unavailable as refusal:  # PostgreSQL unreachable: read the table again once it may be back
                log.warning("announcing changes after seq %s waits for the database: %s", self.cursor, refusal)
                self.behind = True
                await asyncio.sleep(RETRY_SECONDS)
                self.wake.set()
            except Exception:  # the database is closing, or a bug: log it, keep announcing later changes
                log.exception("announcing changes after seq %s failed", self.cursor)

    async def _drain(self):
        while True:
            entry = self.local.pop(self.cursor + 1, None)
            if entry is not None:
                await self._announce(*entry)
                continue
            if self.cursor + 1 in self.expected:
                return  # committed here and handed over in a moment: committed() wakes this up again
            if not self.local and not self.behind:
                return
            self.behind = False
            changes = await self.read_after(self.cursor, BATCH)
            if len(changes) == BATCH:
                self.behind = True
            if not changes and self.local:
                self.cursor = min(self.local) - 1  # seqs that never committed (a gap the table does not hold)
            for change in changes:
                local = self.local.pop(change.seq, None)
                if local is None and change.seq in self.expected:
                    self.behind = True  # read on from here once it is handed over
                    return
                await self._announce(*(local or (change, None, None)))

    async def _announce(self, change, hold, done):
        if hold is not None:
            try:
                await asyncio.wait_for(asyncio.shield(hold), HOLD_SECONDS)
            except TimeoutError:
                log.warning("seq %s went out before its operation settled (waited %ss)", change.seq, HOLD_SECONDS)
        try:
            await self.apply(change)
        except Exception:  # one failed fan-out must not hold back the changes after it
            log.exception("data:changed for seq %s failed", change.seq)
        finally:
            self.cursor = change.seq
            if done is not None:
                if not done.done():
                    done.set_result(None)
                if self.announced_here is not None:
                    self.announced_here(change.seq)

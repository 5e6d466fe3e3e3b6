# SPDX-License-Identifier: MIT
"""One write path for handlers and maintenance commands alike: a unit of work.

A unit opens the transaction, lets repositories write and declare what the change does to open
sessions, writes the change row with those effects as data, commits (rolling back on any failure,
a failed COMMIT included) and only then hands the committed change to the publisher, which applies
its effects from the row: publication can never lose them.
"""

import contextlib

import attrs

from store.models import Effects, Revocation
from store.transaction import Transaction


@attrs.frozen
class Origin:
    """Who makes a change and how it is announced; written into its row."""

    operation: str
    operation_id: str
    actor_id: int | None = None
    initiator: str | None = None  # the honored X-Socket-ID
    read_permission: str | None = None  # who may read the changed resource; None = every token
    broadcast: bool = True


class UnitOfWork(Transaction):
    """A transaction that ends with at most one change row, or with an explicit 'nothing changed'."""

    def __init__(self, origin, changes, announcer):
        super().__init__()
        self.origin = origin
        self.changes = changes
        self.announcer = announcer
        self.recorded = None
        self.unchanged = False
        self.subjects, self.refresh_users, self.refresh_roles, self.revocations = [], [], [], []
        self.change = None
        self.published = None  # set by Writes.unit once committed: resolves when the change is out

    def record(self, message, data, *, before=None, after=None, subject=None):
        """The change this unit makes; written with its effects when the unit commits."""
        if self.recorded is not None:
            raise RuntimeError(f"{self.origin.operation}: one change per unit of work")
        self.recorded = (message, data, before, after)
        if subject is not None:
            self._add(self.subjects, subject)

    def nothing_changed(self):
        """An idempotent repeat: the unit commits without a change row and announces nothing."""
        self.unchanged = True

    def refresh(self, users=(), roles=()):
        """These users, and every user holding these roles, get session:changed once the change is out."""
        for user_id in users:
            self._add(self.refresh_users, user_id)
            self._add(self.subjects, user_id)
        for role_id in roles:
            self._add(self.refresh_roles, role_id)

    def revoke(self, user_id, reason, keep_socket=None):
        """The user's sockets (all but keep_socket) get session:revoked and are disconnected."""
        self.revocations.append(Revocation(user_id, reason, keep_socket))
        self._add(self.subjects, user_id)

    @staticmethod
    def _add(values, value):
        if value not in values:
            values.append(value)

    def effects(self):
        return Effects(
            tuple(self.subjects), tuple(self.refresh_users), tuple(self.refresh_roles), tuple(self.revocations)
        )

    async def before_commit(self):
        effects = self.effects()
        if self.recorded is None:
            if effects or not self.unchanged:
                raise RuntimeError(f"{self.origin.operation}: a unit of work committed no change")
            return
        message, data, before, after = self.recorded
        self.change = await self.changes.insert(self, self.origin, message, data, before, after, effects)
        if self.announcer is not None:
            self.announcer.expect(self.change.seq)


class Writes:
    """Opens units of work. The `announcer` (realtime/publisher.py, set by the server; a maintenance command has
    none) hears of each change: `expect(seq)` before COMMIT, then `committed(change, hold)` -> a future that
    resolves once the change is out, or `abandon(seq)` when the COMMIT failed."""

    def __init__(self, db, changes, announcer=None):
        self.db = db
        self.changes = changes
        self.announcer = announcer

    @contextlib.asynccontextmanager
    async def unit(self, origin, hold=None):
        """`async with writes.unit(origin) as tx:`; afterwards `tx.published` resolves once the change is out.

        `hold` (an awaitable) keeps the change from going out before the operation that made it has
        announced its own outcome, so the initiating tab sees `success` before `data:changed`.
        """
        unit = UnitOfWork(origin, self.changes, self.announcer)
        try:
            async with self.db.transaction(unit):
                yield unit
        except BaseException:
            if unit.change is not None and self.announcer is not None:
                self.announcer.abandon(unit.change.seq)
            raise
        if unit.change is not None and self.announcer is not None:
            unit.published = self.announcer.committed(unit.change, hold)

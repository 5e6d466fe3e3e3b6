# SPDX-License-Identifier: MIT
"""Password hashing: bcrypt off the event loop, a fair share of it per client, and a dummy hash so unknown
emails cost as much as known ones."""

import asyncio
import concurrent.futures
import contextlib
import secrets

import bcrypt

import messages as msg
from store.db import fold
from store.errors import ValidationError

JOBS_PER_CLIENT = 1  # bcrypt jobs one client address may have in the pool; its others wait their turn


def temporary_password():
    return secrets.token_urlsafe(12)


def refuse_email_as_password(password, email, field="password"):
    """SPEC §10: a password may not be the account's email (compared as emails are: folded, untrimmed aside)."""
    if email is not None and fold(password.strip()) == fold(email):
        raise ValidationError(msg.FIELD_EQUALS_EMAIL.format(field=field))


def cost_of(digest):
    """The cost factor written in a bcrypt hash ('$2b$12$…' → 12), or None for anything else."""
    parts = digest.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None


class ClientSlots:
    """At most JOBS_PER_CLIENT bcrypt jobs per client address in the pool at once, so a burst from one
    address queues behind itself and another user's login finds the pool within reach (SPEC §10)."""

    def __init__(self):
        self.slots = {}  # address -> [semaphore, requests holding or waiting for it]

    @contextlib.asynccontextmanager
    async def slot(self, client):
        if client is None:  # the server's own work (first start, maintenance commands)
            yield
            return
        entry = self.slots.get(client)
        if entry is None:
            entry = self.slots[client] = [asyncio.Semaphore(JOBS_PER_CLIENT), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self.slots[client]


class Passwords:
    """bcrypt in a thread pool, so a login never stalls the event loop."""

    def __init__(self, rounds, workers=2):
        self.rounds = rounds
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        self.clients = ClientSlots()
        self.dummy = None  # made by the first check of an unknown email, at the current cost

    @staticmethod
    def _bytes(password):
        """bcrypt reads at most 72 bytes (as the original's did, for hashes made before SPEC §10 refused longer
        new passwords); bcrypt 5 refuses longer input."""
        return password.encode("utf-8", "surrogatepass")[:72]

    async def _run(self, client, function, *args):
        async with self.clients.slot(client):
            return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)

    async def hash(self, password, client=None):
        digest = await self._run(client, bcrypt.hashpw, self._bytes(password), bcrypt.gensalt(self.rounds))
        return digest.decode()

    async def check(self, password, digest, client=None):
        """Compare against the stored hash, or a dummy one of the current cost so unknown emails take as long."""
        if digest is None and self.dummy is None:
            self.dummy = await self.hash("seam-timing-equaliser", client)
        ok = await self._run(client, bcrypt.checkpw, self._bytes(password), (digest or self.dummy).encode())
        return ok and digest is not None

    def outdated(self, digest):
        """A hash made at another cost than the configured one: rehash it at the next successful login."""
        return cost_of(digest) != self.rounds

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)

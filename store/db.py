"""The one owner of the SQLite database: a writer connection for BEGIN IMMEDIATE units and a reader.

WAL lets the reader see only committed data, so a request never observes another
request's transaction half-way; all writes are serialized through one lock.
"""

import asyncio
import contextlib
import sqlite3

import aiosqlite

from store.migrations import migrate

PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 5000",
)


def fold(text):
    """Unicode case folding for names and emails: NOCASE folds ASCII only, so 'ÉDITOR' ≠ 'éditor' there."""
    return text.casefold() if isinstance(text, str) else text


async def rollback(conn):
    """End whatever transaction is open on this connection (none is open when BEGIN itself failed)."""
    if conn.in_transaction:
        await conn.execute("ROLLBACK")


def first(rows):
    return rows[0] if rows else None


class Queries:
    """Row fetching over `self.conn`: the reader for plain reads, the writer inside a transaction."""

    conn = None

    async def fetchone(self, sql, params=()):
        return first(await self.conn.execute_fetchall(sql, params))

    async def fetchall(self, sql, params=()):
        """One trip to the connection's thread (execute + fetch + close), not three."""
        return await self.conn.execute_fetchall(sql, params)


class Transaction(Queries):
    """An open write unit; callbacks registered with on_commit run only once it is durable."""

    def __init__(self):
        self.conn = None
        self.after_commit = []

    async def execute(self, sql, params=()):
        return await self.conn.execute(sql, params)

    async def insert(self, sql, params=()):
        cur = await self.conn.execute(sql, params)
        return cur.lastrowid

    def on_commit(self, callback):
        self.after_commit.append(callback)

    async def before_commit(self):
        """The last statements of the unit, inside it (a unit of work writes its change row here)."""


class Database(Queries):
    """Opens, migrates and closes the SQLite file; hands out transactions and reads."""

    def __init__(self, path):
        self.path = path
        self.writer = None
        self.reader = None
        self.write_lock = asyncio.Lock()

    async def open(self):
        self.writer = await self._connect()
        await migrate(self.writer)
        self.reader = await self._connect()
        return self

    async def _connect(self):
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.create_function("fold", 1, fold, deterministic=True)
            for pragma in PRAGMAS:
                await conn.execute(pragma)
        except BaseException:
            await conn.close()  # e.g. not a database: its thread must not outlive the error
            raise
        return conn

    async def close(self):
        for conn in (self.reader, self.writer):
            if conn is not None:
                await conn.close()
        self.reader = self.writer = None

    @contextlib.asynccontextmanager
    async def transaction(self, tx=None):
        """One BEGIN IMMEDIATE … COMMIT unit; any failure, a failed COMMIT included, rolls everything back.

        SQLite keeps a transaction open when COMMIT fails (a deferred constraint, a full disk): without the
        ROLLBACK every later write would fail with "cannot start a transaction within a transaction".
        """
        tx = tx or Transaction()
        async with self.write_lock:
            tx.conn = self.writer
            await self.writer.execute("BEGIN IMMEDIATE")
            try:
                yield tx
                await tx.before_commit()
                await self.writer.execute("COMMIT")
            except BaseException:
                await rollback(self.writer)
                raise
        for callback in tx.after_commit:
            callback()

    @property
    def conn(self):
        return self.reader

    async def data_version(self):
        """Changes when another process (e.g. a maintenance subcommand) commits."""
        async with self.writer.execute("PRAGMA data_version") as cur:
            return (await cur.fetchone())[0]

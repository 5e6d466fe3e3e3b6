# SPDX-License-Identifier: MIT
"""The one owner of the SQLite database: a writer connection for BEGIN IMMEDIATE units and a reader.

WAL lets the reader see only committed data, so a request never observes another
request's transaction half-way; all writes are serialized through one lock.
"""

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
import unicodedata

import aiosqlite

from store.errors import full, unavailable
from store.migrations import migrate
from store.transaction import Transaction

log = logging.getLogger("seam.db")

PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 5000",
)
# Below this much free space on the database's filesystem, /healthz says writes cannot be made: a unit of
# work appends a few pages to the WAL, and SQLite answers SQLITE_FULL once a write finds no room.
MIN_FREE_BYTES = 1024 * 1024


def fold(text):
    """Unicode caseless matching for names and emails: NOCASE folds ASCII only, so 'ÉDITOR' ≠ 'éditor' there,
    and canonically equivalent spellings (NFC/NFD 'josé') are one name."""
    if not isinstance(text, str):
        return text
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def create_private(path):
    """Create the file empty and 0600, whatever the umask, unless it exists; True if it was created.

    SQLite gives a new database 0644 minus the umask and its -wal/-shm (and a backup's journal) the
    database's own mode: created 0600 first, every file of it stays private to SEAM's user.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return True


async def close_connection(conn):
    """Close an aiosqlite connection and wait until its worker thread has ended.

    aiosqlite only queues the thread's stop (and, when connecting failed, does so without waiting): a thread
    still running once start-up has failed and asyncio.run closed the loop hands its result to that closed
    loop and prints an `Event loop is closed` traceback after SEAM's one-line error.
    """
    await conn.close()  # nothing to do if it never connected: aiosqlite has queued the stop already
    await asyncio.to_thread(conn._thread.join)


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


class Writer(Queries):
    """The writer connection's statements inside a unit (store/transaction.py sends them here)."""

    def __init__(self, conn):
        self.conn = conn

    async def execute(self, sql, params=()):
        return await self.conn.execute(sql, params)

    async def insert(self, sql, params=()):
        cur = await self.conn.execute(sql, params)
        return cur.lastrowid

    async def insert_change(self, columns, values):
        """The change row (AUTOINCREMENT numbers it; the retention trigger prunes the window)."""
        return await self.insert(f"INSERT INTO changes ({columns}) VALUES ({', '.join('?' * len(values))})", values)


class Database(Queries):
    """Opens, migrates and closes the SQLite file; hands out transactions and reads."""

    errors = (sqlite3.Error, OSError)  # what makes the database unusable at start-up (a one-line error)

    def __init__(self, path):
        self.path = path
        self.name = path
        self.writer = None
        self.reader = None
        self.write_lock = asyncio.Lock()
        self.observe_commit = None  # metrics: called with each COMMIT's duration in seconds

    def exists(self):
        return os.path.exists(self.path)

    async def open(self):
        create_private(self.path)
        self.writer = await self._connect()
        await migrate(self.writer)
        self.reader = await self._connect()
        return self

    async def _connect(self):
        conn = aiosqlite.connect(self.path, isolation_level=None)
        try:
            await conn
            conn.row_factory = sqlite3.Row
            await conn.create_function("fold", 1, fold, deterministic=True)
            for pragma in PRAGMAS:
                await conn.execute(pragma)
        except BaseException:
            await close_connection(conn)  # e.g. not a database: its thread must not outlive the error
            raise
        return conn

    async def close(self):
        for conn in (self.reader, self.writer):
            if conn is not None:
                await close_connection(conn)
        self.reader = self.writer = None

    @contextlib.asynccontextmanager
    async def transaction(self, tx=None):
        """One BEGIN IMMEDIATE … COMMIT unit; any failure, a failed COMMIT included, rolls everything back.

        SQLite keeps a transaction open when COMMIT fails (a deferred constraint, a full disk): without the
        ROLLBACK every later write would fail with "cannot start a transaction within a transaction".
        """
        tx = tx or Transaction()
        async with self.write_lock:
            tx.writer = Writer(self.writer)
            try:
                await self.writer.execute("BEGIN IMMEDIATE")
                try:
                    yield tx
                    await tx.before_commit()
                    started = time.perf_counter()
                    await self.writer.execute("COMMIT")
                    if self.observe_commit is not None:
                        self.observe_commit(time.perf_counter() - started)
                except BaseException:
                    await rollback(self.writer)
                    raise
            except sqlite3.OperationalError as error:
                refusal = unavailable(error)
                if refusal is None:
                    raise
                log.warning("a write was refused (503): %s", error)
                raise refusal from None
        for callback in tx.after_commit:
            callback()

    async def check_writable(self):
        """Raise Unavailable (503) unless a write could be made now: the write lock can be taken (an empty
        BEGIN IMMEDIATE … COMMIT writes nothing) and the database's filesystem has room left."""
        async with self.transaction():
            pass
        disk = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        if disk.f_bavail * disk.f_frsize < MIN_FREE_BYTES:
            raise full()

    @property
    def conn(self):
        return self.reader

    async def keep_window(self, window):
        """Prune past the retention window inside each change's own INSERT statement (a TEMP trigger on the
        writer connection, so the configured window is never stored), and prune once now for a smaller one.
        Called once per opened database: TEMP objects live and die with their connection."""
        window = int(window)
        async with self.transaction() as tx:
            await tx.execute(
                "CREATE TEMP TRIGGER changes_retention AFTER INSERT ON main.changes"
                f" BEGIN DELETE FROM changes WHERE seq <= NEW.seq - {window}; END"
            )
            await tx.execute(
                "DELETE FROM changes WHERE seq <= (SELECT seq FROM sqlite_sequence WHERE name = 'changes') - ?",
                (window,),
            )

    async def latest_seq(self):
        row = await self.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
        return row[0] if row else 0

    @staticmethod
    def json_ids(column, key):
        """SQL for the values in the JSON array at `key` of a JSON column."""
        return f"SELECT value FROM json_each({column}, '$.{key}')"

    async def data_version(self):
        """Changes when another process (e.g. a maintenance subcommand) commits."""
        async with self.writer.execute("PRAGMA data_version") as cur:
            return (await cur.fetchone())[0]

    def probe(self):
        return ChangeProbe(self.path)


class ChangeProbe:
    """A plain sqlite3 connection, used on the event loop's own thread, that only reads PRAGMA data_version: it
    changes whenever another connection (another process, a maintenance command, this process's writer) has
    committed. About 3 µs a read against 74-231 µs through aiosqlite (SCALE-NOTES), cheap enough before every
    request of a process that shares its database with others."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, isolation_level=None)

    async def version(self):
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self):
        self.conn.close()

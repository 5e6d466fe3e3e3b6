# SPDX-License-Identifier: MIT
"""The PostgreSQL backend (database_url): store/db.py's Database/Transaction interface on an asyncpg pool.

Repositories write SQLite's SQL; what PostgreSQL needs differently is done here, once:
- `?` placeholders become `$n` and SQLite's LIKE (ASCII case-insensitive) ILIKE, translated once per
  statement text and cached; rows come back with their camelCase keys (PostgreSQL folds names);
- an insert returns its new id with RETURNING (SQLite: lastrowid); a change row takes max(seq) + 1;
- locking: every write unit of every process takes one transaction-scoped advisory lock first, so units
  run one at a time as under SQLite's BEGIN IMMEDIATE: the repositories' check-then-write rules (unique
  names, the lock-out guard) hold across hosts, and change rows commit in seq order (docs/deploy.md);
- the data version other processes probe is a counter every unit that wrote bumps (SQLite: PRAGMA data_version);
- a lost or refused connection is a 503 envelope, not a 500; the pool reconnects by itself.
"""

import asyncio
import contextlib
import functools
import logging
import re
import time
import urllib.parse

import asyncpg

from store.errors import ConstraintError, unreachable
from store.pg_migrations import LOCK_KEY, migrate
from store.transaction import Transaction

log = logging.getLogger("seam.db")

POOL_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 2
# Names PostgreSQL stores lower-case, as the code spells them.
NAMES = (
    "idRole roleName idUser full_name roleId isActive tokenVersion mustChangePassword createdAt updatedAt "
    "idPermission nameUri permissionId idItem nameItem iconItem itemId operationId actorId initiatorSocketId "
    "readPermission userId roleDescription password_hash"
).split()
CAMEL = {name.lower(): name for name in NAMES}
PRIMARY_KEYS = {
    "roles": "idRole",
    "users": "idUser",
    "permissions": "idPermission",
    "sidebaritems": "idItem",
    "logins": "id",
}
INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
TOKENS = re.compile(r"'(?:[^']|'')*'|\?|\bLIKE\b", re.IGNORECASE)
# The connection is gone, refused or shutting down: retry later (the pool connects again by itself).
UNREACHABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # the server ended the session while a statement was under way (a shutdown)
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
BUMP = "UPDATE seam_data_version SET version = version + 1"


@functools.lru_cache(maxsize=2048)
def translate(sql):
    """SQLite's statement text in PostgreSQL's: `$1, $2…` for `?` and ILIKE for LIKE, quoted text untouched."""
    count = 0

    def replace(match):
        nonlocal count
        found = match.group(0)
        if found == "?":
            count += 1
            return f"${count}"
        if found.upper() == "LIKE":
            return "ILIKE"
        return found

    return TOKENS.sub(replace, sql)


@functools.lru_cache(maxsize=256)
def returning(sql):
    """An INSERT that hands back the new row's id, as SQLite's lastrowid does."""
    table = INSERT_INTO.match(sql).group(1).lower()
    return f"{translate(sql)} RETURNING {PRIMARY_KEYS[table]}"


class Row(tuple):
    """A row as sqlite3.Row reads: by position, by (camelCase) name, and dict(row)."""

    __slots__ = ()
    index = {}
    names = []

    def __getitem__(self, key):
        if isinstance(key, str):
            key = self.index[key]
        return tuple.__getitem__(self, key)

    def keys(self):
        return self.names


@functools.lru_cache(maxsize=512)
def row_class(keys):
    """One Row class per result shape, its names mapped back to camelCase once."""
    names = [CAMEL.get(key, key) for key in keys]
    return type("Row", (Row,), {"__slots__": (), "index": {name: i for i, name in enumerate(names)}, "names": names})


def rows(records):
    if not records:
        return []
    shaped = row_class(tuple(records[0].keys()))
    return [shaped(record.values()) for record in records]


def redacted(url):
    """The URL without its password, to name the database in messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


@contextlib.contextmanager
def reachable():
    """Turn a lost or refused connection into the 503 envelope, and a broken constraint into the same
    ConstraintError the SQLite backend's IntegrityError becomes."""
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        raise ConstraintError(f"UNIQUE constraint failed: {error.constraint_name}") from None
    except asyncpg.ForeignKeyViolationError as error:
        raise ConstraintError(f"FOREIGN KEY constraint failed: {error.constraint_name}") from None
    except asyncpg.IntegrityConstraintViolationError as error:
        raise ConstraintError(f"constraint failed: {error.constraint_name}") from None
    except UNREACHABLE as error:
        log.warning("the database is unreachable (503): %s", error or type(error).__name__)
        raise unreachable() from None


class Result:
    """What an UPDATE/DELETE/INSERT did, as an SQLite cursor says it."""

    __slots__ = ("rowcount",)

    def __init__(self, status):
        last = status.rsplit(" ", 1)[-1]
        self.rowcount = int(last) if last.isdigit() else -1


class Queries:
    """Reads through `self.conn`: a pooled connection per statement, or the transaction's own."""

    conn = None

    async def fetchone(self, sql, params=()):
        found = await self.fetchall(sql, params)
        return found[0] if found else None

    async def fetchall(self, sql, params=()):
        with reachable():
            return rows(await self.conn.fetch(translate(sql), *params))


class Writer(Queries):
    """A unit's statements on its pooled connection (store/transaction.py sends them here)."""

    def __init__(self, conn, window):
        self.conn = conn
        self.window = window
        self.wrote = False  # an empty unit (/healthz's check) leaves the data version alone

    async def execute(self, sql, params=()):
        self.wrote = True
        with reachable():
            return Result(await self.conn.execute(translate(sql), *params))

    async def insert(self, sql, params=()):
        self.wrote = True
        with reachable():
            return await self.conn.fetchval(returning(sql), *params)

    async def insert_change(self, columns, values):
        """The change row, numbered max(seq) + 1 under the write lock: seq follows commit order with no gap (a
        sequence would hand out numbers that commit out of order, and lose one to every rollback)."""
        placeholders = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        self.wrote = True
        with reachable():
            seq = await self.conn.fetchval(
                f"INSERT INTO changes (seq, {columns}) VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM changes),"
                f" {placeholders}) RETURNING seq",
                *values,
            )
            await self.conn.execute("DELETE FROM changes WHERE seq <= $1", seq - self.window)
        return seq


class Database(Queries):
    """Opens and migrates the PostgreSQL database; hands out transactions (one at a time across every process) and
    reads."""

    errors = (asyncpg.PostgresError, ValueError, *UNREACHABLE)  # unusable at start-up: a one-line error

    def __init__(self, url):
        self.url = url
        self.name = redacted(url)
        self.pool = None
        self.write_lock = asyncio.Lock()  # this process's units queue here, not each on a pooled connection
        self.window = None
        self.observe_commit = None  # metrics: called with each COMMIT's duration in seconds

    def exists(self):
        return True  # created by its administrator, never by SEAM

    async def open(self):
        self.pool = await asyncpg.create_pool(
            self.url, min_size=1, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT_SECONDS, statement_cache_size=512
        )
        async with self.pool.acquire() as conn:
            encoding = await conn.fetchval("SHOW server_encoding")
            if encoding != "UTF8":
                raise ValueError(
                    f"the database's encoding is {encoding}; SEAM needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')"
                )
            await migrate(conn)
        return self

    async def close(self):
        if self.pool is not None:
            pool, self.pool = self.pool, None
            with contextlib.suppress(*UNREACHABLE):
                await asyncio.wait_for(pool.close(), 5)

    @property
    def conn(self):
        return self.pool

    @contextlib.asynccontextmanager
    async def transaction(self, tx=None):
        """One unit: BEGIN, the write lock, the unit's statements, the data version bumped, COMMIT; any failure,
        a failed COMMIT included, rolls everything back."""
        tx = tx or Transaction()
        async with self.write_lock:
            with reachable():
                async with self.pool.acquire() as conn:
                    tx.writer = writer = Writer(conn, self.window)
                    transaction = conn.transaction()
                    await transaction.start()
                    try:
                        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
                        yield tx
                        await tx.before_commit()
                        if writer.wrote:
                            await conn.execute(BUMP)
                        started = time.perf_counter()
                        await transaction.commit()
                        if self.observe_commit is not None:
                            self.observe_commit(time.perf_counter() - started)
                    except BaseException:
                        with contextlib.suppress(*UNREACHABLE):
                            await transaction.rollback()
                        raise
        for callback in tx.after_commit:
            callback()

    async def check_writable(self):
        """Raise Unavailable (503) unless a write could be made now (an empty unit takes the lock and commits)."""
        async with self.transaction():
            pass

    async def keep_window(self, window):
        """Each change row's insert prunes the rows `window` behind it; prune once now for a smaller window."""
        self.window = int(window)
        async with self.transaction() as tx:
            await tx.execute("DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?", (self.window,))

    async def latest_seq(self):
        """The newest committed seq: with seqs committed in order, every seq up to it is readable."""
        return (await self.fetchone("SELECT COALESCE(MAX(seq), 0) FROM changes"))[0]

    @staticmethod
    def json_ids(column, key):
        """SQL for the integers in the JSON array at `key` of a JSON column."""
        return f"SELECT value::bigint FROM json_array_elements_text({column} -> '{key}')"

    async def data_version(self):
        """Changes whenever any process commits a write unit."""
        return (await self.fetchone("SELECT version FROM seam_data_version"))[0]

    def probe(self):
        return ChangeProbe(self)


class ChangeProbe:
    """What a process sharing the database with others reads before each request: the data version, on a
    connection of its own (no pool hand-off), one round trip.

    Requests arriving while a read is on the wire share the next one, which starts after they arrived: each
    still sees every commit made before it asked, and a burst of requests costs one read, not one each."""

    def __init__(self, db):
        self.db = db
        self.conn = None
        self.next = None  # the future of the read the requests waiting now will share
        self.reader = None

    async def version(self):
        if self.next is None:
            self.next = asyncio.get_running_loop().create_future()
            if self.reader is None:
                self.reader = asyncio.ensure_future(self._read_while_asked())
        return await asyncio.shield(self.next)

    async def _read_while_asked(self):
        try:
            while self.next is not None:
                answer, self.next = self.next, None
                try:
                    answer.set_result(await self._read())
                except Exception as error:
                    answer.set_exception(error)
        finally:
            self.reader = None

    async def _read(self):
        with reachable():
            if self.conn is None or self.conn.is_closed():
                self.conn = await asyncpg.connect(self.db.url, timeout=CONNECT_TIMEOUT_SECONDS)
            try:
                return await self.conn.fetchval("SELECT version FROM seam_data_version")
            except BaseException:
                self.conn.terminate()  # a fresh connection next time
                self.conn = None
                raise

    def close(self):
        if self.reader is not None:
            self.reader.cancel()
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None

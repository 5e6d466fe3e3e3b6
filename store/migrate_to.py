# SPDX-License-Identifier: MIT
"""`seam.py migrate-to URL`: an SQLite database copied whole into an empty PostgreSQL database.

Everything is copied, the change feed included with its seq values (clients' cursors stay valid), in one
PostgreSQL transaction: a failure leaves the target as empty as it was. Identity sequences move past the
copied ids, so the next row gets a new one. Row counts and a comparison of every row verify the copy before
it is reported done.
"""

import json
import sqlite3
from contextlib import closing

import asyncpg

from store import postgres
from store.pg_migrations import LOCK_KEY

# In the order foreign keys allow; (table, its ordering key, its identity column or None).
TABLES = (
    ("roles", "idRole", "idRole"),
    ("permissions", "idPermission", "idPermission"),
    ("sidebarItems", "idItem", "idItem"),
    ("users", "idUser", "idUser"),
    ("permissionXRole", "roleId, permissionId", None),
    ("roleXItem", "roleId, itemId", None),
    ("changes", "seq", None),
    ("settings", "key", None),
    ("throttle", "at, key", None),
    ("logins", "id", "id"),
)
JSON_COLUMNS = {"data", "before", "after", "effects"}


class TargetNotEmpty(Exception):
    """The target already holds data: migrate-to copies into an empty database only."""


def read_source(path):
    """{table: (columns, rows)} from one read transaction: a consistent snapshot even if a server writes."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)) as source:
        source.execute("BEGIN")
        tables = {}
        for table, order, _ in TABLES:
            cursor = source.execute(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608 - names are ours
            tables[table] = ([d[0] for d in cursor.description], cursor.fetchall())
        source.execute("COMMIT")
    return tables


def comparable(columns, row):
    """A row as both databases give it back: JSON text parsed (PostgreSQL may space it differently)."""
    return tuple(
        json.loads(value) if name in JSON_COLUMNS and isinstance(value, str) else value
        for name, value in zip(columns, row, strict=True)
    )


async def refuse_unless_empty(conn):
    tables = await conn.fetchval(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        " AND table_name NOT IN ('seam_schema', 'seam_data_version')"
    )
    if tables == 0:
        return
    for table, _, _ in TABLES:
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table.lower())
        if not exists or await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):  # noqa: S608
            raise TargetNotEmpty(table)


async def copy(path, url):
    """Copy, verify; -> {table: rows copied}."""
    tables = read_source(path)
    conn = await asyncpg.connect(url, timeout=postgres.CONNECT_TIMEOUT_SECONDS)
    try:
        await refuse_unless_empty(conn)
        await conn.close()
        target = postgres.Database(url)
        try:
            await target.open()  # the schema, migrated as a server would
        finally:
            await target.close()
        conn = await asyncpg.connect(url, timeout=postgres.CONNECT_TIMEOUT_SECONDS)
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
            await refuse_unless_empty(conn)
            for table, _, identity in TABLES:
                columns, rows = tables[table]
                await conn.copy_records_to_table(
                    table.lower(), records=rows, columns=[name.lower() for name in columns]
                )
                if identity is not None:
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.lower()}', '{identity.lower()}'),"
                        f" COALESCE((SELECT MAX({identity}) FROM {table}), 0) + 1, false)"
                    )
            await conn.execute(postgres.BUMP)
        await verify(conn, tables)
    finally:
        await conn.close()
    return {table: len(rows) for table, (_, rows) in tables.items()}


async def verify(conn, tables):
    """Row counts of every table, then every row field by field (an admin database is small enough to read
    twice; the spot check covers the whole copy)."""
    for table, _, _ in TABLES:
        columns, rows = tables[table]
        count = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
        if count != len(rows):
            raise RuntimeError(f"verification failed: {table} has {count} rows in PostgreSQL, {len(rows)} in SQLite")
        copied = await conn.fetch(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
        if sorted((comparable(columns, r) for r in copied), key=repr) != sorted(
            (comparable(columns, r) for r in rows), key=repr
        ):
            raise RuntimeError(f"verification failed: {table}'s rows differ after the copy")

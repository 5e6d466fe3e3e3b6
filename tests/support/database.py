# SPDX-License-Identifier: MIT
"""The test's own database, read and written directly whichever backend serves it (SQLite file or PostgreSQL)."""

import asyncio
import sqlite3
from contextlib import closing

from tests.support.postgres import off_loop


def sql(config, statement, params=()):
    """One statement (SQLite's spelling, `?` placeholders), committed → its rows as tuples."""
    if not config["database_url"]:
        with closing(sqlite3.connect(config["db_path"])) as db, db:
            return db.execute(statement, params).fetchall()

    import asyncpg

    from store.postgres import translate

    async def run():
        conn = await asyncpg.connect(config["database_url"])
        try:
            return [tuple(row) for row in await conn.fetch(translate(statement), *params)]
        finally:
            await asyncio.wait_for(conn.close(), 5)

    return off_loop(run)


def database_env(config):
    """The settings that point a `python seam.py` subcommand at the same database (for seam_env)."""
    if config["database_url"]:
        return {"db_path": config["db_path"], "database_url": config["database_url"]}
    return {"db_path": config["db_path"]}

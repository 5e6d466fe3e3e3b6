# SPDX-License-Identifier: MIT
"""Which database a SEAM uses: SQLite at db_path (the default), or PostgreSQL at database_url."""

from store import db


def database(config):
    """The Database for these settings; asyncpg is imported only when PostgreSQL is used (SQLite starts as fast)."""
    if config["database_url"]:
        from store import postgres

        return postgres.Database(config["database_url"])
    return db.Database(config["db_path"])

# SPDX-License-Identifier: MIT
"""An open write unit, the same on every backend: its statements go to the backend's writer (store/db.py's for
SQLite, store/postgres.py's for PostgreSQL), set when the backend opens the transaction."""


class Transaction:
    """Callbacks registered with on_commit run only once the unit is durable."""

    def __init__(self):
        self.writer = None
        self.after_commit = []

    async def fetchone(self, sql, params=()):
        return await self.writer.fetchone(sql, params)

    async def fetchall(self, sql, params=()):
        return await self.writer.fetchall(sql, params)

    async def execute(self, sql, params=()):
        """-> a result whose rowcount says how many rows the statement changed."""
        return await self.writer.execute(sql, params)

    async def insert(self, sql, params=()):
        """-> the new row's id."""
        return await self.writer.insert(sql, params)

    async def insert_change(self, columns, values):
        """The change row, numbered by the backend in commit order; -> its seq."""
        return await self.writer.insert_change(columns, values)

    def on_commit(self, callback):
        self.after_commit.append(callback)

    async def before_commit(self):
        """The last statements of the unit, inside it (a unit of work writes its change row here)."""

# SPDX-License-Identifier: MIT
"""The settings table: values SEAM generates once and keeps (e.g. the JWT secret)."""


class SettingsRepository:
    def __init__(self, db):
        self.db = db

    async def get(self, key):
        row = await self.db.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
        return row[0] if row else None

    async def put(self, tx, key, value):
        await tx.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def keep_first(self, tx, key, value):
        """Store `value` unless the key has one already; returns the stored value (processes starting together
        on a new database must all end up with the same generated secret)."""
        await tx.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", (key, value))
        return (await tx.fetchone("SELECT value FROM settings WHERE key = ?", (key,)))[0]

"""The settings table: values SEAM generates once and keeps (e.g. the JWT secret)."""


class SettingsRepository:
    def __init__(self, db):
        self.db = db

    async def get(self, key):
        row = await self.db.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
        return row[0] if row else None

    async def put(self, tx, key, value):
        await tx.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

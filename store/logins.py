# SPDX-License-Identifier: MIT
"""The login audit: who signed in, or failed to, when and from which address; never a password.

A login is a read, not a change (no row in the change feed, no data:changed), so it gets its own
table, written with a plain transaction and bounded to the newest `kept` rows. A failure names the
account only when the email belongs to one (its stored email, not what was typed): what a visitor
types into the email field of a failed login may be a mistyped password, and stays in the fail2ban
log on the server, never in a table every user reader can browse.
"""

from store.changes import utc_now

KEPT = 10000  # rows; at ~100 logins a day that is months of history, at most a few MB
OUTCOMES = ("success", "failure", "inactive")
COLUMNS = "l.id, l.at, l.outcome, l.userId, l.email, u.full_name, l.address"


class LoginAudit:
    def __init__(self, db, kept=KEPT):
        self.db = db
        self.kept = kept

    async def record(self, outcome, address, user=None):
        """One login attempt, in its own transaction."""
        async with self.db.transaction() as tx:
            await self.write(tx, outcome, address, user)

    async def write(self, tx, outcome, address, user=None):
        """One login attempt inside `tx` (a successful login writes it with its password rehash); the oldest
        rows past `kept` go in the same transaction."""
        row_id = await tx.insert(
            "INSERT INTO logins (at, outcome, userId, email, address) VALUES (?, ?, ?, ?, ?)",
            (utc_now(), outcome, user.idUser if user else None, user.email if user else None, address),
        )
        await tx.execute("DELETE FROM logins WHERE id <= ?", (row_id - self.kept,))

    async def page(self, limit, before=None, user_id=None, outcome=None, date_from=None, date_to=None):
        """The newest `limit` attempts matching the filters (older than id `before`), newest first, with the
        account's current name when it still exists."""
        where, params = [], []
        for clause, value in (
            ("l.id < ?", before),
            ("l.userId = ?", user_id),
            ("l.outcome = ?", outcome),
            ("l.at >= ?", date_from),
            ("l.at < ?", date_to),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM logins l LEFT JOIN users u ON u.idUser = l.userId{condition}"
            " ORDER BY l.id DESC LIMIT ?",
            (*params, limit),
        )
        return [dict(row) for row in rows]

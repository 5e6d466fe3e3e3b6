"""The change feed and audit log (SPEC §7): one row per committed mutation, seq never reused."""

import datetime
import json

import messages as msg
from store.errors import Gone
from store.models import Change

READ_USERS = "GET /api/v1/users"
# Who may read a resource's audit states (before/after); resources not listed are open to any token.
READ_PERMISSION = {"users": READ_USERS, "auth": READ_USERS, "sidebar": "GET /api/v1/sidebar/items"}
COLUMNS = (
    "seq, at, operation, operationId, actorId, initiatorSocketId, message, data, before, after, audience, subjectUserId"
)


def audience_of(operation):
    """'users' changes reach only readers of users (plus their subject); everything else reaches all."""
    return "users" if operation.startswith("users:") or operation == "auth:register" else "all"


def read_permission_of(operation):
    return READ_PERMISSION.get(operation.split(":", 1)[0])


def utc_now():
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dump(value):
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load(text):
    return None if text is None else json.loads(text)


class ChangeRepository:
    def __init__(self, db, retention):
        self.db = db
        self.retention = retention

    async def keep_window(self):
        """Prune past the retention window inside each change's own INSERT statement (a TEMP trigger on the
        writer connection, so the configured window is never stored), and prune once now for a smaller one.
        Called once per opened database: TEMP objects live and die with their connection."""
        window = int(self.retention)
        async with self.db.transaction() as tx:
            await tx.execute(
                "CREATE TEMP TRIGGER changes_retention AFTER INSERT ON main.changes"
                f" BEGIN DELETE FROM changes WHERE seq <= NEW.seq - {window}; END"
            )
            await tx.execute(
                "DELETE FROM changes WHERE seq <= (SELECT seq FROM sqlite_sequence WHERE name = 'changes') - ?",
                (window,),
            )

    async def record(
        self, tx, *, operation, operation_id, actor_id, initiator, message, data, before=None, after=None, subject=None
    ):
        """Write the change row inside the mutation's transaction (its trigger prunes the window)."""
        at = utc_now()
        audience = audience_of(operation)
        seq = await tx.insert(
            f"INSERT INTO changes ({COLUMNS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at,
                operation,
                operation_id,
                actor_id,
                initiator,
                message,
                dump(data),
                dump(before),
                dump(after),
                audience,
                subject,
            ),
        )
        return Change(
            seq, at, operation, operation_id, actor_id, initiator, message, data, before, after, audience, subject
        )

    async def latest_seq(self):
        row = await self.db.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
        return row[0] if row else 0

    async def since(self, after_seq, limit, reader_id, can_read):
        """Rows after `after_seq` the reader may see, oldest first; Gone if some were pruned.

        Without `after_seq`, the newest `limit` rows (still oldest first): where a client that
        starts from scratch, or the activity view, picks the feed up, learning latestSeq.
        """
        latest = await self.latest_seq()
        visible = "(audience = 'all' OR ? OR subjectUserId = ?)"
        params = (can_read(READ_USERS), reader_id)
        if after_seq is None:
            rows = await self.db.fetchall(
                f"SELECT {COLUMNS} FROM changes WHERE {visible} ORDER BY seq DESC LIMIT ?", (*params, limit)
            )
            rows = rows[::-1]
        else:
            floor = await self.db.fetchone("SELECT MIN(seq) FROM changes")
            first_kept = floor[0] if floor[0] is not None else latest + 1
            if after_seq < first_kept - 1:
                raise Gone(msg.CHANGES_GONE)
            rows = await self.db.fetchall(
                f"SELECT {COLUMNS} FROM changes WHERE seq > ? AND {visible} ORDER BY seq LIMIT ?",
                (after_seq, *params, limit),
            )
        return [self._view(row, can_read) for row in rows], latest

    @staticmethod
    def _view(row, can_read):
        item = {
            "seq": row["seq"],
            "at": row["at"],
            "operation": row["operation"],
            "operationId": row["operationId"],
            "actorId": row["actorId"],
            "initiatorSocketId": row["initiatorSocketId"],
            "message": row["message"],
            "data": load(row["data"]),
        }
        needed = read_permission_of(row["operation"])
        if needed is None or can_read(needed):
            item["before"] = load(row["before"])
            item["after"] = load(row["after"])
        return item

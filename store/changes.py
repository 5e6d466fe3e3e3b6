# SPDX-License-Identifier: MIT
"""The change feed and audit log (SPEC §7): one row per committed change, seq never reused.

Each row carries who may read it (`readPermission`, the resource's list permission; NULL = every
token), whether it is announced at all (`broadcast`) and its session effects as data, so that any
process can fan it out and apply it from the table alone.
"""

import datetime
import json

import attrs

import messages as msg
from store.errors import Gone
from store.models import Change, Effects

COLUMNS = (
    "seq, at, operation, operationId, actorId, initiatorSocketId, message, data, before, after, "
    "readPermission, broadcast, effects"
)
WRITTEN = COLUMNS.split(", ", 1)[1]  # seq is the database's to number
# Who may see a row: readers of its resource, the users it is about or whose session it changes, and the
# roles whose sessions it changes. Parameters: the viewer's id, role id, then its readable permissions.
VISIBLE = (
    "broadcast = 1 AND (readPermission IS NULL"
    " OR ? IN ({subjects})"
    " OR ? IN ({roles})"
    " OR lower(readPermission) IN ({{readable}}))"
)


@attrs.frozen
class ChangeFilter:
    """What the activity screen narrows the feed to; the defaults narrow nothing."""

    before: int | None = None  # only seqs below this one
    operations: tuple | None = None  # only these operations (a resource's)
    actor: int | None = None  # only changes by this user; 0 = by no user (maintenance, anonymous registration)
    date_from: str | None = None  # at or after this stored timestamp
    date_to: str | None = None  # before this one

    def sql(self):
        """(' AND …' conditions, their parameters)."""
        clauses, params = [], []
        if self.before is not None:
            clauses.append("seq < ?")
            params.append(self.before)
        if self.operations is not None:
            clauses.append(f"operation IN ({', '.join('?' * len(self.operations))})")
            params.extend(self.operations)
        if self.actor == 0:
            clauses.append("actorId IS NULL")
        elif self.actor is not None:
            clauses.append("actorId = ?")
            params.append(self.actor)
        if self.date_from is not None:
            clauses.append("at >= ?")
            params.append(self.date_from)
        if self.date_to is not None:
            clauses.append("at < ?")
            params.append(self.date_to)
        return "".join(f" AND {clause}" for clause in clauses), params


def utc_now():
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dump(value):
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load(text):
    return None if text is None else json.loads(text)


def change_view(change, with_audit):
    """A change as clients see it: the data:changed payload (SPEC §6), plus before/after in the feed (§7)."""
    view = {
        "seq": change.seq,
        "at": change.at,
        "operation": change.operation,
        "operationId": change.operationId,
        "actorId": change.actorId,
        "initiatorSocketId": change.initiatorSocketId,
        "message": change.message,
        "data": change.data,
    }
    if with_audit:
        view["before"] = change.before
        view["after"] = change.after
    return view


def from_row(row):
    return Change(
        row["seq"],
        row["at"],
        row["operation"],
        row["operationId"],
        row["actorId"],
        row["initiatorSocketId"],
        row["message"],
        load(row["data"]),
        load(row["before"]),
        load(row["after"]),
        row["readPermission"],
        bool(row["broadcast"]),
        Effects.load(load(row["effects"])),
    )


class ChangeRepository:
    def __init__(self, db, retention):
        self.db = db
        self.retention = retention
        self.visible = VISIBLE.format(
            subjects=db.json_ids("effects", "subjects"), roles=db.json_ids("effects", "refreshRoles")
        )

    async def keep_window(self):
        """Rows older than the retention window go as new ones are written (how is the backend's)."""
        await self.db.keep_window(self.retention)

    async def insert(self, tx, origin, message, data, before, after, effects):
        """Write the change row inside its mutation's transaction (the retention trigger prunes the window)."""
        at = utc_now()
        stored_effects = dump(effects.dump()) if effects else None
        seq = await tx.insert_change(
            WRITTEN,
            (
                at,
                origin.operation,
                origin.operation_id,
                origin.actor_id,
                origin.initiator,
                message,
                dump(data),
                dump(before),
                dump(after),
                origin.read_permission,
                int(origin.broadcast),
                stored_effects,
            ),
        )
        return Change(
            seq,
            at,
            origin.operation,
            origin.operation_id,
            origin.actor_id,
            origin.initiator,
            message,
            data,
            before,
            after,
            origin.read_permission,
            origin.broadcast,
            effects,
        )

    async def latest_seq(self):
        return await self.db.latest_seq()

    async def after(self, seq, limit):
        """Every change after `seq`, oldest first: what a publisher that fell behind has still to announce."""
        rows = await self.db.fetchall(f"SELECT {COLUMNS} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [from_row(row) for row in rows]

    async def since(self, after_seq, limit, viewer, narrow=ChangeFilter()):
        """(views of the rows after `after_seq` the viewer may see, oldest first; latest seq); Gone if pruned.

        Without `after_seq`, the newest `limit` rows (still oldest first): where a client that
        starts from scratch, or the activity view, picks the feed up, learning latestSeq.
        `narrow` keeps only the rows matching the activity screen's filters.
        """
        latest = await self.latest_seq()
        readable = sorted(viewer.grants.permissions)
        conditions, narrow_params = narrow.sql()
        visible = self.visible.format(readable=", ".join("?" * len(readable)) or "NULL") + conditions
        params = (viewer.user.idUser, viewer.user.roleId, *readable, *narrow_params)
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
        changes = [from_row(row) for row in rows]
        return [change_view(c, c.readPermission is None or viewer.can(c.readPermission)) for c in changes], latest

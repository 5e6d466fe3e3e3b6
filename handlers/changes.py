# SPDX-License-Identifier: MIT
"""/changes: the change feed a reconnecting client replays (SPEC §7), and the activity screen's filtered history."""

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import UNSET, instant, number, text
from store.changes import ChangeFilter
from store.errors import ValidationError

MAX_LIMIT = 500


@attrs.frozen
class ChangesQuery:
    since: int = number(
        0,
        required=False,
        description="The last seq the client applied; without it, the newest `limit` changes (never 410)",
    )
    limit: int = number(1, MAX_LIMIT, required=False, description="At most this many changes (default 100)")
    before: int = number(required=False, description="Only changes with a smaller seq (older pages of the history)")
    resource: str = text(
        max_len=50, required=False, description="Only changes of this resource: users, roles, permissions or sidebar"
    )
    actorId: int = number(
        0, required=False, description="Only changes made by this user; 0 = by none (maintenance commands)"
    )
    dateFrom: str = instant(description="Only changes at or after this moment")
    dateTo: str = instant(description="Only changes before this moment")


def optional(value):
    return None if value is UNSET else value


class ChangesHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "GET",
            "/changes",
            "auth",
            "changes:fetchAll",
            query=ChangesQuery,
        ),
    )

    async def on_get(self):
        query = self.query
        since, limit = optional(query.since), query.limit or 100
        items, latest = await self.services.changes.since(since, limit, self.identity, self._narrow())
        meta = {"since": since, "limit": limit, "latestSeq": latest}
        await self.ok(items, msg.CHANGES_FETCHED, meta=meta, event_data={"count": len(items), **meta})

    def _narrow(self):
        query = self.query
        operations = None
        if query.resource:
            operations = self.settings["change_operations"].get(query.resource)
            if operations is None:
                raise ValidationError(msg.FIELD_FORMAT.format(field="resource"))
        return ChangeFilter(
            before=optional(query.before),
            operations=operations,
            actor=optional(query.actorId),
            date_from=optional(query.dateFrom),
            date_to=optional(query.dateTo),
        )


HANDLERS = [ChangesHandler]

"""/changes: the change feed a reconnecting client replays (SPEC §7)."""

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import UNSET, number

MAX_LIMIT = 500


@attrs.frozen
class ChangesQuery:
    since: int = number(
        0,
        required=False,
        description="The last seq the client applied; without it, the newest `limit` changes (never 410)",
    )
    limit: int = number(1, MAX_LIMIT, required=False, description="At most this many changes (default 100)")


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
        since, limit = self.query.since, self.query.limit or 100
        since = None if since is UNSET else since
        items, latest = await self.services.changes.since(since, limit, self.identity)
        meta = {"since": since, "limit": limit, "latestSeq": latest}
        await self.ok(items, msg.CHANGES_FETCHED, meta=meta, event_data={"count": len(items), **meta})


HANDLERS = [ChangesHandler]

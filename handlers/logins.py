# SPDX-License-Identifier: MIT
"""/users/logins: the login audit (store/logins.py), for the roles that may read it (rbac, granted to admin)."""

import re

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import instant, number, text
from store.logins import OUTCOMES

DEFAULT_LIMIT = 50


@attrs.frozen
class LoginsQuery:
    before: int = number(required=False, description="Only attempts older than this id (the previous page's meta.next)")
    limit: int = number(1, 200, required=False, description=f"At most this many (default {DEFAULT_LIMIT})")
    userId: int = number(required=False, description="Only attempts on this account")
    outcome: str = text(
        required=False, pattern=re.compile(f"^(?:{'|'.join(OUTCOMES)})$"), description="success, failure or inactive"
    )
    dateFrom: str = instant(description="Only attempts at or after this moment")
    dateTo: str = instant(description="Only attempts before this moment")


class LoginsHandler(ApiHandler):
    routes = handler_routes(Route("GET", "/users/logins", "rbac", "logins:fetchAll", query=LoginsQuery))

    async def on_get(self):
        """Newest first; meta.next is the `before` that continues with older attempts (null at the end)."""
        query = self.query
        limit = query.limit or DEFAULT_LIMIT
        self.processing(msg.OP_QUERYING)
        entries = await self.services.logins.page(
            limit,
            before=query.before or None,
            user_id=query.userId or None,
            outcome=query.outcome or None,
            date_from=query.dateFrom or None,
            date_to=query.dateTo or None,
        )
        meta = {"limit": limit, "next": entries[-1]["id"] if len(entries) == limit else None}
        await self.ok(entries, msg.LOGINS_FETCHED, meta=meta, event_data={"count": len(entries), **meta})


HANDLERS = [LoginsHandler]

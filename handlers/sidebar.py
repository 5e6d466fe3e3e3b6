# SPDX-License-Identifier: MIT
"""/sidebar: the caller's menu, every item with its roles, item CRUD and per-role assignment."""

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import given, text


@attrs.frozen
class ItemBody:
    nameItem: str = text(1, 100)
    iconItem: str = text(max_len=50, required=False, nullable=True)
    route: str = text(max_len=100, required=False, nullable=True)


@attrs.frozen
class ItemUpdateBody:
    nameItem: str = text(1, 100, required=False)
    iconItem: str = text(max_len=50, required=False, nullable=True)
    route: str = text(max_len=100, required=False, nullable=True)


class SidebarHandler(ApiHandler):
    routes = handler_routes(
        Route("GET", "/sidebar", "auth", "sidebar:fetchByRole"),
        Route("POST", "/sidebar", "rbac", "sidebar:create", True, ItemBody, status=201),
    )

    async def on_get(self):
        items = await self.services.sidebar.of_role(self.user.roleId)
        await self.ok([i.public() for i in items], msg.SIDEBAR_FETCHED, event_data={"count": len(items)})

    async def on_post(self):
        fields = {"iconItem": None, "route": None, **given(self.body)}
        self.processing(msg.OP_SAVING)
        async with self.unit() as tx:
            item = await self.services.sidebar.create(tx, fields["nameItem"], fields["iconItem"], fields["route"])
            tx.record(msg.SIDEBAR_CREATED, item.public(True), after=item.public(True))
        await self.ok(item.public(True), msg.SIDEBAR_CREATED)


class SidebarItemsHandler(ApiHandler):
    routes = handler_routes(
        Route("GET", "/sidebar/items", "rbac", "sidebar:fetchAll"),
    )

    async def on_get(self):
        items = await self.services.sidebar.all_with_roles()
        await self.ok([i.public(True) for i in items], msg.SIDEBAR_FETCHED, event_data={"count": len(items)})


class SidebarItemHandler(ApiHandler):
    routes = handler_routes(
        Route("PUT", "/sidebar/:idItem", "rbac", "sidebar:update", True, ItemUpdateBody),
        Route("DELETE", "/sidebar/:idItem", "rbac", "sidebar:delete", True),
    )

    async def on_put(self):
        item_id = self.params["idItem"]
        after = await self.update_recorded(
            self.services.sidebar, item_id, self.fields_to_update(), msg.SIDEBAR_UPDATED, lambda item: item.public(True)
        )
        await self.ok(after.public(True), msg.SIDEBAR_UPDATED)

    async def on_delete(self):
        item_id = self.params["idItem"]
        self.processing(msg.OP_CHECKING)
        async with self.unit() as tx:
            before = await self.services.sidebar.delete(tx, item_id)
            tx.record(msg.SIDEBAR_DELETED, {"idItem": item_id}, before=before.public(True))
        await self.ok(None, msg.SIDEBAR_DELETED, event_data={"idItem": item_id})


class SidebarAssignmentHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "POST",
            "/sidebar/:idItem/role/:idRole",
            "rbac",
            "sidebar:assign",
            True,
            status=201,
        ),
        Route(
            "DELETE",
            "/sidebar/:idItem/role/:idRole",
            "rbac",
            "sidebar:unassign",
            True,
        ),
    )

    async def on_post(self):
        await self._change(self.services.sidebar.assign, msg.SIDEBAR_ASSIGNED, "after")

    async def on_delete(self):
        await self._change(self.services.sidebar.unassign, msg.SIDEBAR_UNASSIGNED, "before")

    async def _change(self, action, message, state):
        item_id, role_id = self.params["idItem"], self.params["idRole"]
        self.processing(msg.OP_SAVING)
        async with self.unit() as tx:
            link = await action(tx, item_id, role_id)
            tx.record(message, link, **{state: link})
        await self.ok(link, message)


HANDLERS = [SidebarItemsHandler, SidebarAssignmentHandler, SidebarItemHandler, SidebarHandler]

# SPDX-License-Identifier: MIT
"""/roles: list, create, rename/describe, delete."""

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import text


@attrs.frozen
class RoleBody:
    roleName: str = text(2, 50)
    description: str = text(max_len=255, required=False, nullable=True)


@attrs.frozen
class RoleUpdateBody:
    roleName: str = text(2, 50, required=False)
    description: str = text(max_len=255, required=False, nullable=True)


class RolesHandler(ApiHandler):
    routes = handler_routes(
        Route("GET", "/roles", "auth", "roles:fetchAll"),
        Route("POST", "/roles", "rbac", "roles:create", True, RoleBody, status=201),
    )

    async def on_get(self):
        roles = await self.services.roles.all()
        await self.ok([r.public() for r in roles], msg.ROLES_FETCHED, event_data={"count": len(roles)})

    async def on_post(self):
        self.processing(msg.OP_SAVING)
        description = self.body.description or None
        async with self.unit() as tx:
            role = await self.services.roles.create(tx, self.body.roleName, description)
            tx.record(msg.ROLE_CREATED, role.public(), after=role.public())
        await self.ok(role.public(), msg.ROLE_CREATED)


class RoleHandler(ApiHandler):
    routes = handler_routes(
        Route("PUT", "/roles/:idRole", "rbac", "roles:update", True, RoleUpdateBody),
        Route("DELETE", "/roles/:idRole", "rbac", "roles:delete", True),
    )

    async def on_put(self):
        role_id = self.params["idRole"]
        await self.services.containment.role(self.identity, role_id)
        after = await self.update_recorded(
            self.services.roles, role_id, self.fields_to_update(), msg.ROLE_UPDATED, lambda role: role.public()
        )
        await self.ok(after.public(), msg.ROLE_UPDATED)

    async def on_delete(self):
        role_id = self.params["idRole"]
        await self.services.containment.role(self.identity, role_id)
        self.processing(msg.OP_CHECKING)
        async with self.unit() as tx:
            before = await self.services.roles.require(role_id, tx)
            await self.services.roles.delete(tx, role_id)
            tx.record(msg.ROLE_DELETED, {"idRole": role_id}, before=before.public())
        await self.ok(None, msg.ROLE_DELETED, event_data={"idRole": role_id})


HANDLERS = [RolesHandler, RoleHandler]

# SPDX-License-Identifier: MIT
"""/permission: the catalog, lookups, register, assign/unassign to roles, delete."""

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import number, text
from store.errors import NotFound


@attrs.frozen
class PermissionBody:
    nameUri: str = text(2, 100)
    description: str = text(max_len=255, nullable=True)


@attrs.frozen
class AssignmentBody:
    roleId: int = number()
    permissionId: int = number()


@attrs.frozen
class ByRoleQuery:
    roleId: int = number()


@attrs.frozen
class ByNameQuery:
    nameUri: str = text(1, 100)


class PermissionsHandler(ApiHandler):
    routes = handler_routes(Route("GET", "/permission", "auth", "permissions:fetchAll"))

    async def on_get(self):
        permissions = await self.services.permissions.all()
        await self.ok(
            [p.public() for p in permissions], msg.PERMISSIONS_FETCHED, event_data={"count": len(permissions)}
        )


class PermissionRegisterHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "POST",
            "/permission/register",
            "rbac",
            "permissions:create",
            True,
            PermissionBody,
            status=201,
        ),
    )

    async def on_post(self):
        permissions = self.services.permissions
        self.processing(msg.OP_SAVING)
        async with self.unit() as tx:
            permission = await permissions.create(tx, self.body.nameUri, self.body.description)
            role_ids = await permissions.grant_to_creator(tx, permission.idPermission, self.user.roleId)
            after = {**permission.public(), "roles": role_ids}
            tx.record(msg.PERMISSION_CREATED, permission.public(), after=after)
        await self.ok(permission.public(), msg.PERMISSION_CREATED)


class PermissionsByRoleHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "GET",
            "/permission/getByRoleId",
            "auth",
            "permissions:fetchByRole",
            query=ByRoleQuery,
        ),
    )

    async def on_get(self):
        permissions = await self.services.permissions.of_role(self.query.roleId)
        await self.ok(
            [p.public() for p in permissions], msg.PERMISSIONS_FETCHED, event_data={"count": len(permissions)}
        )


class PermissionsByNameHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "GET",
            "/permission/getByNameUri",
            "auth",
            "permissions:fetchByUri",
            query=ByNameQuery,
        ),
    )

    async def on_get(self):
        permissions = await self.services.permissions.by_name_uri(self.query.nameUri)
        if not permissions:
            raise NotFound(msg.PERMISSION_URI_NOT_FOUND.format(uri=self.query.nameUri))
        await self.ok(
            [p.public() for p in permissions], msg.PERMISSIONS_FETCHED, event_data={"count": len(permissions)}
        )


class PermissionAssignHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "POST",
            "/permission/assign",
            "rbac",
            "permissions:assign",
            True,
            AssignmentBody,
        ),
    )

    async def on_post(self):
        role_id, permission_id = self.body.roleId, self.body.permissionId
        await self.services.containment.grant(self.identity, permission_id)
        await self.services.containment.role(self.identity, role_id)
        self.processing(msg.OP_SAVING)
        data = {"roleId": role_id, "permissionId": permission_id}
        async with self.unit() as tx:
            if not await self.services.permissions.assign(tx, role_id, permission_id):
                message = msg.PERMISSION_ALREADY_ASSIGNED  # idempotent: nothing changed, nothing to announce
                tx.nothing_changed()
            else:
                message = msg.PERMISSION_ASSIGNED
                tx.record(message, data, after=data)
        await self.ok(data, message)


class PermissionUnassignHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "DELETE",
            "/permission/unassign",
            "rbac",
            "permissions:unassign",
            True,
            AssignmentBody,
        ),
    )

    async def on_delete(self):
        role_id, permission_id = self.body.roleId, self.body.permissionId
        await self.services.containment.role(self.identity, role_id)
        self.processing(msg.OP_SAVING)
        async with self.unit() as tx:
            await self.services.permissions.unassign(tx, role_id, permission_id)
            data = {"roleId": role_id, "permissionId": permission_id}
            tx.record(msg.PERMISSION_UNASSIGNED, data, before=data)
        await self.ok(data, msg.PERMISSION_UNASSIGNED)


class PermissionHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "DELETE",
            "/permission/:id",
            "rbac",
            "permissions:delete",
            True,
        ),
    )

    async def on_delete(self):
        permission_id = self.params["id"]
        await self.services.containment.removal(self.identity, permission_id)
        self.processing(msg.OP_CHECKING)
        async with self.unit() as tx:
            permission, role_ids = await self.services.permissions.delete(tx, permission_id)
            tx.record(
                msg.PERMISSION_DELETED,
                {"idPermission": permission_id},
                before={**permission.public(), "roles": role_ids},
            )
        await self.ok(None, msg.PERMISSION_DELETED, event_data={"idPermission": permission_id})


HANDLERS = [
    PermissionsHandler,
    PermissionRegisterHandler,
    PermissionsByRoleHandler,
    PermissionsByNameHandler,
    PermissionAssignHandler,
    PermissionUnassignHandler,
    PermissionHandler,
]

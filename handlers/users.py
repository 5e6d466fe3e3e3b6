# SPDX-License-Identifier: MIT
"""/users: list, read, create, edit, enable/disable, reset password, delete."""

import attrs

import messages as msg
from handlers.auth import RegisterBody, create_user
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import email_address, flag, new_password, number, text
from security.passwords import refuse_email_as_password, temporary_password
from store.errors import Conflict


@attrs.frozen
class UsersQuery:
    page: int = number(required=False)
    limit: int = number(1, 200, required=False)
    q: str = text(max_len=100, required=False)


@attrs.frozen
class UserUpdateBody:
    full_name: str = text(2, 100, required=False)
    email: str = email_address(required=False)
    roleId: int = number(required=False)
    password: str = new_password(required=False)


@attrs.frozen
class UserStateBody:
    isActive: int = flag()


class UsersHandler(ApiHandler):
    routes = handler_routes(
        Route("GET", "/users", "rbac", "users:fetchAll", query=UsersQuery),
        Route("POST", "/users", "rbac", "users:create", True, RegisterBody, status=201),
    )

    async def on_get(self):
        query = self.query
        page, limit = query.page or 1, query.limit or 50
        self.processing(msg.OP_QUERYING)
        users, total = await self.services.users.page(page, limit, query.q or None)
        meta = {"page": page, "limit": limit, "total": total}
        await self.ok(
            [u.public() for u in users], msg.USERS_FETCHED, meta=meta, event_data={"count": len(users), **meta}
        )

    async def on_post(self):
        await create_user(self, self.body, self.body.roleId, msg.USER_CREATED)


class UserHandler(ApiHandler):
    routes = handler_routes(
        Route("GET", "/users/:id", "rbac", "users:fetchOne"),
        Route("PUT", "/users/:id", "rbac", "users:update", True, UserUpdateBody),
        Route("DELETE", "/users/:id", "rbac", "users:delete", True),
    )

    async def on_get(self):
        user = await self.services.users.require(self.params["id"])
        await self.ok(user.public(), msg.USER_FETCHED, event_data={"idUser": user.idUser})

    async def on_put(self):
        services, user_id = self.services, self.params["id"]
        fields = self.fields_to_update()
        password = fields.pop("password", None)
        if password is not None:
            target = await services.cache.user(user_id)
            refuse_email_as_password(password, fields.get("email") or (target.email if target else None))
        await services.containment.user(self.identity, user_id)
        if "roleId" in fields:
            await services.containment.role(self.identity, fields["roleId"])
        self.processing(msg.OP_CHECKING)
        digest = None
        if password is not None:
            await services.users.require(user_id)  # no bcrypt work for a user that does not exist
            self.processing(msg.OP_HASHING)
            digest = await services.passwords.hash(password, self.request.remote_ip)
            self.processing(msg.OP_SAVING)
        async with self.unit() as tx:
            before = await services.users.require(user_id, tx)
            if digest is None:
                self.processing(msg.OP_SAVING)
            after = await services.users.update(tx, user_id, fields, digest)
            tx.record(msg.USER_UPDATED, after.public(), before=before.public(), after=after.public(), subject=user_id)
        await self.ok(after.public(), msg.USER_UPDATED)

    async def on_delete(self):
        services, user_id = self.services, self.params["id"]
        if user_id == self.user.idUser:  # one click in a confirm dialog must not lock an admin out of the console
            raise Conflict(msg.SELF_DELETE)
        await services.containment.user(self.identity, user_id)
        self.processing(msg.OP_CHECKING)
        async with self.unit() as tx:
            before = await services.users.require(user_id, tx)
            await services.users.delete(tx, user_id)
            tx.record(msg.USER_DELETED, {"idUser": user_id}, before=before.public(), subject=user_id)
        await self.ok(None, msg.USER_DELETED, event_data={"idUser": user_id})


class UserStateHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "PUT",
            "/users/:id/state",
            "rbac",
            "users:update",
            True,
            UserStateBody,
        ),
    )

    async def on_put(self):
        services, user_id, active = self.services, self.params["id"], self.body.isActive
        message = msg.USER_ACTIVATED if active else msg.USER_DEACTIVATED
        if not active and user_id == self.user.idUser:
            raise Conflict(msg.SELF_DISABLE)
        await services.containment.user(self.identity, user_id)
        self.processing(msg.OP_CHECKING)
        async with self.unit() as tx:
            before = await services.users.require(user_id, tx)
            self.processing(msg.OP_SAVING)
            after = await services.users.set_active(tx, user_id, active)
            tx.record(message, after.public(), before=before.public(), after=after.public(), subject=user_id)
        await self.ok(after.public(), message)


class UserPasswordResetHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "PUT",
            "/users/:id/resetPassword",
            "rbac",
            "users:update",
            True,
        ),
    )

    async def on_put(self):
        services, user_id = self.services, self.params["id"]
        await services.containment.user(self.identity, user_id)
        self.processing(msg.OP_CHECKING)
        await services.users.require(user_id)
        password = temporary_password()
        self.processing(msg.OP_HASHING)
        digest = await services.passwords.hash(password, self.request.remote_ip)
        async with self.unit() as tx:
            before = await services.users.require(user_id, tx)
            after = await services.users.set_password(tx, user_id, digest, 1, msg.REVOKED_PASSWORD_RESET)
            tx.record(
                msg.USER_PASSWORD_RESET, after.public(), before=before.public(), after=after.public(), subject=user_id
            )
        await self.ok({"temporaryPassword": password}, msg.USER_PASSWORD_RESET, event_data={"idUser": user_id})


HANDLERS = [UsersHandler, UserPasswordResetHandler, UserStateHandler, UserHandler]

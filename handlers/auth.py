"""/auth: register, login, the caller's session, token refresh and password change."""

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import EMAIL, number, text
from store.errors import Forbidden, Locked, Unauthorized, ValidationError


@attrs.frozen
class RegisterBody:
    full_name: str = text(2, 100)
    email: str = text(max_len=100, pattern=EMAIL)
    password: str = text("password_min_length", 100, strip=False)
    roleId: int = number()


@attrs.frozen
class LoginBody:
    email: str = text(max_len=100)
    password: str = text(max_len=100, strip=False)


@attrs.frozen
class PasswordBody:
    currentPassword: str = text(max_len=100, strip=False)
    newPassword: str = text("password_min_length", 100, strip=False)


async def create_user(handler, body, role_id, message):
    """Shared by /auth/register and POST /users: hash off the loop, insert, record the change."""
    services = handler.services
    handler.processing(msg.OP_HASHING)
    digest = await services.passwords.hash(body.password)
    handler.processing(msg.OP_SAVING)
    async with handler.unit() as tx:
        user = await services.users.create(tx, body.full_name, body.email, digest, role_id)
        tx.record(message, user.public(), after=user.public(), subject=user.idUser)
    await handler.ok(user.public(), message)


class RegisterHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "POST",
            "/auth/register",
            "public",
            "auth:register",
            True,
            RegisterBody,
            identifies=True,
            status=201,
            changes="users",
        ),
    )

    def authorize(self):
        if self.identity is None and not self.services.config["open_registration"]:
            raise Forbidden(msg.REGISTRATION_CLOSED)
        if self.identity is not None and not self.identity.can(self.route.permission):
            raise Forbidden(msg.FORBIDDEN)

    async def on_post(self):
        if self.identity is None:
            role = await self.services.roles.by_name(self.services.config["default_role"])
            if role is None:  # renamed or deleted since start-up: nothing safe to give a newcomer
                raise Forbidden(msg.REGISTRATION_CLOSED)
            role_id = role.idRole
        else:
            role_id = self.body.roleId
        await create_user(self, self.body, role_id, msg.REGISTERED)


class LoginHandler(ApiHandler):
    routes = handler_routes(Route("POST", "/auth/login", "public", "auth:login", False, LoginBody))

    async def on_post(self):
        services, email = self.services, self.body.email
        keys = (f"ip:{self.request.remote_ip}", f"email:{email.lower()}")
        services.throttle.check(*keys)
        user = await services.users.by_email(email)
        if not await services.passwords.check(self.body.password, user.password_hash if user else None):
            services.throttle.fail(*keys)
            raise Unauthorized(msg.BAD_CREDENTIALS)
        if not user.isActive:
            raise Locked(msg.USER_INACTIVE)
        services.throttle.forget(keys[1])
        self.op.bind(user.idUser)
        view = await services.session_view(user.idUser)
        data = {
            "token": services.tokens.issue(user, user.roleName),
            "expiresIn": services.tokens.expires_text,
            **view,
            "mustChangePassword": bool(user.mustChangePassword),
        }
        await self.ok(data, msg.LOGGED_IN, event_data={"idUser": user.idUser})


class MeHandler(ApiHandler):
    routes = handler_routes(Route("GET", "/auth/me", "auth", "auth:me"))

    async def on_get(self):
        view = await self.services.session_view(self.user.idUser)
        await self.ok(
            {**view, "mustChangePassword": bool(self.user.mustChangePassword)},
            msg.SESSION_INFO,
            event_data={"idUser": self.user.idUser},
        )


class RefreshHandler(ApiHandler):
    routes = handler_routes(Route("POST", "/auth/refresh", "auth", "auth:refresh"))

    async def on_post(self):
        tokens = self.services.tokens
        token = tokens.issue(self.user, self.identity.grants.roleName)
        await self.ok({"token": token, "expiresIn": tokens.expires_text}, msg.TOKEN_REFRESHED, event_data=None)


class PasswordHandler(ApiHandler):
    routes = handler_routes(
        Route(
            "PUT",
            "/auth/password",
            "auth",
            "auth:password",
            True,
            PasswordBody,
            broadcast=False,
        ),
    )

    async def on_put(self):
        services, body = self.services, self.body
        user = await services.users.require(self.user.idUser)
        self.processing(msg.OP_HASHING)
        if not await services.passwords.check(body.currentPassword, user.password_hash):
            raise ValidationError(msg.WRONG_CURRENT_PASSWORD)
        if body.currentPassword == body.newPassword:
            raise ValidationError(msg.SAME_PASSWORD)
        digest = await services.passwords.hash(body.newPassword)
        async with self.unit() as tx:
            updated = await services.users.set_password(
                tx, user.idUser, digest, 0, msg.REVOKED_PASSWORD_CHANGED, keep_socket=self.op.initiator
            )
            tx.record(msg.PASSWORD_CHANGED, {"idUser": user.idUser}, subject=user.idUser)
        token = services.tokens.issue(updated, updated.roleName)
        await self.ok(
            {"token": token, "expiresIn": services.tokens.expires_text}, msg.PASSWORD_CHANGED, event_data=None
        )


HANDLERS = [RegisterHandler, LoginHandler, MeHandler, RefreshHandler, PasswordHandler]

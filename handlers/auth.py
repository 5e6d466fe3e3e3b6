# SPDX-License-Identifier: MIT
"""/auth: register, login, the caller's session, token refresh and password change."""

import logging

import attrs

import messages as msg
from handlers.base import ApiHandler
from handlers.routing import Route, handler_routes
from handlers.schema import email_address, new_password, number, text
from security.passwords import refuse_email_as_password
from security.throttle import address_key, email_key, register_key
from store.errors import Forbidden, Locked, TooManyRequests, Unauthorized, ValidationError

# Failed password checks, one line each with the client address and the email tried (fail2ban reads them:
# deploy/fail2ban/), never the password.
log = logging.getLogger("seam.auth")
# What a password check is for: in those log lines and as the `action` label of the login metrics.
LOGIN, PASSWORD_CHANGE = "login", "password change"


@attrs.frozen
class RegisterBody:
    full_name: str = text(2, 100)
    email: str = email_address()
    password: str = new_password()
    roleId: int = number()


@attrs.frozen
class LoginBody:
    email: str = email_address(pattern=False)
    password: str = text(max_len=100, strip=False)


@attrs.frozen
class PasswordBody:
    currentPassword: str = text(max_len=100, strip=False)
    newPassword: str = new_password()


async def password_matches(handler, email, password, digest, action):
    """A password check that counts as a guess (SPEC §10): refused past the limit per address, slowed down per
    email, each miss logged for fail2ban and counted in the metrics; a match clears the email's count."""
    services, address, metrics = handler.services, handler.request.remote_ip, handler.services.metrics
    guesses = email_key(email)
    try:
        attempt = services.throttle.attempt(refuse=[address_key(address)], slow=[guesses])
    except TooManyRequests:
        if metrics is not None:
            metrics.login_throttled.labels(action, "refused").inc()
        raise
    if attempt.delay and metrics is not None:
        metrics.login_throttled.labels(action, "slowed").inc()
    async with attempt:
        if not await services.passwords.check(password, digest, address):
            await attempt.count()
            log.warning("failed %s from %s for %r", action, address, email)
            if metrics is not None:
                metrics.login_failures.labels(action).inc()
            return False
    await services.throttle.forget(guesses)
    return True


async def create_user(handler, body, role_id, message):
    """Shared by /auth/register and POST /users: check, hash off the loop, insert, record the change."""
    services = handler.services
    refuse_email_as_password(body.password, body.email)
    if handler.identity is not None:
        await services.containment.role(handler.identity, role_id)
    handler.processing(msg.OP_HASHING)
    digest = await services.passwords.hash(body.password, handler.request.remote_ip)
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
        if self.identity is not None:
            await create_user(self, self.body, self.body.roleId, msg.REGISTERED)
            return
        services = self.services
        role = await services.roles.get(services.default_role_id) if services.default_role_id else None
        if role is None:  # deleted since it was resolved: nothing safe to give a newcomer
            raise Forbidden(msg.REGISTRATION_CLOSED)
        # Each anonymous registration costs a bcrypt hash: counted per address, refused past the limit.
        async with services.throttle.attempt(refuse=[register_key(self.request.remote_ip)]) as attempt:
            await attempt.count()
        await create_user(self, self.body, role.idRole, msg.REGISTERED)


class LoginHandler(ApiHandler):
    routes = handler_routes(Route("POST", "/auth/login", "public", "auth:login", False, LoginBody))

    async def on_post(self):
        """Each answered attempt goes to the login audit (store/logins.py); a 429 checks no password and is
        not recorded, so a flood of refused guesses costs no writes."""
        services, email, password = self.services, self.body.email, self.body.password
        address = self.request.remote_ip
        user = await services.users.by_email(email)
        if not await password_matches(self, email, password, user.password_hash if user else None, LOGIN):
            await services.logins.record("failure", address, user)
            raise Unauthorized(msg.BAD_CREDENTIALS)
        if not user.isActive:
            await services.logins.record("inactive", address, user)
            raise Locked(msg.USER_INACTIVE)
        digest = None
        if services.passwords.outdated(user.password_hash):  # bcrypt_rounds changed: same cost for everyone
            digest = await services.passwords.hash(password, address)
        async with services.db.transaction() as tx:
            if digest is not None:
                await services.users.rehash(tx, user.idUser, digest)
            await services.logins.write(tx, "success", address, user)
        self.op.bind(user.idUser)
        view = await services.session_view(user.idUser)
        issued = services.tokens.issue(user, user.roleName)
        data = {
            "token": issued.token,
            "expiresIn": issued.expires_in,
            **view,
            "mustChangePassword": bool(user.mustChangePassword),
        }
        await self.ok(data, msg.LOGGED_IN, event_data={"idUser": user.idUser})


class MeHandler(ApiHandler):
    routes = handler_routes(Route("GET", "/auth/me", "auth", "auth:me", while_must_change=True))

    async def on_get(self):
        view = await self.services.session_view(self.user.idUser)
        await self.ok(
            {**view, "mustChangePassword": bool(self.user.mustChangePassword)},
            msg.SESSION_INFO,
            event_data={"idUser": self.user.idUser},
        )


class RefreshHandler(ApiHandler):
    routes = handler_routes(Route("POST", "/auth/refresh", "auth", "auth:refresh", while_must_change=True))

    async def on_post(self):
        """A new token for the same session: it never outlives `session_max_age` from the login (SPEC §10)."""
        issued = self.services.tokens.issue(self.user, self.identity.grants.roleName, self.identity.auth_time)
        await self.ok({"token": issued.token, "expiresIn": issued.expires_in}, msg.TOKEN_REFRESHED, event_data=None)


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
            while_must_change=True,
        ),
    )

    async def on_put(self):
        services, body = self.services, self.body
        user = await services.users.require(self.user.idUser)
        refuse_email_as_password(body.newPassword, user.email, "newPassword")
        self.processing(msg.OP_HASHING)
        # A stolen token must not buy unlimited guesses: these count as failed logins (SPEC §10).
        if not await password_matches(self, user.email, body.currentPassword, user.password_hash, PASSWORD_CHANGE):
            raise ValidationError(msg.WRONG_CURRENT_PASSWORD)
        if body.currentPassword == body.newPassword:
            raise ValidationError(msg.SAME_PASSWORD)
        digest = await services.passwords.hash(body.newPassword, self.request.remote_ip)
        async with self.unit() as tx:
            updated = await services.users.set_password(
                tx, user.idUser, digest, 0, msg.REVOKED_PASSWORD_CHANGED, keep_socket=tx.origin.initiator
            )
            tx.record(msg.PASSWORD_CHANGED, {"idUser": user.idUser}, subject=user.idUser)
        issued = services.tokens.issue(updated, updated.roleName)
        await self.ok({"token": issued.token, "expiresIn": issued.expires_in}, msg.PASSWORD_CHANGED, event_data=None)


class LogoutOthersHandler(ApiHandler):
    routes = handler_routes(Route("POST", "/auth/logoutOthers", "auth", "auth:logoutOthers", True, broadcast=False))

    async def on_post(self):
        """ "Close my other sessions" without changing the password: every token issued so far stops working and
        the other sockets close; the caller gets a new token for the same session (session_max_age still counts
        from its login)."""
        services, user_id = self.services, self.user.idUser
        async with self.unit() as tx:
            user = await services.users.end_sessions(tx, user_id, msg.REVOKED_LOGGED_OUT, tx.origin.initiator)
            tx.record(msg.SESSIONS_CLOSED, {"idUser": user_id}, subject=user_id)
        issued = services.tokens.issue(user, user.roleName, self.identity.auth_time)
        await self.ok({"token": issued.token, "expiresIn": issued.expires_in}, msg.SESSIONS_CLOSED, event_data=None)


HANDLERS = [RegisterHandler, LoginHandler, MeHandler, RefreshHandler, PasswordHandler, LogoutOthersHandler]

# SPDX-License-Identifier: MIT
"""The shared services of one SEAM instance, reached by handlers through `self.settings['seam']`."""

import asyncio
import logging
import secrets

import attrs
import tornado.ioloop

from app.config import ConfigError
from app.metrics import Metrics
from app.version import VERSION
from handlers import schema
from realtime.hub import RealtimeHub
from realtime.publisher import ChangePublisher
from security.containment import Containment
from security.durations import parse_duration
from security.passwords import Passwords, refuse_email_as_password, temporary_password
from security.throttle import Throttle
from security.tokens import Authenticator, Tokens
from store import seed
from store.backends import database
from store.cache import AuthCache
from store.changes import ChangeRepository
from store.db import fold
from store.errors import Unavailable, ValidationError
from store.logins import LoginAudit
from store.migrations import SchemaTooNew
from store.permissions import PermissionRepository
from store.roles import RoleRepository
from store.settings import SettingsRepository
from store.sidebar import SidebarRepository
from store.unit import Writes
from store.users import UserRepository
from web.cors import Cors

log = logging.getLogger("seam")
EXTERNAL_CHECK_MS = 1000
# Several processes: how often the table is checked for changes committed elsewhere when no nudge came (a lost
# Redis message, or Redis down); the nudge is what normally wakes a process, within a millisecond.
SHARED_CHECK_MS = 100


@attrs.frozen
class Shared:
    """One of several processes (redis_url): its Redis and its name among the others."""

    url: str
    instance: str


def check_admin_password(config, password, email):
    """$SEAM_ADMIN_PASSWORD, when it is used, follows the API's rules for a new password (SPEC §10)."""
    _, problem = schema.check("SEAM_ADMIN_PASSWORD", schema.NEW_PASSWORD, password, limits=config)
    if problem:
        raise ConfigError(problem)
    try:
        refuse_email_as_password(password, email, "SEAM_ADMIN_PASSWORD")
    except ValidationError as error:
        raise ConfigError(error.message) from None


class InFlight:
    """API requests being served, so a shutdown can let them finish before closing the database (SPEC §8)."""

    def __init__(self):
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def enter(self):
        self.count += 1
        self.idle.clear()

    def leave(self):
        self.count -= 1
        if self.count == 0:
            self.idle.set()


class Services:
    def __init__(self, config, catalog):
        self.config = config
        self.catalog = catalog
        self.db = database(config)
        self.cache = AuthCache(self.db)
        self.users = UserRepository(self.db, self.cache)
        self.roles = RoleRepository(self.db, self.cache)
        self.permissions = PermissionRepository(self.db, self.cache, self.users)
        self.sidebar = SidebarRepository(self.db)
        self.changes = ChangeRepository(self.db, config["change_retention"])
        self.logins = LoginAudit(self.db)
        self.stored_settings = SettingsRepository(self.db)
        self.passwords = Passwords(config["bcrypt_rounds"])
        self.throttle = Throttle(self.db, config["login_max_failures"], parse_duration(config["login_window"]))
        self.containment = Containment(self.cache, self.permissions)
        self.cors = Cors(config["cors_origins"])
        self.requests = InFlight()
        self.tokens = None
        self.auth = Authenticator(None, self.cache)
        self.shared = Shared(config["redis_url"], config["instance"]) if config["redis_url"] else None
        self.hub = RealtimeHub(
            self.auth,
            self.cache,
            config["cors_origins"],
            self.session_view,
            shared=self.shared,
            freshen=self.freshen if self.shared else None,
        )
        self.publisher = ChangePublisher(
            self.changes.after, self.hub.apply, announced_here=self.hub.nudge if self.shared else None
        )
        self.hub.on_nudge = self.publisher.catch_up
        self.writes = Writes(self.db, self.changes)
        self.first_start = False  # this start created the admin account (seam.py announces it)
        self.admin_password = None  # generated for it, shown once
        self.metrics = Metrics() if config["metrics"] else None
        if self.metrics is not None:
            self.metrics.attach(self)
        self.default_role_id = None
        self.watcher = None
        self.data_version = None
        self.probe = None

    async def start(self, admin_password=None, announce=True):
        """Open and migrate the database, seed on first start, load the JWT secret.

        `announce` (the server): publish committed changes to sockets and pick up those of other processes.
        A maintenance command leaves that to the running server, which reads its changes from the table.

        A database SEAM cannot use is a one-line start-up error, with its connections closed (their
        threads would otherwise keep the process alive after the error)."""
        path = self.db.name
        if admin_password and not self.db.exists():  # refused before the database file is created
            check_admin_password(self.config, admin_password, self.config["admin_email"])
        try:
            await self._open(admin_password)
        except BaseException as error:
            await self.db.close()
            if isinstance(error, SchemaTooNew):
                raise ConfigError(
                    f"cannot use database {path!r}: a newer SEAM migrated it (schema version {error.found};"
                    f" SEAM {VERSION} knows up to {error.known}): start that newer version,"
                    " or restore the backup taken before the upgrade"
                ) from None
            if isinstance(error, self.db.errors):
                reason = error.strerror if isinstance(error, OSError) and error.strerror else error
                raise ConfigError(f"cannot use database {path!r}: {reason}") from None
            raise
        if announce:
            self.publisher.start(await self.changes.latest_seq())
            self.writes.announcer = self.publisher
            if self.shared:
                self.probe = self.db.probe()
                self.data_version = await self.probe.version()
                await self.hub.start()
                self.watcher = tornado.ioloop.PeriodicCallback(self._freshen_unasked, SHARED_CHECK_MS)
            else:
                self.watcher = tornado.ioloop.PeriodicCallback(self._check_external_changes, EXTERNAL_CHECK_MS)
            self.watcher.start()
        return self

    async def _open(self, admin_password):
        await self.db.open()
        if not await seed.is_seeded(self.db):
            if admin_password:
                check_admin_password(self.config, admin_password, self.config["admin_email"])
            password = admin_password or temporary_password()
            digest = await self.passwords.hash(password)
            seeded = await seed.seed(self.db, self.catalog, self.config["admin_email"], digest, not admin_password)
            self.first_start = seeded
            if seeded and not admin_password:
                self.admin_password = password
        else:
            await seed.add_missing_permissions(self.db, await self.permissions.missing_from(self.catalog))
        await self.changes.keep_window()
        await self.throttle.load()
        self.tokens = Tokens(await self._jwt_secret(), self.config["jwt_expires"], self.config["session_max_age"])
        self.auth.tokens = self.tokens
        self.default_role_id = await self._default_role_id()
        self.data_version = await self.db.data_version()

    async def _jwt_secret(self):
        if self.config["jwt_secret"]:
            return self.config["jwt_secret"]
        secret = await self.stored_settings.get("jwt_secret")
        if secret is None:
            async with self.db.transaction() as tx:
                secret = await self.stored_settings.keep_first(tx, "jwt_secret", secrets.token_urlsafe(48))
        return secret

    async def _default_role_id(self):
        """`default_role` names a role when the setting is set (or changed); from then on the id decides, so
        renaming roles, before a restart or after it, never changes what self-registered users get (SPEC §10)."""
        name = self.config["default_role"]
        resolved_for = await self.stored_settings.get("default_role_name")
        if resolved_for is not None and fold(resolved_for) == fold(name):
            return int(await self.stored_settings.get("default_role_id"))
        role = await self.roles.by_name(name)
        if role is None:
            return None
        async with self.db.transaction() as tx:
            await self.stored_settings.put(tx, "default_role_name", name)
            await self.stored_settings.put(tx, "default_role_id", str(role.idRole))
        return role.idRole

    async def _check_external_changes(self):
        """Another process (a maintenance command) committed: drop the auth cache, reload the throttle,
        announce its changes."""
        try:
            version = await self.db.data_version()
        except Exception:  # the database is closing
            return
        await self._take_in(version)

    async def freshen(self):
        """Several processes: before a request or handshake, take in what the others committed since this one
        last looked. A revocation, a grant or a role change answered by another process applies here at once
        (not after a poll), and failed logins are counted across processes."""
        await self._take_in(await self.probe.version())

    async def _take_in(self, version):
        """The database changed since `version` was last seen: nothing cached from before may answer, the
        throttle counts come from the table, and the publisher reads the changes it has not announced."""
        if version == self.data_version:
            return
        self.data_version = version
        self.cache.forget_all()
        self.publisher.catch_up()
        await self.throttle.load()

    async def _freshen_unasked(self):
        """The periodic check between requests: a database that cannot be reached is the next request's 503."""
        try:
            await self.freshen()
        except Unavailable:
            pass

    async def session_view(self, user_id):
        """{user, permissions, sidebarItems} as login, /auth/me and session:changed return them."""
        user = await self.users.get(user_id)
        if user is None:
            return None
        permissions = await self.permissions.of_role(user.roleId)
        items = await self.sidebar.of_role(user.roleId)
        return {
            "user": user.public(),
            "permissions": [p.nameUri for p in permissions],
            "sidebarItems": [i.public() for i in items],
        }

    async def stop(self):
        if self.watcher is not None:
            self.watcher.stop()
        await self.publisher.close()
        await self.hub.close()
        if self.probe is not None:
            self.probe.close()
        await self.db.close()
        self.passwords.close()
        await asyncio.sleep(0)

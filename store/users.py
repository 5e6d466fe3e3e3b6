# SPDX-License-Identifier: MIT
"""Users repository: rows ↔ User models, uniqueness and lock-out rules as domain errors."""

import messages as msg
from store.changes import utc_now
from store.errors import Conflict, NotFound
from store.models import User, from_rows

COLUMNS = (
    "SELECT u.idUser, u.full_name, u.email, u.roleId, u.isActive, u.mustChangePassword, u.createdAt, "
    "u.updatedAt, r.roleName, r.description AS roleDescription, u.tokenVersion, u.password AS password_hash"
)
FROM = " FROM users u JOIN roles r ON r.idRole = u.roleId"
SELECT = COLUMNS + FROM
ASSIGN_PERMISSION = "POST /api/v1/permission/assign"
CAN_ASSIGN_COUNT = (
    "SELECT COUNT(*) FROM users WHERE isActive = 1 AND roleId IN ("
    " SELECT x.roleId FROM permissionXRole x JOIN permissions p ON p.idPermission = x.permissionId"
    " WHERE p.nameUri = ? COLLATE NOCASE)"
)
PAGES_KEPT = 64  # distinct (page, limit, q) lists kept between writes
EDITABLE = ("full_name", "email", "roleId")


def escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class UserRepository:
    def __init__(self, db, cache):
        self.db = db
        self.cache = cache
        self.pages = {}
        self.pages_generation = None

    async def get(self, user_id, tx=None):
        source = tx or self.db
        row = await source.fetchone(f"{SELECT} WHERE u.idUser = ?", (user_id,))
        return User(**dict(row)) if row else None

    async def require(self, user_id, tx=None):
        user = await self.get(user_id, tx)
        if user is None:
            raise NotFound(msg.USER_NOT_FOUND.format(id=user_id))
        return user

    async def by_email(self, email):
        row = await self.db.fetchone(f"{SELECT} WHERE fold(u.email) = fold(?)", (email,))
        return User(**dict(row)) if row else None

    async def page(self, page, limit, q=None):
        """One page of users (name/email containing q) and the total that match.

        Pages are kept until the next write to users or roles (any auth-cache invalidation moves
        its generation): after each change every open console reloads the same page at once.
        """
        generation = self.cache.generation
        if generation != self.pages_generation:
            self.pages, self.pages_generation = {}, generation
        key = (page, limit, q)
        found = self.pages.get(key)
        if found is None:
            found = await self._query_page(page, limit, q)
            if generation == self.cache.generation and len(self.pages) < PAGES_KEPT:
                self.pages[key] = found
        return found

    async def _query_page(self, page, limit, q):
        where, params = "", ()
        if q:
            pattern = f"%{escape_like(q)}%"
            where = " WHERE u.full_name LIKE ? ESCAPE '\\' OR u.email LIKE ? ESCAPE '\\'"
            params = (pattern, pattern)
        count = f"SELECT COUNT(*) FROM users u{where}"
        rows = await self.db.fetchall(  # the total rides along (one trip to the database thread, not two)
            f"{COLUMNS}, ({count}) AS total{FROM}{where} ORDER BY u.idUser LIMIT ? OFFSET ?",
            params + params + (limit, (page - 1) * limit),
        )
        total = rows[0]["total"] if rows else (await self.db.fetchone(count, params))[0]
        return tuple(from_rows(User, rows)), total

    async def _check_role(self, tx, role_id):
        if not await tx.fetchone("SELECT 1 FROM roles WHERE idRole = ?", (role_id,)):
            raise NotFound(msg.ROLE_NOT_FOUND.format(id=role_id))

    async def _check_email_free(self, tx, email, user_id=0):
        row = await tx.fetchone("SELECT 1 FROM users WHERE fold(email) = fold(?) AND idUser != ?", (email, user_id))
        if row:
            raise Conflict(msg.EMAIL_IN_USE)

    async def create(self, tx, full_name, email, password_hash, role_id, must_change=0):
        await self._check_role(tx, role_id)
        await self._check_email_free(tx, email)
        user_id = await tx.insert(
            "INSERT INTO users (full_name, email, password, roleId, mustChangePassword) VALUES (?, ?, ?, ?, ?)",
            (full_name, email, password_hash, role_id, must_change),
        )
        tx.on_commit(lambda: self.cache.forget_user(user_id))
        return await self.get(user_id, tx)

    async def update(self, tx, user_id, fields, password_hash=None):
        """Write the editable fields given; a new password also revokes the user's tokens and sockets."""
        if "roleId" in fields:
            await self._check_role(tx, fields["roleId"])
        if "email" in fields:
            await self._check_email_free(tx, fields["email"], user_id)
        sets = [f"{name} = ?" for name in EDITABLE if name in fields]
        params = [fields[name] for name in EDITABLE if name in fields]
        if password_hash is not None:
            sets += ["password = ?", "tokenVersion = tokenVersion + 1", "mustChangePassword = 0"]
            params.append(password_hash)
        await self._write(tx, user_id, sets, params)
        if password_hash is not None:
            tx.revoke(user_id, msg.REVOKED_PASSWORD_CHANGED)
        else:
            tx.refresh(users=[user_id])
        if "roleId" in fields:
            await self.ensure_someone_can_assign(tx)
        return await self.get(user_id, tx)

    async def set_active(self, tx, user_id, active):
        """Disabling also bumps tokenVersion (SPEC §10): enabling again never revives the tokens it revoked."""
        if active:
            await self._write(tx, user_id, ["isActive = ?"], [active])
        else:
            await self._write(tx, user_id, ["isActive = ?", "tokenVersion = tokenVersion + 1"], [active])
            tx.revoke(user_id, msg.REVOKED_DISABLED)
            await self.ensure_someone_can_assign(tx)
        return await self.get(user_id, tx)

    async def set_password(self, tx, user_id, password_hash, must_change, reason, keep_socket=None):
        """New hash; bumping tokenVersion makes every token issued before it invalid, and its sockets go too."""
        await self._write(
            tx,
            user_id,
            ["password = ?", "mustChangePassword = ?", "tokenVersion = tokenVersion + 1"],
            [password_hash, must_change],
        )
        tx.revoke(user_id, reason, keep_socket)
        return await self.get(user_id, tx)

    async def end_sessions(self, tx, user_id, reason, keep_socket=None):
        """Every token issued so far stops working and the sockets close (all but keep_socket); not an edit of
        the account, so updatedAt stays."""
        await tx.execute("UPDATE users SET tokenVersion = tokenVersion + 1 WHERE idUser = ?", (user_id,))
        tx.on_commit(lambda: self.cache.forget_user(user_id))
        tx.revoke(user_id, reason, keep_socket)
        return await self.require(user_id, tx)

    async def rehash(self, tx, user_id, password_hash):
        """The same password at the current bcrypt cost: not an edit (no updatedAt), tokens stay valid."""
        await tx.execute("UPDATE users SET password = ? WHERE idUser = ?", (password_hash, user_id))

    async def delete(self, tx, user_id):
        await tx.execute("DELETE FROM users WHERE idUser = ?", (user_id,))
        tx.on_commit(lambda: self.cache.forget_user(user_id))
        tx.revoke(user_id, msg.REVOKED_DELETED)
        await self.ensure_someone_can_assign(tx)

    async def _write(self, tx, user_id, sets, params):
        sets = [*sets, "updatedAt = ?"]  # the time in Python, the same format on every backend
        await tx.execute(f"UPDATE users SET {', '.join(sets)} WHERE idUser = ?", (*params, utc_now(), user_id))
        tx.on_commit(lambda: self.cache.forget_user(user_id))

    async def ensure_someone_can_assign(self, tx):
        """Lock-out guard (SPEC §4): some active user must still be able to grant permissions."""
        row = await tx.fetchone(CAN_ASSIGN_COUNT, (ASSIGN_PERMISSION,))
        if row[0] == 0:
            raise Conflict(msg.LOCKOUT)

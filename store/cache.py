# SPDX-License-Identifier: MIT
"""The auth/permission cache: no database query per request for an unchanged user or role.

Mutating repositories invalidate entries after their transaction commits. A load that
started before an invalidation is not stored, so a stale row can never be cached.
"""

from store.models import AuthUser, RoleGrants

USER_SQL = (
    "SELECT idUser, email, full_name, roleId, isActive, tokenVersion, mustChangePassword FROM users WHERE idUser = ?"
)
ROLE_SQL = "SELECT idRole, roleName FROM roles WHERE idRole = ?"
GRANTS_SQL = (
    "SELECT lower(p.nameUri) FROM permissionXRole x JOIN permissions p ON p.idPermission = x.permissionId "
    "WHERE x.roleId = ?"
)
HOLDERS_SQL = (
    "SELECT x.roleId FROM permissionXRole x JOIN permissions p ON p.idPermission = x.permissionId "
    "WHERE p.nameUri = ? COLLATE NOCASE"
)


class AuthCache:
    def __init__(self, db):
        self.db = db
        self.users = {}
        self.roles = {}
        self.holders = {}
        self.generation = 0

    async def user(self, user_id):
        """The user's auth slice, or None when the user does not exist."""
        if user_id in self.users:
            return self.users[user_id]
        generation = self.generation
        row = await self.db.fetchone(USER_SQL, (user_id,))
        found = AuthUser(**dict(row)) if row else None
        if generation == self.generation:
            self.users[user_id] = found
        return found

    async def grants(self, role_id):
        """The role's name and permissions, or None when the role does not exist."""
        if role_id in self.roles:
            return self.roles[role_id]
        generation = self.generation
        role = await self.db.fetchone(ROLE_SQL, (role_id,))
        found = None
        if role:
            names = await self.db.fetchall(GRANTS_SQL, (role_id,))
            found = RoleGrants(role["idRole"], role["roleName"], frozenset(r[0] for r in names))
        if generation == self.generation:
            self.roles[role_id] = found
        return found

    async def roles_holding(self, permission):
        """Ids of the roles that hold a permission (used to aim permission-aware fan-out)."""
        key = permission.lower()
        if key in self.holders:
            return self.holders[key]
        generation = self.generation
        rows = await self.db.fetchall(HOLDERS_SQL, (permission,))
        found = frozenset(r[0] for r in rows)
        if generation == self.generation:
            self.holders[key] = found
        return found

    def forget_user(self, user_id):
        self.generation += 1
        self.users.pop(user_id, None)

    def forget_roles(self):
        """Role names or grants changed: drop every role entry (they are few and cheap to reload)."""
        self.generation += 1
        self.roles.clear()
        self.holders.clear()

    def forget_all(self):
        self.generation += 1
        self.users.clear()
        self.roles.clear()
        self.holders.clear()

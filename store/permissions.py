# SPDX-License-Identifier: MIT
"""Permissions repository: the catalog and its role assignments."""

import messages as msg
from store.errors import Conflict, NotFound
from store.models import Permission

SELECT = "SELECT p.idPermission, p.nameUri, p.description FROM permissions p"
# Roles holding at least every permission of role ?: the creator's own and those above it (e.g. admin).
GRANT_TO_CONTAINERS = (
    "INSERT INTO permissionXRole (roleId, permissionId) SELECT r.idRole, CAST(? AS INTEGER) FROM roles r"
    " WHERE NOT EXISTS ("
    " SELECT 1 FROM permissionXRole c WHERE c.roleId = ? AND NOT EXISTS ("
    "  SELECT 1 FROM permissionXRole x WHERE x.roleId = r.idRole AND x.permissionId = c.permissionId))"
)


class PermissionRepository:
    def __init__(self, db, cache, users):
        self.db = db
        self.cache = cache
        self.users = users

    async def all(self):
        rows = await self.db.fetchall(f"{SELECT} ORDER BY p.idPermission")
        return [Permission(**dict(r)) for r in rows]

    async def of_role(self, role_id):
        rows = await self.db.fetchall(
            f"{SELECT} JOIN permissionXRole x ON x.permissionId = p.idPermission WHERE x.roleId = ? "
            "ORDER BY p.idPermission",
            (role_id,),
        )
        return [Permission(**dict(r)) for r in rows]

    async def by_name_uri(self, name_uri):
        rows = await self.db.fetchall(f"{SELECT} WHERE p.nameUri = ? COLLATE NOCASE", (name_uri,))
        return [Permission(**dict(r)) for r in rows]

    async def get(self, permission_id, tx=None):
        row = await (tx or self.db).fetchone(f"{SELECT} WHERE p.idPermission = ?", (permission_id,))
        return Permission(**dict(row)) if row else None

    async def require(self, permission_id, tx):
        permission = await self.get(permission_id, tx)
        if permission is None:
            raise NotFound(msg.PERMISSION_NOT_FOUND.format(id=permission_id))
        return permission

    async def _check_role(self, tx, role_id):
        row = await tx.fetchone("SELECT idRole, roleName FROM roles WHERE idRole = ?", (role_id,))
        if row is None:
            raise NotFound(msg.ROLE_NOT_FOUND.format(id=role_id))
        return row

    async def create(self, tx, name_uri, description):
        if await tx.fetchone("SELECT 1 FROM permissions WHERE fold(nameUri) = fold(?)", (name_uri,)):
            raise Conflict(msg.PERMISSION_EXISTS)
        new_id = await tx.insert(
            "INSERT INTO permissions (nameUri, description) VALUES (?, ?)", (name_uri, description)
        )
        return await self.require(new_id, tx)

    async def grant_to_creator(self, tx, permission_id, creator_role_id):
        """A new permission goes to the creator's role and every role holding all the creator's role holds
        (SPEC §10 containment: it can be granted by those who made it, and admins keep holding everything);
        returns those roles' ids."""
        await tx.execute(GRANT_TO_CONTAINERS, (permission_id, creator_role_id))
        rows = await tx.fetchall(
            "SELECT roleId FROM permissionXRole WHERE permissionId = ? ORDER BY roleId", (permission_id,)
        )
        role_ids = [r[0] for r in rows]
        tx.on_commit(self.cache.forget_roles)
        tx.refresh(roles=role_ids)
        return role_ids

    async def assign(self, tx, role_id, permission_id):
        """Grant a permission to a role; returns False when it was already granted (idempotent)."""
        await self._check_role(tx, role_id)
        await self.require(permission_id, tx)
        cur = await tx.execute(
            "INSERT INTO permissionXRole (roleId, permissionId) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (role_id, permission_id),
        )
        added = cur.rowcount == 1
        if added:
            tx.on_commit(self.cache.forget_roles)
            tx.refresh(roles=[role_id])
        return added

    async def unassign(self, tx, role_id, permission_id):
        await self._check_role(tx, role_id)
        await self.require(permission_id, tx)
        cur = await tx.execute(
            "DELETE FROM permissionXRole WHERE roleId = ? AND permissionId = ?", (role_id, permission_id)
        )
        if cur.rowcount == 0:
            raise NotFound(msg.PERMISSION_NOT_ASSIGNED)
        tx.on_commit(self.cache.forget_roles)
        tx.refresh(roles=[role_id])
        await self.users.ensure_someone_can_assign(tx)

    async def delete(self, tx, permission_id):
        """Delete a permission and (by cascade) its assignments; returns the roles that held it."""
        permission = await self.require(permission_id, tx)
        rows = await tx.fetchall("SELECT roleId FROM permissionXRole WHERE permissionId = ?", (permission_id,))
        await tx.execute("DELETE FROM permissions WHERE idPermission = ?", (permission_id,))
        tx.on_commit(self.cache.forget_roles)
        tx.refresh(roles=[r[0] for r in rows])
        await self.users.ensure_someone_can_assign(tx)
        return permission, [r[0] for r in rows]

    async def missing_from(self, catalog):
        """Catalog entries that have no permission row yet (added routes since the last start)."""
        rows = await self.db.fetchall("SELECT lower(nameUri) FROM permissions")
        present = {r[0] for r in rows}
        return [(name, description) for name, description in catalog if name.lower() not in present]

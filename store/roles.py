# SPDX-License-Identifier: MIT
"""Roles repository."""

import messages as msg
from store.errors import Conflict, NotFound
from store.models import Role

SELECT = "SELECT idRole, roleName, description FROM roles"


class RoleRepository:
    def __init__(self, db, cache):
        self.db = db
        self.cache = cache

    async def all(self):
        rows = await self.db.fetchall(f"{SELECT} ORDER BY idRole")
        return [Role(**dict(r)) for r in rows]

    async def get(self, role_id, tx=None):
        row = await (tx or self.db).fetchone(f"{SELECT} WHERE idRole = ?", (role_id,))
        return Role(**dict(row)) if row else None

    async def require(self, role_id, tx=None):
        role = await self.get(role_id, tx)
        if role is None:
            raise NotFound(msg.ROLE_NOT_FOUND.format(id=role_id))
        return role

    async def by_name(self, name):
        row = await self.db.fetchone(f"{SELECT} WHERE roleName = ? COLLATE NOCASE", (name,))
        return Role(**dict(row)) if row else None

    async def _check_name_free(self, tx, name, role_id=0):
        if await tx.fetchone("SELECT 1 FROM roles WHERE fold(roleName) = fold(?) AND idRole != ?", (name, role_id)):
            raise Conflict(msg.ROLE_EXISTS.format(name=name))

    async def create(self, tx, name, description):
        await self._check_name_free(tx, name)
        role_id = await tx.insert("INSERT INTO roles (roleName, description) VALUES (?, ?)", (name, description))
        tx.on_commit(self.cache.forget_roles)
        return await self.get(role_id, tx)

    async def update(self, tx, role_id, fields):
        if "roleName" in fields:
            await self._check_name_free(tx, fields["roleName"], role_id)
        names = [n for n in ("roleName", "description") if n in fields]
        await tx.execute(
            f"UPDATE roles SET {', '.join(f'{n} = ?' for n in names)} WHERE idRole = ?",
            (*(fields[n] for n in names), role_id),
        )
        tx.on_commit(self.cache.forget_roles)
        tx.refresh(roles=[role_id])
        return await self.get(role_id, tx)

    async def delete(self, tx, role_id):
        if await tx.fetchone("SELECT 1 FROM users WHERE roleId = ? LIMIT 1", (role_id,)):
            raise Conflict(msg.ROLE_IN_USE)
        await tx.execute("DELETE FROM roles WHERE idRole = ?", (role_id,))
        tx.on_commit(self.cache.forget_roles)

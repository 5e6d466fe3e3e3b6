# SPDX-License-Identifier: MIT
"""Sidebar (menu) repository: items and their per-role assignment."""

import messages as msg
from store.errors import Conflict, NotFound
from store.models import SidebarItem

SELECT = "SELECT s.idItem, s.nameItem, s.iconItem, s.route FROM sidebarItems s"


class SidebarRepository:
    def __init__(self, db):
        self.db = db

    async def of_role(self, role_id):
        rows = await self.db.fetchall(
            f"{SELECT} JOIN roleXItem x ON x.itemId = s.idItem WHERE x.roleId = ? ORDER BY s.idItem", (role_id,)
        )
        return [SidebarItem(**dict(r)) for r in rows]

    async def all_with_roles(self):
        rows = await self.db.fetchall(f"{SELECT} ORDER BY s.idItem")
        links = await self.db.fetchall("SELECT itemId, roleId FROM roleXItem ORDER BY roleId")
        roles = {}
        for link in links:
            roles.setdefault(link["itemId"], []).append(link["roleId"])
        return [SidebarItem(**dict(r), roles=tuple(roles.get(r["idItem"], ()))) for r in rows]

    async def require(self, item_id, tx):
        row = await tx.fetchone(f"{SELECT} WHERE s.idItem = ?", (item_id,))
        if row is None:
            raise NotFound(msg.SIDEBAR_NOT_FOUND.format(id=item_id))
        links = await tx.fetchall("SELECT roleId FROM roleXItem WHERE itemId = ? ORDER BY roleId", (item_id,))
        return SidebarItem(**dict(row), roles=tuple(r[0] for r in links))

    async def create(self, tx, name, icon, route):
        item_id = await tx.insert(
            "INSERT INTO sidebarItems (nameItem, iconItem, route) VALUES (?, ?, ?)", (name, icon, route)
        )
        return await self.require(item_id, tx)

    async def update(self, tx, item_id, fields):
        names = [n for n in ("nameItem", "iconItem", "route") if n in fields]
        await tx.execute(
            f"UPDATE sidebarItems SET {', '.join(f'{n} = ?' for n in names)} WHERE idItem = ?",
            (*(fields[n] for n in names), item_id),
        )
        item = await self.require(item_id, tx)
        tx.refresh(roles=item.roles)
        return item

    async def delete(self, tx, item_id):
        """Delete an item (its assignments cascade); returns it as it was."""
        item = await self.require(item_id, tx)
        await tx.execute("DELETE FROM sidebarItems WHERE idItem = ?", (item_id,))
        tx.refresh(roles=item.roles)
        return item

    async def assign(self, tx, item_id, role_id):
        item = await self.require(item_id, tx)
        role = await tx.fetchone("SELECT roleName FROM roles WHERE idRole = ?", (role_id,))
        if role is None:
            raise NotFound(msg.ROLE_NOT_FOUND.format(id=role_id))
        if role_id in item.roles:
            raise Conflict(msg.SIDEBAR_ALREADY_ASSIGNED)
        await tx.execute("INSERT INTO roleXItem (roleId, itemId) VALUES (?, ?)", (role_id, item_id))
        tx.refresh(roles=[role_id])
        return {"idRole": role_id, "idItem": item_id, "roleName": role["roleName"], "nameItem": item.nameItem}

    async def unassign(self, tx, item_id, role_id):
        item = await self.require(item_id, tx)
        role = await tx.fetchone("SELECT roleName FROM roles WHERE idRole = ?", (role_id,))
        if role is None:
            raise NotFound(msg.ROLE_NOT_FOUND.format(id=role_id))
        if role_id not in item.roles:
            raise NotFound(msg.SIDEBAR_NOT_ASSIGNED)
        await tx.execute("DELETE FROM roleXItem WHERE roleId = ? AND itemId = ?", (role_id, item_id))
        tx.refresh(roles=[role_id])
        return {"idRole": role_id, "idItem": item_id, "roleName": role["roleName"], "nameItem": item.nameItem}

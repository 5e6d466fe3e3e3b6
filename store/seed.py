# SPDX-License-Identifier: MIT
"""First-start seeding (SPEC §4, §9) and the catalog top-up on later starts."""

ADMIN_ROLE = "admin"
USER_ROLE = "user"
DEFAULT_MENU = (
    ("Usuarios", "users", "/users"),
    ("Roles", "shield", "/roles"),
    ("Permisos", "key", "/permissions"),
    ("Menú", "menu", "/menu"),
    ("Actividad", "activity", "/activity"),
)


async def is_seeded(db):
    return (await db.fetchone("SELECT COUNT(*) FROM roles"))[0] > 0


async def seed(db, catalog, admin_email, admin_hash, admin_must_change):
    """Create the roles, the permission catalog (all granted to admin), the menu and the admin account.

    False when another process seeded first (checked under the write lock): its admin account stands."""
    async with db.transaction() as tx:
        if (await tx.fetchone("SELECT COUNT(*) FROM roles"))[0] > 0:
            return False
        admin_id = await tx.insert(
            "INSERT INTO roles (roleName, description) VALUES (?, ?)", (ADMIN_ROLE, "Administrador del sistema")
        )
        await tx.insert("INSERT INTO roles (roleName, description) VALUES (?, ?)", (USER_ROLE, "Usuario estándar"))
        for name, description in catalog:
            permission_id = await tx.insert(
                "INSERT INTO permissions (nameUri, description) VALUES (?, ?)", (name, description)
            )
            await tx.execute("INSERT INTO permissionXRole VALUES (?, ?)", (admin_id, permission_id))
        for name, icon, route in DEFAULT_MENU:
            item_id = await tx.insert(
                "INSERT INTO sidebarItems (nameItem, iconItem, route) VALUES (?, ?, ?)", (name, icon, route)
            )
            await tx.execute("INSERT INTO roleXItem VALUES (?, ?)", (admin_id, item_id))
        await tx.insert(
            "INSERT INTO users (full_name, email, password, roleId, mustChangePassword) VALUES (?, ?, ?, ?, ?)",
            ("Administrador", admin_email, admin_hash, admin_id, int(admin_must_change)),
        )
    return True


async def add_missing_permissions(db, missing):
    """Routes added since the last start get their row, granted to admin; revoked grants stay revoked."""
    if not missing:
        return
    async with db.transaction() as tx:
        admin = await tx.fetchone("SELECT idRole FROM roles WHERE roleName = ? COLLATE NOCASE", (ADMIN_ROLE,))
        for name, description in missing:
            if await tx.fetchone("SELECT 1 FROM permissions WHERE nameUri = ? COLLATE NOCASE", (name,)):
                continue  # another process starting at the same time added it
            permission_id = await tx.insert(
                "INSERT INTO permissions (nameUri, description) VALUES (?, ?)", (name, description)
            )
            if admin:
                await tx.execute("INSERT INTO permissionXRole VALUES (?, ?)", (admin[0], permission_id))

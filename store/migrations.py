# SPDX-License-Identifier: MIT
"""Numbered schema migrations, applied in order at start-up and recorded in PRAGMA user_version."""

import sqlite3

NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"

MIGRATIONS = [
    (
        "initial schema",
        f"""
        CREATE TABLE roles (
            idRole INTEGER PRIMARY KEY AUTOINCREMENT,
            roleName TEXT NOT NULL COLLATE NOCASE UNIQUE,
            description TEXT
        );
        CREATE TABLE users (
            idUser INTEGER PRIMARY KEY AUTOINCREMENT,
            full_name TEXT NOT NULL,
            email TEXT NOT NULL COLLATE NOCASE UNIQUE,
            password TEXT NOT NULL,
            roleId INTEGER NOT NULL REFERENCES roles(idRole) ON DELETE RESTRICT,
            isActive INTEGER NOT NULL DEFAULT 1 CHECK (isActive IN (0, 1)),
            tokenVersion INTEGER NOT NULL DEFAULT 0,
            mustChangePassword INTEGER NOT NULL DEFAULT 0 CHECK (mustChangePassword IN (0, 1)),
            createdAt TEXT NOT NULL DEFAULT {NOW},
            updatedAt TEXT NOT NULL DEFAULT {NOW}
        );
        CREATE INDEX users_roleId ON users(roleId);
        CREATE TABLE permissions (
            idPermission INTEGER PRIMARY KEY AUTOINCREMENT,
            nameUri TEXT NOT NULL COLLATE NOCASE UNIQUE,
            description TEXT
        );
        CREATE TABLE permissionXRole (
            roleId INTEGER NOT NULL REFERENCES roles(idRole) ON DELETE CASCADE,
            permissionId INTEGER NOT NULL REFERENCES permissions(idPermission) ON DELETE CASCADE,
            PRIMARY KEY (roleId, permissionId)
        );
        CREATE INDEX permissionXRole_permission ON permissionXRole(permissionId);
        CREATE TABLE sidebarItems (
            idItem INTEGER PRIMARY KEY AUTOINCREMENT,
            nameItem TEXT NOT NULL,
            iconItem TEXT,
            route TEXT
        );
        CREATE TABLE roleXItem (
            roleId INTEGER NOT NULL REFERENCES roles(idRole) ON DELETE CASCADE,
            itemId INTEGER NOT NULL REFERENCES sidebarItems(idItem) ON DELETE CASCADE,
            PRIMARY KEY (roleId, itemId)
        );
        CREATE INDEX roleXItem_item ON roleXItem(itemId);
        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            operation TEXT NOT NULL,
            operationId TEXT NOT NULL,
            actorId INTEGER,
            initiatorSocketId TEXT,
            message TEXT NOT NULL,
            data TEXT,
            before TEXT,
            after TEXT,
            audience TEXT NOT NULL DEFAULT 'all',
            subjectUserId INTEGER
        );
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ),
    (
        "throttle counters",
        """
        CREATE TABLE throttle (
            key TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX throttle_key ON throttle(key);
        CREATE INDEX throttle_at ON throttle(at);
        """,
    ),
    (
        "change rows say who may read them and carry their session effects",
        """
        ALTER TABLE changes ADD COLUMN readPermission TEXT;
        ALTER TABLE changes ADD COLUMN broadcast INTEGER NOT NULL DEFAULT 1 CHECK (broadcast IN (0, 1));
        ALTER TABLE changes ADD COLUMN effects TEXT;
        UPDATE changes SET
            readPermission = CASE
                WHEN audience = 'users' THEN 'GET /api/v1/users'
                WHEN operation LIKE 'sidebar:%' THEN 'GET /api/v1/sidebar/items'
            END,
            effects = CASE WHEN subjectUserId IS NOT NULL THEN json_object('subjects', json_array(subjectUserId)) END;
        ALTER TABLE changes DROP COLUMN audience;
        ALTER TABLE changes DROP COLUMN subjectUserId;
        """,
    ),
    (
        "login audit",
        """
        CREATE TABLE logins (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'inactive')),
            userId INTEGER,
            email TEXT,
            address TEXT NOT NULL
        );
        CREATE INDEX logins_userId ON logins(userId);
        """,
    ),
]


class SchemaTooNew(Exception):
    """The database was migrated by a newer SEAM: running on it could corrupt what that version wrote."""

    def __init__(self, found, known):
        super().__init__(f"database schema version {found} is newer than this SEAM's ({known})")
        self.found = found
        self.known = known


def statements(script):
    """A migration's SQL as complete statements, in order: a trigger body's own ';' stays inside its statement."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]!r}")
    return found


async def schema_version(conn, known):
    async with conn.execute("PRAGMA user_version") as cur:
        current = (await cur.fetchone())[0]
    if current > known:
        raise SchemaTooNew(current, known)
    return current


async def migrate(conn, migrations=MIGRATIONS):
    """Apply every migration newer than the database's user_version, each in its own transaction.

    The version is read again under the write lock: processes starting together on one database
    apply each migration once (the others find it applied)."""
    current = await schema_version(conn, len(migrations))
    for number, (_name, sql) in enumerate(migrations, start=1):
        if number <= current:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            current = await schema_version(conn, len(migrations))
            if number <= current:
                await conn.execute("COMMIT")
                continue
            for statement in statements(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise

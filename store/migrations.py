"""Numbered schema migrations, applied in order at start-up and recorded in PRAGMA user_version."""

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
]


async def migrate(conn):
    """Apply every migration newer than the database's user_version, each in its own transaction."""
    async with conn.execute("PRAGMA user_version") as cur:
        current = (await cur.fetchone())[0]
    for number, (_name, sql) in enumerate(MIGRATIONS, start=1):
        if number <= current:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in sql.split(";"):
                if statement.strip():
                    await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")

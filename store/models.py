# SPDX-License-Identifier: MIT
"""attrs models for the rows SEAM stores; `public()` views never include secrets."""

import attrs


def from_rows(model, rows):
    """Rows whose leading columns are the model's fields, in order → models, built positionally
    (about 4× cheaper than `model(**dict(row))`, which matters for list pages)."""
    if not rows:
        return []
    names = tuple(field.name for field in attrs.fields(model))
    if tuple(rows[0].keys()[: len(names)]) != names:
        raise RuntimeError(f"query columns {rows[0].keys()} do not start with {model.__name__}'s fields")
    width = len(names)
    return [model(*row[:width]) for row in rows]


@attrs.frozen
class Role:
    idRole: int
    roleName: str
    description: str | None

    def public(self):
        return attrs.asdict(self)


@attrs.frozen
class User:
    idUser: int
    full_name: str
    email: str
    roleId: int
    isActive: int
    mustChangePassword: int
    createdAt: str
    updatedAt: str
    roleName: str | None = None
    roleDescription: str | None = None
    tokenVersion: int = attrs.field(default=0, repr=False)
    password_hash: str = attrs.field(default="", repr=False)

    def public(self):
        """What clients, events and the audit log may see: never the hash or token version."""
        return {
            "idUser": self.idUser,
            "full_name": self.full_name,
            "email": self.email,
            "roleId": self.roleId,
            "roleName": self.roleName,
            "roleDescription": self.roleDescription,
            "isActive": self.isActive,
            "mustChangePassword": self.mustChangePassword,
            "createdAt": self.createdAt,
            "updatedAt": self.updatedAt,
        }


@attrs.frozen
class Permission:
    idPermission: int
    nameUri: str
    description: str | None

    def public(self):
        return attrs.asdict(self)


@attrs.frozen
class SidebarItem:
    idItem: int
    nameItem: str
    iconItem: str | None
    route: str | None
    roles: tuple = ()

    def public(self, with_roles=False):
        data = {"idItem": self.idItem, "nameItem": self.nameItem, "iconItem": self.iconItem, "route": self.route}
        if with_roles:
            data["roles"] = list(self.roles)
        return data


@attrs.frozen
class AuthUser:
    """The slice of a user that every authenticated request checks (SPEC §3)."""

    idUser: int
    email: str
    full_name: str
    roleId: int
    isActive: int
    tokenVersion: int
    mustChangePassword: int


@attrs.frozen
class RoleGrants:
    """A role's name and the lower-cased permission names it holds."""

    idRole: int
    roleName: str
    permissions: frozenset


@attrs.frozen
class Revocation:
    """Sessions of one user to end: session:revoked with the reason, then disconnect (all but one socket)."""

    userId: int
    reason: str
    keepSocket: str | None = None


@attrs.frozen
class Effects:
    """What a change does to open sessions, kept in its row so any process can apply it (SCALE-NOTES).

    `subjects` are the users the change is about: they see it even when they may not read its resource.
    """

    subjects: tuple = ()
    refreshUsers: tuple = ()
    refreshRoles: tuple = ()
    revocations: tuple = ()

    @classmethod
    def load(cls, data):
        data = data or {}
        return cls(
            tuple(data.get("subjects", ())),
            tuple(data.get("refreshUsers", ())),
            tuple(data.get("refreshRoles", ())),
            tuple(Revocation(**r) for r in data.get("revocations", ())),
        )

    def dump(self):
        return attrs.asdict(self)

    def __bool__(self):
        return bool(self.subjects or self.refreshUsers or self.refreshRoles or self.revocations)


@attrs.frozen
class Change:
    """One committed change: what happened, who did it, who may see it and what it does to sessions."""

    seq: int
    at: str
    operation: str
    operationId: str
    actorId: int | None
    initiatorSocketId: str | None
    message: str
    data: object
    before: object = None
    after: object = None
    readPermission: str | None = None
    broadcast: bool = True
    effects: Effects = Effects()

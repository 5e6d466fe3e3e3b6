# SPDX-License-Identifier: MIT
"""Privilege containment (SPEC §10): a caller acts only on users and roles whose permissions it holds itself.

Without it any delegated permission escalates: a role holding only `resetPassword` could reset the
admin's password and log in as the admin. Every check compares permission sets from the auth cache
(the caller's are its identity's grants), so admins, who hold every permission, always pass.
Unknown users and roles pass too: the operation then answers its own 404.
"""

import messages as msg
from store.errors import Forbidden


class Containment:
    def __init__(self, cache, permissions):
        self.cache = cache
        self.permissions = permissions

    @staticmethod
    def _refuse_unless(held):
        if not held:
            raise Forbidden(msg.NOT_CONTAINED)

    async def role(self, identity, role_id):
        """The caller may give, edit or delete this role: it holds every permission the role holds."""
        grants = await self.cache.grants(role_id)
        if grants is not None:
            self._refuse_unless(grants.permissions <= identity.grants.permissions)

    async def user(self, identity, user_id):
        """The caller may edit, disable, reset or delete this user: it holds everything the user's role holds."""
        user = await self.cache.user(user_id)
        if user is not None:
            await self.role(identity, user.roleId)

    async def grant(self, identity, permission_id):
        """The caller may grant this permission: it holds it."""
        permission = await self.permissions.get(permission_id)
        if permission is not None:
            self._refuse_unless(identity.can(permission.nameUri))

    async def removal(self, identity, permission_id):
        """The caller may delete this permission: it holds it, and may edit every role that holds it."""
        permission = await self.permissions.get(permission_id)
        if permission is not None:
            self._refuse_unless(identity.can(permission.nameUri))
            for role_id in sorted(await self.cache.roles_holding(permission.nameUri)):
                await self.role(identity, role_id)

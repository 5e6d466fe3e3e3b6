# SPDX-License-Identifier: MIT
"""The HTTP resources: gathers every module's handlers, in order, into the one route table."""

from handlers import auth, changes, logins, permissions, roles, sidebar, users
from handlers.routing import change_operations, read_permissions

API_MODULES = (auth, users, logins, roles, permissions, sidebar, changes)
API_HANDLERS = [handler for module in API_MODULES for handler in module.HANDLERS]
ROUTE_TABLE = [route for handler in API_HANDLERS for route in handler.routes.values()]
READ_PERMISSIONS = read_permissions(ROUTE_TABLE)
CHANGE_OPERATIONS = change_operations(ROUTE_TABLE)


def permission_catalog():
    """(nameUri, description) for every rbac route, plus register (SPEC §5), for seeding."""
    return [(r.permission, r.summary) for r in ROUTE_TABLE if r.guard == "rbac" or r.identifies]

# SPDX-License-Identifier: MIT
"""The route table: one `Route` per method and path, the single source of truth.

From each entry come Tornado's URL regex, the permission name (`"<METHOD> /api/v1/<pattern>"`,
exactly as the original built it), the guard, the operation and whether it mutates,
the request schemas and the OpenAPI document.
"""

import re

import attrs

import messages as msg

API_PREFIX = "/api/v1"
GUARDS = ("public", "auth", "rbac")
PARAM = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


@attrs.frozen
class Route:
    method: str
    pattern: str
    guard: str = attrs.field(validator=attrs.validators.in_(GUARDS))
    operation: str | None
    mutating: bool = False
    body: type | None = None
    query: type | None = None
    # Public routes that still identify a caller when a token is sent (POST /auth/register).
    identifies: bool = False
    # Mutating routes that change only the caller's own credentials write no feed row (auth:password).
    broadcast: bool = True
    # The success status (201 for routes that create something); `ok()` answers with it.
    status: int = 200
    # Open to a session whose password must change first (SPEC §10): /auth/me, /auth/password, /auth/refresh.
    while_must_change: bool = False
    # The resource a mutation changes, when it is not the operation's prefix (auth:register creates users).
    changes: str | None = None

    @property
    def permission(self):
        return f"{self.method} {API_PREFIX}{self.pattern}"

    @property
    def summary(self):
        """Spanish, from messages.py: it becomes the permission's description in the catalog."""
        return msg.ROUTE_SUMMARIES[f"{self.method} {self.pattern}"]

    @property
    def params(self):
        return PARAM.findall(self.pattern)

    @property
    def resource(self):
        return self.changes or self.operation.split(":", 1)[0]

    @property
    def specificity(self):
        """Sort key: at each path segment a literal comes before a parameter, so /sidebar/items wins over
        /sidebar/:idItem whatever order the handlers are listed in."""
        return tuple(segment.startswith(":") for segment in self.pattern.split("/")), self.pattern


def read_permissions(routes):
    """resource -> the permission that lets a role read it (its `fetchAll` route's, when that route is rbac);
    None = every authenticated client may read it. Fan-out and /changes filter by it (SPEC §10)."""
    found = {}
    for route in routes:
        if route.operation and route.operation.endswith(":fetchAll"):
            found[route.resource] = route.permission if route.guard == "rbac" else None
    return found


def change_operations(routes):
    """resource -> the operations whose changes reach the feed, for `GET /changes?resource=` (auth:register
    changes users)."""
    found = {}
    for route in routes:
        if route.mutating and route.broadcast:
            found.setdefault(route.resource, []).append(route.operation)
    return {resource: tuple(sorted(set(operations))) for resource, operations in found.items()}


def regex(pattern):
    """'/users/:id' → Tornado URL regex with a named group per parameter."""
    return API_PREFIX + PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", pattern) + "/?"


def handler_routes(*routes):
    """Index a handler's routes by HTTP method; all must share one pattern."""
    patterns = {r.pattern for r in routes}
    assert len(patterns) == 1, f"one pattern per handler, got {patterns}"
    return {r.method: r for r in routes}

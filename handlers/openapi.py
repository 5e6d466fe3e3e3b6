# SPDX-License-Identifier: MIT
"""The OpenAPI 3.1 document, generated from the route table and the same Rules that validate (SPEC §5).

Built once per application (setting-valued limits such as `password_min_length` are resolved from
the running configuration) and served as a plain public handler: no operation, no events.
"""

import re

import attrs

from handlers.misc import JsonHandler
from handlers.routing import API_PREFIX, PARAM
from handlers.schema import MAX_INT, rules

BEARER = "bearerAuth"
DESCRIPTION = (
    "Users, roles, permissions and menus, every operation mirrored live over Socket.IO. "
    "Strings are trimmed before their length is checked (passwords are not) and may not contain NUL; "
    "emails are NFC-normalized and may not contain control or zero-width characters; "
    "new passwords are at most 72 bytes in UTF-8, not blank and not the email; "
    "unknown body fields are ignored; an update must send at least one known field; "
    "a non-empty body must be sent as application/json. "
    "A method a path does not serve answers 404 'Ruta <METHOD> <path> no encontrada' (never 405), like any unknown "
    "route; a response after which the server closes the connection says `Connection: close`."
)
ENVELOPE_HEADERS = {"X-Operation-ID": {"$ref": "#/components/headers/OperationId"}}
ERROR_TEXT = {
    400: "Validation failed or malformed JSON",
    401: "Missing, invalid, expired or revoked token, or bad credentials",
    403: "The caller's role lacks this route's permission or a permission of the user or role it acts on, "
    "or the caller must change its password first",
    404: "Unknown record",
    409: "Conflict: duplicate, still referenced, already assigned or lock-out guard",
    410: "The requested history is no longer retained",
    413: "Request body too large",
    423: "Inactive user",
    429: "Too many failed password checks or anonymous registrations from this address (see Retry-After)",
    500: "Unexpected error",
    503: "The database is locked by another process or its disk is full: nothing was written (see Retry-After)",
}
# Route-independent schemas: the two envelopes of SPEC §1.
COMPONENTS = {
    "schemas": {
        "Success": {
            "type": "object",
            "required": ["success", "message", "data"],
            "properties": {
                "success": {"const": True},
                "message": {"type": "string"},
                "data": {},
                "meta": {"type": "object"},
            },
            "additionalProperties": False,
        },
        "Error": {
            "type": "object",
            "required": ["success", "message"],
            "properties": {"success": {"const": False}, "message": {"type": "string"}},
            "additionalProperties": False,
        },
    },
    "headers": {
        "OperationId": {
            "description": "The request's X-Operation-ID when well-formed, else a generated one",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
        },
        "RetryAfter": {"description": "Seconds until a retry may succeed", "schema": {"type": "string"}},
    },
    "securitySchemes": {BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
}


def rule_schema(rule, config):
    """One field's Rule as JSON Schema; a setting-named limit is read from the configuration."""
    if rule.kind == "number":
        schema = {"type": "integer", "minimum": rule.minimum, "maximum": rule.maximum}
    elif rule.kind == "flag":
        schema = {"oneOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]}
    elif rule.kind == "instant":
        schema = {"type": "string", "format": "date-time", "maxLength": rule.max_len}
    else:
        min_len = config[rule.min_len] if isinstance(rule.min_len, str) else rule.min_len
        schema = {"type": "string", "minLength": min_len, "maxLength": rule.max_len}
        if rule.pattern is not None:
            schema["pattern"] = rule.pattern.pattern
    schema = {key: value for key, value in schema.items() if value is not None}
    if rule.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if rule.max_bytes is not None:
        schema["description"] = f"at most {rule.max_bytes} bytes in UTF-8; not blank; not the account's email"
    if rule.description:
        schema["description"] = rule.description
    return schema


def body_schema(cls, config):
    """An attrs request class as an object schema; unknown fields are ignored, so they are allowed."""
    fields = attrs.fields(cls)
    return {
        "type": "object",
        "properties": {f.name: rule_schema(f.metadata["rule"], config) for f in fields},
        "required": [f.name for f in fields if f.metadata["rule"].required],
    }


def parameters(route, config):
    path_id = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
    found = [{"name": name, "in": "path", "required": True, "schema": path_id} for name in route.params]
    if route.query is not None:
        for field in attrs.fields(route.query):
            rule = field.metadata["rule"]
            schema = rule_schema(rule, config)
            found.append({"name": field.name, "in": "query", "required": rule.required, "schema": schema})
    return found


def error_statuses(route):
    """The error statuses a route can answer, from what its table entry declares."""
    statuses = {500}
    if route.body or route.query or route.params:
        statuses |= {400}
    if route.body:
        statuses |= {413}
    if route.guard != "public" or route.identifies or route.operation == "auth:login":
        statuses |= {401}
    if route.guard == "rbac" or route.identifies or (route.guard == "auth" and not route.while_must_change):
        statuses |= {403}
    references = route.body is not None and any(r.kind == "number" for r in rules(route.body).values())
    if route.params or references or route.operation == "permissions:fetchByUri":
        statuses |= {404}
    if route.mutating:
        statuses |= {409}
    if route.operation == "auth:login":
        statuses |= {423}
    if route.operation in ("auth:login", "auth:password", "auth:register"):
        statuses |= {429}
    if route.operation == "changes:fetchAll":
        statuses |= {410}
    if route.mutating or route.operation == "auth:login":  # a failed login writes its throttle counter
        statuses |= {503}
    return sorted(statuses)


def security(route):
    if route.guard != "public":
        return [{BEARER: []}]
    return [{}, {BEARER: []}] if route.identifies else []


def _json(ref, description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}
    response["headers"] = headers or ENVELOPE_HEADERS
    return response


def operation(route, config):
    responses = {str(route.status): _json("#/components/schemas/Success", route.summary or "Success")}
    for status in error_statuses(route):
        headers = {**ENVELOPE_HEADERS, "Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
        responses[str(status)] = _json(
            "#/components/schemas/Error", ERROR_TEXT[status], headers if status in (429, 503) else None
        )
    spec = {
        "operationId": route.method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", route.pattern).rstrip("_"),
        "summary": route.summary,
        "tags": [route.pattern.split("/")[1]],
        "security": security(route),
        "parameters": parameters(route, config),
        "responses": responses,
        "x-seam-guard": route.guard,
        "x-seam-operation": route.operation,
        "x-seam-mutating": route.mutating,
    }
    if route.guard == "rbac" or route.identifies:
        spec["x-seam-permission"] = route.permission
    if route.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema(route.body, config)}},
        }
    return spec


def document(routes, config, version):
    """The whole OpenAPI 3.1 document for these routes."""
    paths = {}
    for route in routes:
        path = PARAM.sub(lambda m: "{" + m.group(1) + "}", route.pattern)
        paths.setdefault(path, {})[route.method.lower()] = operation(route, config)
    paths["/openapi.json"] = {
        "get": {
            "operationId": "get_openapi_json",
            "summary": "This document",
            "tags": ["openapi"],
            "security": [],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "SEAM", "version": version, "description": DESCRIPTION},
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": COMPONENTS,
    }


class OpenApiHandler(JsonHandler):
    """GET /api/v1/openapi.json: public, read-only, not an operation."""

    def initialize(self, document):
        self.document = document

    def get(self):
        self.finish(self.document)

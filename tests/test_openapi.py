# SPDX-License-Identifier: MIT
"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that matches the route table and its Rules."""

import pytest
from openapi_spec_validator import validate

from app.version import VERSION
from handlers import ROUTE_TABLE
from handlers.routing import PARAM

pytestmark = pytest.mark.both_backends


@pytest.fixture
def overrides():
    return {"password_min_length": 12}


def path_of(route):
    return PARAM.sub(lambda m: "{" + m.group(1) + "}", route.pattern)


async def test_document_is_valid_openapi_31_and_public(api):
    response = await api.fetch("GET", "/openapi.json")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    document = response.body
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_route_with_its_guard_as_security(api):
    paths = (await api.fetch("GET", "/openapi.json")).body["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert documented == {(r.method, path_of(r)) for r in ROUTE_TABLE} | {("GET", "/openapi.json")}
    for route in ROUTE_TABLE:
        spec = paths[path_of(route)][route.method.lower()]
        expected = {"public": [], "auth": [{"bearerAuth": []}], "rbac": [{"bearerAuth": []}]}[route.guard]
        if route.identifies:
            expected = [{}, {"bearerAuth": []}]
        assert spec["security"] == expected, route
        assert spec["x-seam-operation"] == route.operation
        assert str(route.status) in spec["responses"]
        # 403 also answers a session that must change its password first, on every route but three (SPEC §10).
        must_change_refusable = route.guard == "auth" and not route.while_must_change
        assert ("403" in spec["responses"]) == (route.guard == "rbac" or route.identifies or must_change_refusable)
        assert ("401" in spec["responses"]) == (route.guard != "public" or route.identifies or route.method == "POST")
        for name in route.params:
            (param,) = [p for p in spec["parameters"] if p["name"] == name]
            assert param["in"] == "path" and param["schema"]["type"] == "integer"


async def test_request_schemas_come_from_the_validating_rules(api):
    paths = (await api.fetch("GET", "/openapi.json")).body["paths"]
    register = paths["/auth/register"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert register["required"] == ["full_name", "email", "password", "roleId"]
    assert register["properties"]["full_name"] == {"type": "string", "minLength": 2, "maxLength": 100}
    # min_len names a setting: the document shows this server's configured value.
    assert register["properties"]["password"] == {
        "type": "string",
        "minLength": 12,
        "maxLength": 100,
        "description": "at most 72 bytes in UTF-8; not blank; not the account's email",
    }
    assert register["properties"]["email"]["pattern"] == r"^[^\s@]+@[^\s@]+\.[^\s@]+$"
    assert register["properties"]["roleId"] == {"type": "integer", "minimum": 1, "maximum": 2**53 - 1}
    state = paths["/users/{id}/state"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert state["properties"]["isActive"] == {"oneOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]}
    role = paths["/roles"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert role["properties"]["description"] == {"anyOf": [{"type": "string", "maxLength": 255}, {"type": "null"}]}
    users = {p["name"]: p for p in paths["/users"]["get"]["parameters"]}
    assert users["limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    }


async def test_envelopes_and_error_responses(api):
    document = (await api.fetch("GET", "/openapi.json")).body
    schemas = document["components"]["schemas"]
    assert schemas["Error"]["required"] == ["success", "message"]
    assert schemas["Success"]["properties"]["success"] == {"const": True}
    login = document["paths"]["/auth/login"]["post"]["responses"]
    assert sorted(login) == ["200", "400", "401", "413", "423", "429", "500", "503"]
    assert "Retry-After" in login["429"]["headers"] and "Retry-After" in login["503"]["headers"]
    delete_role = document["paths"]["/roles/{idRole}"]["delete"]["responses"]
    assert sorted(delete_role) == ["200", "400", "401", "403", "404", "409", "500", "503"]
    assert "503" not in document["paths"]["/roles"]["get"]["responses"]  # reads never write
    assert document["info"]["version"] == VERSION
    assert delete_role["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


async def test_fetching_the_document_is_not_an_operation(api, sockets):
    token = await api.login()
    tab = await sockets(token)
    response = await api.fetch("GET", "/openapi.json", token=token, headers={"X-Socket-ID": tab.sid})
    assert response.status == 200
    # A later operation's events arrive after anything the document fetch could have emitted.
    await api.fetch("GET", "/roles", token=token, headers={"X-Socket-ID": tab.sid})
    await tab.wait_for(lambda events: any(e[1].get("status") == "success" for e in events))
    assert [(e["operation"], e["status"]) for e in tab.of("operation:progress")] == [
        ("roles:fetchAll", "start"),
        ("roles:fetchAll", "success"),
    ]


async def test_the_choices_spec_states_are_documented(api):
    """SPEC §7/§8: /changes without `since`, no 405 for an unserved method, Connection: close on an early answer."""
    document = (await api.fetch("GET", "/openapi.json")).body
    since = next(p for p in document["paths"]["/changes"]["get"]["parameters"] if p["name"] == "since")
    assert "newest" in since["schema"]["description"] and "410" in since["schema"]["description"]
    assert "never 405" in document["info"]["description"] and "Connection: close" in document["info"]["description"]
    unserved = await api.fetch("PATCH", "/roles")
    assert unserved.status == 404 and unserved.body["message"] == "Ruta PATCH /api/v1/roles no encontrada"

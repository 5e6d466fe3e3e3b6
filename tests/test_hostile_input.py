# SPDX-License-Identifier: MIT
"""Hostile input: each gets a clean 4xx envelope (or is handled as data), and nothing is stored half-way."""

import asyncio
import json
import logging
import re

import aiohttp
import pytest
import tornado.httpclient
import tornado.iostream

import messages as msg
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, assert_error

pytestmark = pytest.mark.both_backends

TABLES = ("users", "roles", "permissions", "permissionXRole", "sidebarItems", "roleXItem", "changes")
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


async def state(services):
    """Every row of every table a request could write."""
    return {t: [tuple(r) for r in await services.db.fetchall(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES}  # noqa: S608


def assert_clean_error(response, status=400):
    assert response.status == status, (response.status, response.text[:300])
    assert set(response.body) == {"success", "message"} and response.body["success"] is False
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()


@pytest.fixture
def admin(api, io_loop):
    return io_loop.run_sync(api.login)


async def test_unicode_and_emoji_names_round_trip(api, admin, sockets):
    tab = await sockets(admin)
    name = "Ñandú 🦆 编辑 \u202eRTL"
    created = await api.fetch("POST", "/roles", json={"roleName": name, "description": "😀" * 50}, token=admin)
    assert created.status == 201 and created.data["roleName"] == name
    listed = await api.fetch("GET", "/roles", token=admin)
    assert name in [r["roleName"] for r in listed.data]
    user = await api.fetch(
        "POST",
        "/users",
        token=admin,
        json={"full_name": "José 👩‍💻 Núñez", "email": "jose@núñez.test", "password": "contraseña-ñ", "roleId": 1},
    )
    assert user.status == 201 and user.data["full_name"] == "José 👩‍💻 Núñez"
    await api.login("jose@núñez.test", "contraseña-ñ")
    await tab.wait_for(lambda events: len(tab.of("data:changed")) == 2)
    assert tab.of("data:changed")[0]["data"]["roleName"] == name


async def test_case_insensitive_uniqueness_covers_non_ascii(api, admin, services):
    """Regression: SQLite's NOCASE folds ASCII only, so 'ÉDITOR' and 'éditor' could both exist."""
    assert (await api.fetch("POST", "/roles", json={"roleName": "Edición"}, token=admin)).status == 201
    before = await state(services)
    assert_error(
        await api.fetch("POST", "/roles", json={"roleName": "EDICIÓN"}, token=admin),
        409,
        msg.ROLE_EXISTS.format(name="EDICIÓN"),
    )
    await api.create_user(admin, "ñu@seam.test", 1)
    assert_error(
        await api.fetch(
            "POST",
            "/users",
            token=admin,
            json={
                "full_name": "Otro",
                "email": "Ñu@SEAM.test",
                "password": "secret-pass-1",
                "roleId": 1,
            },
        ),
        409,
        msg.EMAIL_IN_USE,
    )
    assert (await state(services))["roles"] == before["roles"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"roleName": "x" * 10_000}, msg.FIELD_MAX_LENGTH.format(field="roleName", n=50)),
        ({"roleName": "ok", "description": "d" * 10_000}, msg.FIELD_MAX_LENGTH.format(field="description", n=255)),
        ({"roleName": ["admin"]}, msg.FIELD_TYPE.format(field="roleName", type="string")),
        ({"roleName": {"$ne": None}}, msg.FIELD_TYPE.format(field="roleName", type="string")),
        ({"roleName": 12345}, msg.FIELD_TYPE.format(field="roleName", type="string")),
        ({"roleName": "bad\x00name"}, msg.FIELD_FORMAT.format(field="roleName")),
        ({"roleName": "   "}, msg.FIELD_MIN_LENGTH.format(field="roleName", n=2)),
    ],
)
async def test_bad_role_bodies(api, admin, services, body, message):
    before = await state(services)
    assert_error(await api.fetch("POST", "/roles", json=body, token=admin), 400, message)
    assert await state(services) == before


@pytest.mark.parametrize(
    "body, message",
    [
        ({"roleId": "1", "permissionId": 1}, msg.FIELD_TYPE.format(field="roleId", type="number")),
        ({"roleId": 2**70, "permissionId": 1}, msg.FIELD_MAX.format(field="roleId", n=2**53 - 1)),
        ({"roleId": 0, "permissionId": 1}, msg.FIELD_MIN.format(field="roleId", n=1)),
        ({"roleId": -5, "permissionId": 1}, msg.FIELD_MIN.format(field="roleId", n=1)),
        ({"roleId": 1.5, "permissionId": 1}, msg.FIELD_FORMAT.format(field="roleId")),
        ({"roleId": True, "permissionId": 1}, msg.FIELD_TYPE.format(field="roleId", type="number")),
        (
            {"roleId": [1], "permissionId": {"id": 1}},
            "'roleId' debe ser de tipo number. 'permissionId' debe ser de tipo number",
        ),
    ],
)
async def test_bad_numbers(api, admin, services, body, message):
    before = await state(services)
    assert_error(await api.fetch("POST", "/permission/assign", json=body, token=admin), 400, message)
    assert await state(services) == before


@pytest.mark.parametrize("raw", [b"1e400", b"NaN", b"-Infinity"])
async def test_non_finite_numbers(api, admin, services, raw):
    before = await state(services)
    body = b'{"roleId": ' + raw + b', "permissionId": 1}'
    response = await api.fetch(
        "POST", "/permission/assign", body=body, token=admin, headers={"Content-Type": "application/json"}
    )
    assert_clean_error(response)
    assert await state(services) == before


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"[" * 100_000 + b"]" * 100_000, msg.MALFORMED_JSON),
        (b'{"roleName": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", msg.MALFORMED_JSON),
        (b'[{"roleName": "x"}]', msg.BODY_NOT_OBJECT),
        (b'"roleName"', msg.BODY_NOT_OBJECT),
        (b"null", msg.BODY_NOT_OBJECT),
        (b'{"roleName": "uno", "roleName": "dos"}', msg.DUPLICATE_JSON_KEY.format(key="roleName")),
        (b'{"roleName": "x"', msg.MALFORMED_JSON),
        (b"\xff\xfe{\x00}", msg.MALFORMED_JSON),
        (b"roleName=editor", msg.MALFORMED_JSON),
    ],
)
async def test_malformed_bodies(api, admin, services, raw, message):
    before = await state(services)
    headers = {"Content-Type": "application/json"}
    assert_error(await api.fetch("POST", "/roles", body=raw, token=admin, headers=headers), 400, message)
    assert await state(services) == before


async def test_duplicate_keys_in_nested_objects_are_refused_too(api, admin, services):
    body = b'{"roleName": "ok", "extra": {"a": 1, "a": 2}}'
    response = await api.fetch("POST", "/roles", body=body, token=admin, headers={"Content-Type": "application/json"})
    assert_error(response, 400, msg.DUPLICATE_JSON_KEY.format(key="a"))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
async def test_wrong_content_type_is_refused(api, admin, services, content_type):
    """Regression: a JSON body was parsed whatever its Content-Type, so a cross-site form could post it."""
    before = await state(services)
    body = json.dumps({"roleName": "desde-formulario"})
    response = await api.fetch("POST", "/roles", body=body, token=admin, headers={"Content-Type": content_type})
    assert_error(response, 400, msg.UNSUPPORTED_CONTENT_TYPE)
    assert await state(services) == before


async def untyped_post(base_url, path, body, token=None):
    """A POST without any Content-Type (what another site's fetch() sends for a binary body, with no
    preflight) → (status, parsed body)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session:
        async with session.post(base_url + "/api/v1" + path, data=body, headers=headers) as response:
            assert "Content-Type" not in response.request_info.headers
            return response.status, await response.json()


async def test_body_without_content_type_is_refused(api, admin, base_url, services):
    """Regression: a body without Content-Type was parsed as JSON, so another site could log in or register."""
    before = await state(services)
    login = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    assert await untyped_post(base_url, "/auth/login", login) == (
        400,
        {"success": False, "message": msg.UNSUPPORTED_CONTENT_TYPE},
    )
    role = json.dumps({"roleName": "sin-tipo"}).encode()
    assert await untyped_post(base_url, "/roles", role, admin) == (
        400,
        {"success": False, "message": msg.UNSUPPORTED_CONTENT_TYPE},
    )
    assert await state(services) == before


async def test_empty_body_needs_no_content_type(api, admin, base_url):
    """A route without a body (or an empty one) does not need a Content-Type."""
    status, body = await untyped_post(base_url, "/auth/refresh", b"", admin)
    assert status == 200 and body["success"] is True
    assert (await untyped_post(base_url, "/roles", b"", admin)) == (
        400,
        {"success": False, "message": msg.FIELD_REQUIRED.format(field="roleName")},
    )


async def test_json_content_type_variants_are_accepted(api, admin):
    for index, content_type in enumerate(
        ["application/json; charset=utf-8", "Application/JSON", "application/vnd.seam+json"]
    ):
        body = json.dumps({"roleName": f"tipo-{index}"})
        response = await api.fetch("POST", "/roles", body=body, token=admin, headers={"Content-Type": content_type})
        assert response.status == 201, (content_type, response.body)


async def test_empty_body_on_post(api, admin, services):
    before = await state(services)
    assert_error(
        await api.fetch("POST", "/roles", body=b"", token=admin), 400, msg.FIELD_REQUIRED.format(field="roleName")
    )
    assert_error(
        await api.fetch("POST", "/sidebar", body=b"  \n ", token=admin, headers={"Content-Type": "application/json"}),
        400,
        msg.FIELD_REQUIRED.format(field="nameItem"),
    )
    assert await state(services) == before


@pytest.mark.parametrize(
    "path",
    [
        "/users/-1",
        "/users/abc",
        "/users/1.5",
        "/users/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/users/..%2F1",
        "/users/1%00",
        "/users/%00",
        "/users/" + "9" * 40,
        "/users/１",  # a full-width digit: str.isdigit() would say yes
        "/users/%F0%9F%A6%86",
        "/users/%FF",  # regression: not UTF-8, Tornado answered 400 'El cuerpo ... no es un JSON válido'
    ],
)
async def test_hostile_path_ids(api, admin, path):
    response = await api.fetch("GET", path, token=admin)
    assert_error(response, 400, msg.FIELD_TYPE.format(field="id", type="number"))


async def test_zero_and_unknown_ids_are_not_found(api, admin, services):
    before = await state(services)
    assert_error(await api.fetch("GET", "/users/0", token=admin), 404, msg.USER_NOT_FOUND.format(id=0))
    assert_error(await api.fetch("DELETE", "/roles/0", token=admin), 404, msg.ROLE_NOT_FOUND.format(id=0))
    assert_error(
        await api.fetch("DELETE", "/users/999999999999999999", token=admin),
        404,
        msg.USER_NOT_FOUND.format(id=999999999999999999),
    )
    assert await state(services) == before


async def test_static_traversal_gets_the_forbidden_message(api):
    """Regression: Tornado's 403 for a path outside the console fell back to the malformed-JSON message."""
    for path in ["/..%2F..%2Fetc%2Fpasswd", "/%2e%2e/seam.py"]:
        assert_error(await api.fetch("GET", path, prefix=""), 403, msg.FORBIDDEN)


async def test_dot_segments_never_reach_another_route_or_the_disk(api, admin):
    for path in ["/api/v1/users/../roles", "/api/v1/%2E%2E/%2E%2E/seam.db", "/..%2F..%2Fetc%2Fpasswd", "/../seam.py"]:
        response = await api.fetch("GET", path, token=admin, prefix="")
        assert response.status in (400, 403, 404), (path, response.status)
        assert response.body["success"] is False, path
        assert "root:" not in response.text and "import" not in response.text


@pytest.mark.parametrize(
    "query, message",
    [
        ("limit=abc", msg.FIELD_TYPE.format(field="limit", type="number")),
        ("limit=-1", msg.FIELD_TYPE.format(field="limit", type="number")),
        ("limit=1e3", msg.FIELD_TYPE.format(field="limit", type="number")),
        (f"page={2**70}", msg.FIELD_TYPE.format(field="page", type="number")),
        ("limit=0", msg.FIELD_MIN.format(field="limit", n=1)),
        ("q=" + "x" * 10_000, msg.FIELD_MAX_LENGTH.format(field="q", n=100)),
        ("q=%00", msg.FIELD_FORMAT.format(field="q")),
    ],
)
async def test_hostile_query_strings(api, admin, query, message):
    assert_error(await api.fetch("GET", "/users?" + query, token=admin), 400, message)


async def test_search_treats_like_wildcards_as_text(api, admin):
    response = await api.fetch("GET", "/users?q=%25", token=admin)
    assert response.status == 200 and response.data == []
    response = await api.fetch("GET", "/users?q=_", token=admin)
    assert response.status == 200 and response.data == []


async def raw_request(port, head):
    """Send bytes the HTTP clients refuse to build (CR inside a header value); return the whole response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        return (await asyncio.wait_for(reader.read(), 10)).decode("latin-1")
    finally:
        writer.close()


@pytest.mark.parametrize(
    "value",
    ["op 1", "<script>alert(1)</script>", "x" * 65, "ñandú", "../../etc", "a;b", ""],
)
async def test_x_operation_id_injection_gets_a_generated_id(api, admin, value):
    response = await api.fetch("GET", "/roles", token=admin, headers={"X-Operation-ID": value})
    assert response.status == 200
    assert GENERATED_ID.match(response.headers["X-Operation-ID"]), response.headers["X-Operation-ID"]


@pytest.mark.parametrize("header", [b"op-1\rSet-Cookie: stolen=1", b"op-1\r\n Set-Cookie: stolen=1", b"op-1\x00"])
async def test_header_injection_over_raw_http(base_url, admin, header):
    port = int(base_url.rsplit(":", 1)[1])
    request = b"GET /api/v1/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Operation-ID: %s\r\n"
    response = await raw_request(port, request % (admin.encode(), header) + b"Connection: close\r\n\r\n")
    status_line, _, rest = response.partition("\r\n")
    assert status_line.split(" ")[1] in ("200", "400"), status_line
    assert "stolen" not in rest.lower() and "set-cookie" not in rest.lower() and "op-1" not in rest


async def test_non_ascii_operation_id_bytes_get_a_generated_id(base_url, admin):
    port = int(base_url.rsplit(":", 1)[1])
    request = b"GET /api/v1/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Operation-ID: op-\xff\xfe\r\n"
    response = await raw_request(port, request % admin.encode() + b"Connection: close\r\n\r\n")
    assert response.startswith("HTTP/1.1 200 ")
    (value,) = [line.split(": ", 1)[1] for line in response.split("\r\n") if line.lower().startswith("x-operation-id")]
    assert GENERATED_ID.match(value)


async def test_oversized_x_socket_id(api, admin, sockets, services):
    tab = await sockets(admin)
    headers = {"X-Socket-ID": tab.sid + "A" * 16_000, "X-Operation-ID": "big-socket-id"}
    created = await api.fetch("POST", "/roles", json={"roleName": "ancho"}, token=admin, headers=headers)
    assert created.status == 201
    await tab.wait_for(lambda events: len(tab.of("data:changed")) == 1)
    change = tab.of("data:changed")[0]
    assert change["initiatorSocketId"] is None and change["operationId"] == "big-socket-id"
    rows = await services.db.fetchall("SELECT initiatorSocketId FROM changes")
    assert [tuple(r) for r in rows] == [(None,)]


async def test_huge_headers_are_refused_without_a_crash(api, admin):
    """Past Tornado's 64 KiB header limit the connection is closed unread; the server keeps serving."""
    try:
        status = (await api.fetch("GET", "/roles", token=admin, headers={"X-Socket-ID": "A" * 200_000})).status
    except (ConnectionError, tornado.httpclient.HTTPClientError, tornado.iostream.StreamClosedError):
        status = None  # closed unread
    assert status in (None, 431, 599)
    assert (await api.fetch("GET", "/roles", token=admin)).status == 200


NOT_FOUND = 404
ODD_PATHS = [
    ("/%00", NOT_FOUND),
    ("/index.html%00", NOT_FOUND),
    ("/a%00b/", NOT_FOUND),
    ("/js/%00.js", NOT_FOUND),
    ("/healthz%00", NOT_FOUND),
    ("/socket.io%00/", NOT_FOUND),
    ("/api%00/v1", NOT_FOUND),
    ("/api/v1/%00", NOT_FOUND),
    ("/api/v1/roles%00", NOT_FOUND),
    ("/api/v1/openapi.json%00", NOT_FOUND),
    ("/%ff", (400, msg.BAD_REQUEST)),
    ("/%c0%ae%c0%ae/", (400, msg.BAD_REQUEST)),
    ("/api/v1/users/%00", (400, msg.FIELD_TYPE.format(field="id", type="number"))),
    ("/api/v1/users/%ff", (400, msg.FIELD_TYPE.format(field="id", type="number"))),
    ("/socket.io/?EIO=4&transport=polling&sid=%00", (400, msg.BAD_REQUEST)),
    ("/socket.io/?EIO=4&transport=polling&sid=x%0d%0a2026-01-01%20ERROR%20forged", (400, msg.BAD_REQUEST)),
]


@pytest.mark.parametrize("path, expected", ODD_PATHS)
async def test_odd_paths_get_a_clean_4xx_and_no_traceback(api, admin, caplog, path, expected):
    """Regression: GET /%00 (any NUL reaching the console's file lookup) answered 500 and logged a traceback;
    a NUL or CR/LF sid reached engineio's log line as it came."""
    caplog.set_level(logging.DEBUG)
    response = await api.fetch("GET", path, prefix="", token=admin)
    status, message = (
        (NOT_FOUND, msg.ROUTE_NOT_FOUND.format(method="GET", path=path)) if expected == NOT_FOUND else expected
    )
    assert_error(response, status, message)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert not [r for r in caplog.records if any(c in r.getMessage() for c in "\x00\r\n")]
    assert (await api.fetch("GET", "/healthz", prefix="")).status == 200

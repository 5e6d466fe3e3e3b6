# SPDX-License-Identifier: MIT
"""Request-level input handling shared by every route: JSON, body size, unknown routes, hostile strings."""

import asyncio
import json
import socket
import time
from http.client import HTTPConnection

import jwt
import pytest
import tornado.httpclient

import messages as msg
from handlers import ROUTE_TABLE, schema
from tests.support.clients import PASSWORD, assert_error
from tests.support.database import sql

pytestmark = pytest.mark.both_backends

MAX_BODY = 4096


@pytest.fixture
def overrides():
    return {"max_body_bytes": MAX_BODY}


async def test_malformed_json_is_400(api):
    admin = await api.login()
    headers = {"Content-Type": "application/json"}
    for raw in (b"{", b"{'roleName': 'x'}", b"nul", b"\xff\xfe", b'{"roleName": "a" "b"}', b"[" * 1000 + b"]" * 1000):
        response = await api.fetch("POST", "/roles", body=raw, headers=headers, token=admin)
        assert_error(response, 400, msg.MALFORMED_JSON)
    for raw in (b"[]", b'"text"', b"42", b"null"):
        response = await api.fetch("POST", "/roles", body=raw, headers=headers, token=admin)
        assert_error(response, 400, msg.BODY_NOT_OBJECT)
    duplicate = await api.fetch(
        "POST", "/roles", body=b'{"roleName": "a1", "roleName": "b2"}', headers=headers, token=admin
    )
    assert_error(duplicate, 400, msg.DUPLICATE_JSON_KEY.format(key="roleName"))
    assert [r["roleName"] for r in (await api.fetch("GET", "/roles", token=admin)).data] == ["admin", "user"]


async def test_empty_body_reads_as_no_fields(api):
    admin = await api.login()
    assert_error(await api.fetch("POST", "/roles", body=b"", token=admin), 400, "'roleName' es requerido")


async def test_oversized_body_with_content_length_is_413(api):
    admin = await api.login()
    big = {"roleName": "big", "description": "d" * MAX_BODY}
    assert_error(await api.fetch("POST", "/roles", json=big, token=admin), 413, msg.BODY_TOO_LARGE)
    # Over the size is refused before authentication too: nothing is read.
    assert_error(await api.fetch("POST", "/roles", json=big), 413, msg.BODY_TOO_LARGE)
    assert [r["roleName"] for r in (await api.fetch("GET", "/roles", token=admin)).data] == ["admin", "user"]


async def post_chunked(base_url, token, pieces):
    """POST /roles with the body written piece by piece (chunked, no Content-Length); the raw response."""

    async def produce(write):
        for piece in pieces:
            await write(piece)

    return await tornado.httpclient.AsyncHTTPClient().fetch(
        base_url + "/api/v1/roles",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        body_producer=produce,
        raise_error=False,
    )


async def test_oversized_chunked_body_is_413(api, base_url):
    admin = await api.login()
    payload = json.dumps({"roleName": "chunked", "description": "d" * MAX_BODY}).encode()
    pieces = [payload[start : start + 1000] for start in range(0, len(payload), 1000)]
    response = await post_chunked(base_url, admin, pieces)
    assert "Content-Length" not in response.request.headers
    assert response.code == 413
    assert json.loads(response.body) == {"success": False, "message": msg.BODY_TOO_LARGE}
    assert [r["roleName"] for r in (await api.fetch("GET", "/roles", token=admin)).data] == ["admin", "user"]


async def test_small_chunked_body_is_accepted(api, base_url):
    admin = await api.login()
    payload = json.dumps({"roleName": "chunky"}).encode()
    response = await post_chunked(base_url, admin, [payload[:5], payload[5:]])
    assert response.code == 201 and json.loads(response.body)["data"]["roleName"] == "chunky"


async def test_huge_content_length_is_refused_before_reading(api, http_server_port):
    """Far beyond the limit the server answers 413 before reading the body."""
    admin = await api.login()
    request = (
        "POST /api/v1/roles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {admin}\r\nContent-Length: {100 * MAX_BODY}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", http_server_port[1], family=socket.AF_INET)
    writer.write(request)
    await writer.drain()
    head = await reader.read(4096)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(head.split(b"\r\n\r\n", 1)[1]) == {"success": False, "message": msg.BODY_TOO_LARGE}


async def test_unknown_routes_and_methods(api):
    admin = await api.login()
    assert_error(
        await api.fetch("GET", "/nope", token=admin), 404, msg.ROUTE_NOT_FOUND.format(method="GET", path="/api/v1/nope")
    )
    assert_error(await api.fetch("GET", "/nope"), 404, msg.ROUTE_NOT_FOUND.format(method="GET", path="/api/v1/nope"))
    assert_error(
        await api.fetch("POST", "/api/v2/users", json={}, prefix=""),
        404,
        msg.ROUTE_NOT_FOUND.format(method="POST", path="/api/v2/users"),
    )
    assert_error(
        await api.fetch("GET", "/no-such-file.js", prefix=""),
        404,
        msg.ROUTE_NOT_FOUND.format(method="GET", path="/no-such-file.js"),
    )
    # A method the path does not serve is an unknown route (SPEC §1 has no 405; the original answered 404).
    assert_error(
        await api.fetch("PATCH", "/users", json={}, token=admin),
        404,
        msg.ROUTE_NOT_FOUND.format(method="PATCH", path="/api/v1/users"),
    )
    assert_error(
        await api.fetch("GET", "/permission/3", token=admin),
        404,
        msg.ROUTE_NOT_FOUND.format(method="GET", path="/api/v1/permission/3"),
    )


async def test_sql_like_strings_are_stored_verbatim(api, config):
    admin = await api.login()
    hostile = "x'); DROP TABLE users;--"
    role = await api.fetch("POST", "/roles", json={"roleName": hostile, "description": "' OR '1'='1"}, token=admin)
    assert role.status == 201 and role.data["roleName"] == hostile and role.data["description"] == "' OR '1'='1"
    user_id = await api.create_user(admin, "o'brien@seam.test", role.data["idRole"], full_name=hostile)
    fetched = await api.fetch("GET", f"/users/{user_id}", token=admin)
    assert fetched.data["full_name"] == hostile and fetched.data["roleName"] == hostile
    searched = await api.fetch("GET", "/users?q=" + "%27)%3B%20DROP", token=admin)
    assert [u["idUser"] for u in searched.data] == [user_id]
    by_uri = await api.fetch("GET", "/permission/getByNameUri?nameUri=%27%20OR%201%3D1--", token=admin)
    assert by_uri.status == 404
    item = await api.fetch("POST", "/sidebar", json={"nameItem": hostile, "route": '/"; --'}, token=admin)
    assert item.data["nameItem"] == hostile and item.data["route"] == '/"; --'
    assert sql(config, "SELECT COUNT(*) FROM users")[0][0] == 2
    assert sql(config, "SELECT roleName FROM roles WHERE idRole = ?", (role.data["idRole"],))[0][0] == hostile
    if not config["database_url"]:  # SQLite's own check of its file
        assert sql(config, "PRAGMA integrity_check")[0][0] == "ok"
    await api.login("o'brien@seam.test", PASSWORD)


async def test_nul_and_unicode_strings(api):
    admin = await api.login()
    assert_error(
        await api.fetch("POST", "/roles", json={"roleName": "a\x00b"}, token=admin),
        400,
        "'roleName' tiene un formato inválido",
    )
    emoji = await api.fetch("POST", "/roles", json={"roleName": "rol 🚀 ñandú"}, token=admin)
    assert emoji.status == 201 and emoji.data["roleName"] == "rol 🚀 ñandú"


async def test_client_gone_mid_body_leaves_nothing_in_flight(api, services, http_server_port):
    """Shutdown waits for requests in flight; one whose client vanished mid-body must not count forever."""
    reader, writer = await asyncio.open_connection("127.0.0.1", http_server_port[1])
    writer.write(b'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"email":')
    await writer.drain()
    for _ in range(200):
        if services.requests.count == 1:
            break
        await asyncio.sleep(0.01)
    assert services.requests.count == 1
    writer.close()
    for _ in range(200):
        if services.requests.count == 0:
            break
        await asyncio.sleep(0.01)
    assert services.requests.count == 0 and services.requests.idle.is_set()
    assert (await api.fetch("GET", "/healthz", prefix="")).status == 200


ODD_VALUES = [None, True, False, 0, -1, 1.5, 2**64, 1e308, "", " ", "x" * 1000, "\u0000", "ñ🚀", [], {}, [1], {"a": 1}]
ODD_QUERY = ["", "%00", "9" * 30, "-5", "1e3", "%27%22", "x" * 300]


def fill(route, value):
    path = route.pattern
    for name in route.params:
        path = path.replace(f":{name}", value)
    return path


@pytest.mark.timeout(60)
async def test_odd_input_anywhere_never_gets_a_500(api):
    """Every field of every route's body and query, with values of every wrong shape: a clean 4xx envelope."""
    admin = await api.login()
    checked = 0

    async def check(route, path, **kwargs):
        nonlocal checked
        response = await api.fetch(route.method, path, token=admin, **kwargs)
        assert response.status < 500 and response.body["success"] in (True, False), (path, kwargs, response.body)
        checked += 1
        return response

    for route in ROUTE_TABLE:
        for path in sorted({fill(route, "1"), fill(route, "999999")}):
            for field in schema.rules(route.body) if route.body else ():
                for value in ODD_VALUES:
                    await check(route, path, json={field: value})
            for field in schema.rules(route.query) if route.query else ():
                for value in ODD_QUERY:
                    await check(route, f"{path}?{field}={value}")
        for odd_id in ("0", "-1", "1.5", "9" * 30, "%20") if route.params else ():
            assert (await check(route, fill(route, odd_id))).status in (400, 404)
    assert (await api.fetch("GET", "/auth/me", token=admin)).status == 200
    assert checked > 500


async def test_odd_tokens_are_401(api, services):
    now = int(time.time())
    claims = {"idUser": 1, "ver": 0, "iat": now, "exp": now + 60}
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    wrong_types = jwt.encode({**claims, "idUser": "1"}, services.tokens.secret, algorithm="HS256")
    no_exp = jwt.encode({"idUser": 1, "ver": 0, "iat": now}, services.tokens.secret, algorithm="HS256")
    for header in (
        f"Bearer {unsigned}",
        f"Bearer {wrong_types}",
        f"Bearer {no_exp}",
        "Bearer " + "a" * 5000,
        "Bearer a.b.c",
        "Bearer",
        "Token abc",
    ):
        response = await api.fetch("GET", "/auth/me", headers={"Authorization": header})
        assert_error(response, 401, msg.TOKEN_INVALID)
    assert_error(await api.fetch("GET", "/auth/me", headers={"Authorization": "   "}), 401, msg.TOKEN_REQUIRED)


@pytest.mark.timeout(120)
def test_chunked_body_beyond_the_limit_gets_the_413_envelope(processes):
    """Past max_body_bytes the server answers 413 at once, before tornado's own cap would reply a bare 400."""
    seam = processes.seam()
    conn = HTTPConnection("127.0.0.1", seam.port, timeout=30)
    conn.putrequest("POST", "/api/v1/auth/login")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("Content-Type", "application/json")
    conn.endheaders()
    piece = b"x" * 65536
    for _ in range(40):  # 2.5 MiB: beyond both 1 MiB and the server's 2 MiB cap
        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {"success": False, "message": msg.BODY_TOO_LARGE}
    assert seam.stop() == 0

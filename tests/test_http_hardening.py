# SPDX-License-Identifier: MIT
"""HTTP hardening (SPEC §8): security headers everywhere, CORS only for configured origins, body limit."""

import asyncio
import json

import aiohttp
import pytest

import messages as msg
from handlers.misc import CONSOLE_CSP
from tests.support.clients import assert_error
from web.responses import DATA_CSP

pytestmark = pytest.mark.both_backends

ALLOWED = "https://app.example"
OTHER = "https://evil.example"
LIMIT = 4096


@pytest.fixture
def overrides():
    return {"cors_origins": [ALLOWED], "max_body_bytes": LIMIT}


def assert_hardened(response, csp=DATA_CSP):
    headers = response.headers
    assert "Server" not in headers, headers.get("Server")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"] == csp


async def test_security_headers_on_every_kind_of_response(api):
    token = await api.login()
    responses = {
        "api ok": await api.fetch("GET", "/roles", token=token),
        "api 401": await api.fetch("GET", "/roles"),
        "api 400": await api.fetch("POST", "/roles", json={}, token=token),
        "api unknown method": await api.fetch("PATCH", "/roles", token=token, body=b"{}"),
        "api 404": await api.fetch("GET", "/nope"),
        "openapi": await api.fetch("GET", "/openapi.json"),
        "healthz": await api.fetch("GET", "/healthz", prefix=""),
        "socket.io": await api.fetch("GET", "/socket.io/?EIO=4&transport=polling", prefix=""),
        "socket.io 400": await api.fetch("GET", "/socket.io/?EIO=4&transport=nope", prefix=""),
    }
    assert responses["api unknown method"].status == 404 and responses["socket.io"].status == 200
    for name, response in responses.items():
        try:
            assert_hardened(response)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
        if name.startswith("api"):
            assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
            assert response.body["success"] is (name == "api ok")


async def test_console_has_a_strict_csp(api):
    for path in ("/", "/index.html", "/missing.js"):
        response = await api.fetch("GET", path, prefix="")
        assert_hardened(response, CONSOLE_CSP)
    policy = dict(part.strip().split(" ", 1) for part in CONSOLE_CSP.split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in CONSOLE_CSP and "*" not in CONSOLE_CSP


async def test_cors_for_a_configured_origin(api):
    token = await api.login()
    response = await api.fetch("GET", "/roles", token=token, headers={"Origin": ALLOWED})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Expose-Headers"] == "X-Operation-ID"
    assert "Origin" in response.headers.get_list("Vary")
    assert "Access-Control-Allow-Credentials" not in response.headers
    refused = await api.fetch("GET", "/roles", headers={"Origin": ALLOWED})
    assert refused.status == 401 and refused.headers["Access-Control-Allow-Origin"] == ALLOWED


async def test_preflight_for_a_configured_origin(api):
    headers = {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type, x-socket-id, x-operation-id",
    }
    response = await api.fetch("OPTIONS", "/users/1", headers=headers)
    assert response.status == 204 and response.text == ""
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "x-socket-id", "x-operation-id"}
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert_hardened(response)


async def test_no_cors_for_other_origins(api):
    token = await api.login()
    response = await api.fetch("GET", "/roles", token=token, headers={"Origin": OTHER})
    assert response.status == 200
    assert not any(name.lower().startswith("access-control") for name in response.headers)
    preflight = await api.fetch("OPTIONS", "/roles", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})
    assert not any(name.lower().startswith("access-control") for name in preflight.headers)


async def test_socket_io_polling_origins(api):
    path = "/socket.io/?EIO=4&transport=polling"
    allowed = await api.fetch("GET", path, prefix="", headers={"Origin": ALLOWED})
    assert allowed.status == 200 and allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    own_host = api.base_url  # the bundled console's own origin
    assert (await api.fetch("GET", path, prefix="", headers={"Origin": own_host})).status == 200
    refused = await api.fetch("GET", path, prefix="", headers={"Origin": OTHER})
    assert refused.status == 400 and "Access-Control-Allow-Origin" not in refused.headers


async def test_socket_io_websocket_origins(api, base_url):
    url = base_url + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session:
        for origin in (ALLOWED, base_url):
            async with session.ws_connect(url, headers={"Origin": origin}) as ws:
                opened = await ws.receive_str(timeout=5)
                assert opened.startswith("0{")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url, headers={"Origin": OTHER})
        assert refused.value.status == 403


async def test_body_limit(api, services):
    token = await api.login()
    before = await services.db.fetchall("SELECT * FROM roles")
    big = {"roleName": "grande", "description": "x" * LIMIT}
    assert_error(await api.fetch("POST", "/roles", json=big, token=token), 413, msg.BODY_TOO_LARGE)

    async def chunks(write):  # no Content-Length: the limit is enforced while streaming
        for _ in range(LIMIT // 512 + 2):
            await write(b" " * 512)
        await write(b'{"roleName": "por-partes"}')

    streamed = await api.client.fetch(
        api.base_url + "/api/v1/roles",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        body_producer=chunks,
        raise_error=False,
    )
    assert streamed.code == 413
    assert [tuple(r) for r in await services.db.fetchall("SELECT * FROM roles")] == [tuple(r) for r in before]
    padded = b'{"roleName": "justo"}'.ljust(LIMIT, b" ")  # exactly at the limit is accepted
    headers = {"Content-Type": "application/json"}
    assert (await api.fetch("POST", "/roles", body=padded, token=token, headers=headers)).status == 201


@pytest.mark.parametrize("overrides", [{}])
async def test_no_cors_at_all_without_configured_origins(api, overrides):
    token = await api.login()
    for origin in (ALLOWED, OTHER):
        response = await api.fetch("GET", "/roles", token=token, headers={"Origin": origin})
        assert response.status == 200
        assert not any(name.lower().startswith("access-control") for name in response.headers)
        polling = await api.fetch("GET", "/socket.io/?EIO=4&transport=polling", prefix="", headers={"Origin": origin})
        assert polling.status == 400
    own = await api.fetch("GET", "/socket.io/?EIO=4&transport=polling", prefix="", headers={"Origin": api.base_url})
    assert own.status == 200


async def oversized_stream():
    """A body over LIMIT with no Content-Length: chunked, so SEAM only finds out while reading it."""
    for _ in range(LIMIT // 512 + 2):
        yield b" " * 512


async def test_every_early_close_says_so_and_a_pooled_client_goes_on(api, base_url, services):
    """Regression (issue 12.2): a response after which SEAM closed the connection did not say
    `Connection: close`, so a pooling client (aiohttp) sent its next request down the dead connection and
    failed ("Can not write request body"). One pooled connection here: each next request needs it."""
    token = await api.login()
    auth = {"Authorization": f"Bearer {token}"}
    as_json = {**auth, "Content-Type": "application/json"}
    refusals = [
        ("POST", "/api/v1/roles", {"data": b" " * (LIMIT + 1)}, 413, msg.BODY_TOO_LARGE),
        ("POST", "/api/v1/roles", {"data": oversized_stream()}, 413, msg.BODY_TOO_LARGE),
        ("PUT", "/api/v1/users/1", {"data": b" " * (4 * LIMIT)}, 413, msg.BODY_TOO_LARGE),
        (
            "FROB",
            "/api/v1/roles",
            {"data": b"{}"},
            404,
            msg.ROUTE_NOT_FOUND.format(method="FROB", path="/api/v1/roles"),
        ),
        ("POST", "/socket.io/?EIO=4&transport=polling", {"data": b"4" * (4 * LIMIT)}, 400, msg.BAD_REQUEST),
        ("POST", "/", {"data": b" " * (4 * LIMIT)}, 400, msg.BAD_REQUEST),
    ]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        for index, (method, path, body, status, message) in enumerate(refusals):
            async with session.request(method, base_url + path, headers=as_json, **body) as refused:
                assert refused.status == status, (path, refused.status)
                assert refused.headers.get("Connection") == "close", (path, dict(refused.headers))
                assert await refused.json() == {"success": False, "message": message}
            name = f"sigue-{index}"
            async with session.post(base_url + "/api/v1/roles", json={"roleName": name}, headers=auth) as after:
                assert after.status == 201, (path, await after.text())
            async with session.get(base_url + "/api/v1/roles", headers=auth) as kept:  # no early close: kept alive
                assert kept.status == 200 and "Connection" not in kept.headers
    assert len(await services.db.fetchall("SELECT 1 FROM roles WHERE roleName LIKE 'sigue-%'")) == len(refusals)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"POST /api/v1/roles HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
        b"POST /api/v1/roles HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n",
        b"GET /api/v1/roles HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ],
)
async def test_a_malformed_request_gets_the_envelope_and_connection_close(http_server, http_server_port, request_bytes):
    """Tornado answered these with a bare `400 Bad Request` and no headers at all, then closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", http_server_port[1])
    try:
        writer.write(request_bytes)
        reply = await asyncio.wait_for(reader.read(), 10)  # to EOF: the server closes the connection
    finally:
        writer.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    assert headers["Connection"] == "close" and headers["Content-Type"] == "application/json; charset=UTF-8"
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Content-Security-Policy"] == DATA_CSP
    assert json.loads(body) == {"success": False, "message": msg.BAD_REQUEST}
    assert int(headers["Content-Length"]) == len(body)

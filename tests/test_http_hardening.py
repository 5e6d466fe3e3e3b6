"""HTTP hardening (SPEC §8): security headers everywhere, CORS only for configured origins, body limit."""

import aiohttp
import pytest

import messages as msg
from handlers.misc import CONSOLE_CSP
from tests.support.clients import assert_error
from web.responses import DATA_CSP

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

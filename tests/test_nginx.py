# SPDX-License-Identifier: MIT
"""deploy/nginx.conf: Debian's nginx in front of `python seam.py`, over TLS, with WebSocket-only Socket.IO."""

import aiohttp
import pytest
import tornado.httpclient

import messages as msg
from tests.support.clients import ADMIN_EMAIL, Api
from tests.support.nginx import TEST_LIMITS, start_nginx
from tests.support.processes import expect_change


@pytest.fixture
def limits():
    """Replacements of deploy/nginx.conf's limits; a test overrides this to reach them."""
    return None


@pytest.fixture
def proxied(tmp_path, processes, limits):
    """`python seam.py` (proxy_headers on, as deploy/nginx.conf expects) behind nginx on TLS."""
    seam = processes.seam(proxy_headers="true", login_max_failures=2)
    nginx, base_url, http_port, cert, trust = start_nginx(processes, tmp_path / "nginx", [seam.port], limits)
    yield {"base_url": base_url, "http_port": http_port, "seam_port": seam.port, "cert": cert, "trust": trust}
    nginx.stop()
    assert seam.stop() == 0, seam.output()


async def test_nginx_proxies_api_and_websocket(proxied):
    api = Api(proxied["base_url"], ca_certs=str(proxied["cert"]))
    token = await api.login()
    me = await api.fetch("GET", "/auth/me", token=token)
    assert me.status == 200 and me.data["user"]["email"] == ADMIN_EMAIL
    console = await api.fetch("GET", "/", prefix="")
    assert console.status == 200 and console.headers["Content-Type"].startswith("text/html")

    transport = await expect_change(
        proxied["base_url"], token, api, "proxied", websocket_extra_options={"ssl": proxied["trust"]}
    )
    assert transport == "websocket"


async def test_nginx_redirects_plain_http_to_https(proxied):
    client = tornado.httpclient.AsyncHTTPClient()
    response = await client.fetch(
        f"http://127.0.0.1:{proxied['http_port']}/api/v1/auth/me",
        headers={"Host": "seam.example.com"},
        follow_redirects=False,
        raise_error=False,
    )
    assert response.code == 301
    assert response.headers["Location"] == "https://seam.example.com/api/v1/auth/me"


async def test_login_throttle_sees_the_client_address_not_the_proxy(proxied):
    """proxy_headers: SEAM counts failures per X-Real-IP; nginx overwrites any X-Real-IP a client sends."""
    direct = Api(f"http://127.0.0.1:{proxied['seam_port']}")
    through_nginx = Api(proxied["base_url"], ca_certs=str(proxied["cert"]))

    async def login(api, email, address):
        body = {"email": email, "password": "wrong-password"}
        return (await api.fetch("POST", "/auth/login", json=body, headers={"X-Real-IP": address})).status

    assert [await login(direct, f"u{n}@seam.test", "192.0.2.1") for n in range(3)] == [401, 401, 429]
    assert await login(direct, "u9@seam.test", "192.0.2.2") == 401
    forged = [await login(through_nginx, f"p{n}@seam.test", f"192.0.2.{10 + n}") for n in range(3)]
    assert forged == [401, 401, 429]


HSTS = "max-age=31536000"


async def test_nginx_sends_hsts_on_every_https_response(proxied):
    api = Api(proxied["base_url"], ca_certs=str(proxied["cert"]))
    for path, prefix in (("/healthz", ""), ("/", ""), ("/auth/me", "/api/v1"), ("/nope", "/api/v1")):
        response = await api.fetch("GET", path, prefix=prefix)
        assert response.headers["Strict-Transport-Security"] == HSTS, (path, response.status)


def too_many_requests(status, body, headers):
    assert status == 429 and body == {"success": False, "message": msg.TOO_MANY_REQUESTS}
    assert headers["Retry-After"] == "1" and headers["Strict-Transport-Security"] == HSTS


@pytest.mark.parametrize("limits", [TEST_LIMITS])
async def test_nginx_limits_requests_and_connections_per_address(proxied, limits):
    """deploy/nginx.conf's limit_req (API) and limit_conn (every request being served, open sockets included),
    here lowered to 5 requests and 3 connections: beyond them, 429 in SEAM's envelope from nginx itself."""
    base_url = proxied["base_url"]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=proxied["trust"])) as session:

        async def get(path):
            async with session.get(base_url + path) as response:
                body = await response.json() if response.content_type == "application/json" else None
                return response.status, body, response.headers

        answers = [await get("/healthz") for _ in range(8)]
        served = [status for status, _, _ in answers].count(200)  # the fixture's start-up check took one
        assert 4 <= served <= 6 and [status for status, _, _ in answers] == [200] * served + [429] * (8 - served)
        too_many_requests(*answers[-1])

        url = base_url.replace("https", "wss") + "/socket.io/?EIO=4&transport=websocket"
        sockets = [await session.ws_connect(url) for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 429
        await sockets[0].close()
        fourth = await session.ws_connect(url)
        assert (await fourth.receive_str(timeout=5)).startswith("0{")
        for ws in [*sockets[1:], fourth]:
            await ws.close()

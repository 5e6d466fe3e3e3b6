# SPDX-License-Identifier: MIT
"""Real clients for a SEAM under test: the API over HTTP, Socket.IO event recorders, and envelope checks."""

import asyncio
import json

import attrs
import socketio
import tornado.httpclient

ADMIN_EMAIL = "admin@seam.test"
ADMIN_PASSWORD = "admin-pass-1"
PASSWORD = "secret-pass-1"


@attrs.frozen
class Response:
    status: int
    body: object
    headers: object
    text: str

    @property
    def data(self):
        return self.body["data"]


class Api:
    """fetch(method, path, json=, token=, headers=, body=) → Response, against /api/v1 by default."""

    def __init__(self, base_url, **request_options):
        self.base_url = base_url
        self.request_options = request_options  # e.g. ca_certs for a TLS proxy in front
        self.client = tornado.httpclient.AsyncHTTPClient()

    async def fetch(self, method, path, json=None, token=None, headers=None, body=None, prefix="/api/v1"):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if json is not None:
            body = _json.dumps(json)
            headers.setdefault("Content-Type", "application/json")
        allow_body = method in ("POST", "PUT", "DELETE", "PATCH")
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        response = await self.client.fetch(
            self.base_url + prefix + path,
            method=method,
            headers=headers,
            body=body,
            allow_nonstandard_methods=allow_body,
            raise_error=False,
            request_timeout=30,
            **self.request_options,
        )
        text = response.body.decode("utf-8") if response.body else ""
        try:
            parsed = _json.loads(text) if text else None
        except ValueError:
            parsed = None
        assert_no_secrets(parsed, text)
        return Response(response.code, parsed, response.headers, text)

    async def login(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        response = await self.fetch("POST", "/auth/login", json={"email": email, "password": password})
        assert response.status == 200, response.body
        return response.data["token"]

    async def create_role(self, token, name, permissions=()):
        """A role holding the given permission names; returns its id."""
        role = await self.fetch("POST", "/roles", json={"roleName": name}, token=token)
        assert role.status == 201, role.body
        role_id = role.data["idRole"]
        catalog = {p["nameUri"]: p["idPermission"] for p in (await self.fetch("GET", "/permission", token=token)).data}
        for name_uri in permissions:
            grant = await self.fetch(
                "POST", "/permission/assign", token=token, json={"roleId": role_id, "permissionId": catalog[name_uri]}
            )
            assert grant.status == 200, grant.body
        return role_id

    async def create_user(self, token, email, role_id, password=PASSWORD, full_name="Test User"):
        created = await self.fetch(
            "POST",
            "/users",
            token=token,
            json={"full_name": full_name, "email": email, "password": password, "roleId": role_id},
        )
        assert created.status == 201, created.body
        return created.data["idUser"]


_json = json


async def call_from(base_url, source_ip, method, path, body, token=None, client=None):
    """(status, parsed body) of a request whose TCP connection comes from another loopback address."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await (client or tornado.httpclient.AsyncHTTPClient()).fetch(
        base_url + "/api/v1" + path,
        method=method,
        body=json.dumps(body),
        headers=headers,
        network_interface=source_ip,
        raise_error=False,
        request_timeout=120,
    )
    return response.code, json.loads(response.body) if response.body else None


async def login_from(base_url, source_ip, email, password, client=None):
    body = {"email": email, "password": password}
    return (await call_from(base_url, source_ip, "POST", "/auth/login", body, client=client))[0]


# Fields whose name mentions a password but carry no secret of the account (SPEC §5).
PASSWORD_FIELDS_ALLOWED = {"temporaryPassword", "mustChangePassword"}


def json_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from json_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_keys(item)


def assert_no_secrets(parsed, text):
    """Checked on every response the tests see: no bcrypt hash, no password field in envelope data (SPEC §1, §5).

    Only envelopes' data is searched for field names: a schema document (OpenAPI) may name password fields.
    """
    assert "$2b$" not in text and "$2a$" not in text, text
    data = parsed.get("data") if isinstance(parsed, dict) and "success" in parsed else None
    leaked = {k for k in json_keys(data) if "password" in k.lower() and k not in PASSWORD_FIELDS_ALLOWED}
    assert not leaked, (leaked, text)


def assert_error(response, status, message):
    assert response.status == status, (response.status, response.body)
    assert response.body == {"success": False, "message": message}


class EventRecorder:
    """A real python-socketio AsyncClient that records every event it receives, in order."""

    EVENTS = ("operation:progress", "data:changed", "session:changed", "session:revoked")

    def __init__(self, base_url, **client_options):
        self.base_url = base_url
        self.events = []
        self.client = socketio.AsyncClient(**{"reconnection": False, **client_options})
        self.connect_error = None
        self.disconnected = asyncio.Event()
        for name in self.EVENTS:
            self.client.on(name, self._recorder(name))
        self.client.on("connect_error", self._on_connect_error)
        self.client.on("disconnect", self._on_disconnect)

    def _recorder(self, name):
        async def record(data):
            self.events.append((name, data))

        return record

    async def _on_connect_error(self, data):
        self.connect_error = data

    async def _on_disconnect(self, *args):
        self.disconnected.set()

    @property
    def sid(self):
        return self.client.get_sid()

    async def connect(self, token, transports=("websocket",)):
        auth = {"token": token} if token is not None else {}
        await self.client.connect(self.base_url, auth=auth, transports=list(transports), wait_timeout=5)
        return self

    def of(self, event):
        return [data for name, data in self.events if name == event]

    async def wait_for(self, predicate, timeout=5.0):
        """Wait until predicate(events) is true; returns the events."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self.events):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; events so far: {self.events}")
            await asyncio.sleep(0.01)
        return self.events

    async def close(self):
        if self.client.connected:
            await self.client.disconnect()

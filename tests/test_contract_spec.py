# SPDX-License-Identifier: MIT
"""Black-box acceptance tests of SPEC.md, as an outside team would write them.

The server is started exactly as a user starts it (`python seam.py` in a temp directory, settings in the
environment) and driven only with ordinary clients: aiohttp for HTTP, python-socketio for the real-time channel.
Nothing from the product is imported: expected texts are copied from SPEC.md and the original client guide.
Each test runs its own asyncio loop (asyncio.run), so the module can share one server process.
"""

import asyncio
import base64
import json
import re
import signal
import sys
import time
import uuid
from datetime import datetime

import aiohttp
import jwt
import pytest
import socketio

from bench.seam_process import SEAM, Process, free_port, seam_env
from tests.support.processes import run_seam

pytestmark = pytest.mark.timeout(60)

ADMIN = "root@contract.test"
ADMIN_PW = "contract-admin-1"
PW = "contract-user-1"
TOKEN_REQUIRED = "Token requerido"
TOKEN_INVALID = "Token inválido o expirado"
FORBIDDEN = "No tienes permisos para acceder a este recurso"
BAD_CREDENTIALS = "Credenciales inválidas"
INACTIVE = "Usuario inactivo, contactate con el administrador"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def start_server(tmp_path, name, argv=(), conf=None, **settings):
    """`python seam.py [argv]` in tmp_path/name with SEAM_* settings; (process, base url) once /healthz answers."""
    home = tmp_path / name
    home.mkdir(exist_ok=True)
    if conf is not None:
        (home / "seam.conf").write_text(conf)
    port = free_port()
    env = seam_env(
        **{"port": port, "db_path": home / "seam.db", "admin_email": ADMIN, "admin_password": ADMIN_PW,
           "bcrypt_rounds": 4, **settings}
    )  # fmt: skip
    process = Process([sys.executable, SEAM, *argv], home, env, home / f"seam-{port}.log")
    process.wait_until_up(f"http://127.0.0.1:{port}/healthz")
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory):
    """One server per backend: the whole contract holds on SQLite and on PostgreSQL (database_url)."""
    database = {}
    if request.param == "postgres":
        database["database_url"] = request.getfixturevalue("postgres_server").database()
    process, url = start_server(tmp_path_factory.mktemp("contract"), "main", max_body_bytes=65536, **database)
    yield url
    process.kill()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 45))


class Client:
    """Plain JSON-over-HTTP client: call(method, path, json=..., token=...) → (status, body, headers)."""

    def __init__(self, url):
        self.url = url

    async def __aenter__(self):
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc):
        await self.session.close()

    async def call(self, method, path, json=None, token=None, headers=None, data=None, prefix="/api/v1"):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, self.url + prefix + path, json=json, data=data, headers=headers
        ) as response:
            text = await response.text()
            body = _json.loads(text) if text and response.content_type == "application/json" else text
            return response.status, body, response.headers

    async def ok(self, method, path, status=200, **kwargs):
        code, body, _ = await self.call(method, path, **kwargs)
        assert code == status, (method, path, code, body)
        assert body["success"] is True and isinstance(body["message"], str), body
        return body["data"]

    async def error(self, method, path, status, message=None, **kwargs):
        code, body, _ = await self.call(method, path, **kwargs)
        assert code == status, (method, path, code, body)
        assert set(body) == {"success", "message"} and body["success"] is False, body
        if message is not None:
            assert body["message"] == message
        return body["message"]

    async def login(self, email=ADMIN, password=PW):
        if email == ADMIN:
            password = ADMIN_PW
        return (await self.ok("POST", "/auth/login", json={"email": email, "password": password}))["token"]

    async def permission_id(self, token, name_uri):
        (match,) = [p for p in await self.ok("GET", "/permission", token=token) if p["nameUri"] == name_uri]
        return match["idPermission"]

    async def role(self, token, permissions=()):
        role = await self.ok("POST", "/roles", 201, token=token, json={"roleName": unique("role")})
        for name_uri in permissions:
            body = {"roleId": role["idRole"], "permissionId": await self.permission_id(token, name_uri)}
            await self.ok("POST", "/permission/assign", token=token, json=body)
        return role["idRole"]

    async def user(self, token, role_id, email=None):
        email = email or unique("u") + "@contract.test"
        body = {"full_name": "Contract User", "email": email, "password": PW, "roleId": role_id}
        created = await self.ok("POST", "/users", 201, token=token, json=body)
        return created["idUser"], email


_json = json


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def secret_fields(record):
    return {k for k in record if "password" in k.lower() and k != "mustChangePassword"}


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Socket:
    """A python-socketio AsyncClient recording every event in order."""

    def __init__(self, url):
        self.url = url
        self.events = []
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("*", self._any)
        self.disconnected = asyncio.Event()
        self.client.on("disconnect", lambda *a: self.disconnected.set())

    async def _any(self, event, data):
        self.events.append((event, data))

    async def connect(self, token):
        await self.client.connect(self.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
        return self

    @property
    def sid(self):
        return self.client.get_sid()

    def of(self, event):
        return [data for name, data in self.events if name == event]

    async def wait(self, predicate, timeout=5):
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert time.monotonic() < deadline, self.events
            await asyncio.sleep(0.01)

    async def close(self):
        if self.client.connected:
            await self.client.disconnect()


async def settle(*sockets):
    """A barrier: a mutation everyone sees, so all earlier events have arrived (events are ordered per socket)."""
    async with Client(sockets[0].url) as c:
        token = await c.login()
        marker = await c.ok("POST", "/roles", 201, token=token, json={"roleName": unique("mark")})
    for s in sockets:
        await s.wait(lambda s: any(d["data"] == marker for d in s.of("data:changed")))
        s.events = [(n, d) for n, d in s.events if not (n == "data:changed" and d["data"] == marker)]


# §1 Conventions ------------------------------------------------------------------------------------------------


def test_unknown_route_malformed_json_and_large_body(server):
    async def body():
        async with Client(server) as c:
            token = await c.login()
            await c.error("GET", "/nope", 404, token=token)
            await c.error("GET", "/nope", 404)
            code, text, _ = await c.call("POST", "/roles", token=token, data=b"{bad", headers=JSON_CT)
            assert code == 400 and text["success"] is False
            big = json.dumps({"roleName": "x" * 70000}).encode()
            code, text, _ = await c.call("POST", "/roles", token=token, data=big, headers=JSON_CT)
            assert code == 413 and text["success"] is False, (code, text)
            code, health, _ = await c.call("GET", "/healthz", prefix="")
            assert code == 200
            code, page, _ = await c.call("GET", "/", prefix="")
            assert code == 200 and "<html" in page.lower()

    run(body())


JSON_CT = {"Content-Type": "application/json"}


def test_validation_messages_booleans_and_unknown_fields(server):
    async def body():
        async with Client(server) as c:
            token = await c.login()
            message = await c.error("POST", "/users", 400, token=token, json={})
            for field in ("full_name", "email", "password", "roleId"):
                assert f"'{field}' es requerido" in message.split(". ")
            await c.error(
                "POST", "/users", 400, "'roleId' debe ser de tipo number", token=token,
                json={"full_name": "Ab", "email": unique("b") + "@x.io", "password": PW, "roleId": True},
            )  # fmt: skip
            await c.error(
                "POST", "/users", 400, "'email' tiene un formato inválido", token=token,
                json={"full_name": "Ab", "email": "a b@x.io", "password": PW, "roleId": 2},
            )  # fmt: skip
            await c.error(
                "POST", "/users", 400, "'full_name' debe tener al menos 2 caracteres", token=token,
                json={"full_name": "A", "email": unique("b") + "@x.io", "password": PW, "roleId": 2},
            )  # fmt: skip
            await c.error(
                "POST", "/users", 400, "'password' debe tener al menos 8 caracteres", token=token,
                json={"full_name": "Ab", "email": unique("b") + "@x.io", "password": "short", "roleId": 2},
            )  # fmt: skip
            await c.error(
                "POST", "/users", 400, "'password' no debe exceder 100 caracteres", token=token,
                json={"full_name": "Ab", "email": unique("b") + "@x.io", "password": "p" * 101, "roleId": 2},
            )  # fmt: skip
            await c.error("GET", "/users?limit=0", 400, "'limit' debe ser mayor o igual a 1", token=token)
            await c.error("GET", "/users?limit=201", 400, "'limit' debe ser menor o igual a 200", token=token)
            await c.error("GET", "/users?page=0", 400, "'page' debe ser mayor o igual a 1", token=token)
            # unknown fields are ignored and never written
            email = unique("extra") + "@contract.test"
            user = await c.ok(
                "POST", "/users", 201, token=token,
                json={"full_name": "Extra", "email": email, "password": PW, "roleId": 2, "isActive": 0,
                      "idUser": 999999, "tokenVersion": 7, "mustChangePassword": 1},
            )  # fmt: skip
            assert user["idUser"] != 999999 and user["isActive"] == 1
            assert (await c.ok("POST", "/auth/login", json={"email": email, "password": PW}))[
                "mustChangePassword"
            ] is False

    run(body())


# §3 Authentication ---------------------------------------------------------------------------------------------


def test_login_shape_claims_and_token_errors(server):
    async def body():
        async with Client(server) as c:
            data = await c.ok("POST", "/auth/login", json={"email": ADMIN, "password": ADMIN_PW})
            assert set(data) >= {"token", "expiresIn", "user", "sidebarItems", "permissions", "mustChangePassword"}
            assert data["mustChangePassword"] is False
            assert data["expiresIn"] in ("1h", 3600)
            user = data["user"]
            assert user["email"] == ADMIN and user["roleName"] == "admin" and user["isActive"] == 1
            assert type(user["isActive"]) is int and not secret_fields(user)
            assert "GET /api/v1/users" in data["permissions"] and "POST /api/v1/auth/register" in data["permissions"]
            assert all({"idItem", "nameItem", "iconItem", "route"} <= set(i) for i in data["sidebarItems"])
            token_claims = claims(data["token"])
            assert set(token_claims) >= {"idUser", "email", "roleId", "roleName", "ver", "iat", "exp"}
            assert token_claims["exp"] - token_claims["iat"] == 3600
            assert (token_claims["email"], token_claims["roleName"]) == (ADMIN, "admin")
            header = json.loads(base64.urlsafe_b64decode(data["token"].split(".")[0] + "=="))
            assert header["alg"] == "HS256"

            await c.error("GET", "/auth/me", 401, TOKEN_REQUIRED)
            await c.error("GET", "/auth/me", 401, TOKEN_INVALID, token="not.a.jwt")
            await c.error("GET", "/auth/me", 401, TOKEN_INVALID, token=data["token"][:-3] + "abc")
            me = await c.ok("GET", "/auth/me", token=data["token"])
            assert set(me) >= {"user", "permissions", "sidebarItems", "mustChangePassword"}
            refreshed = await c.ok("POST", "/auth/refresh", token=data["token"])
            assert set(refreshed) == {"token", "expiresIn"} and refreshed["expiresIn"] == data["expiresIn"]

    run(body())


def test_uniform_credentials_inactive_and_password_change(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            idu, email = await c.user(admin, 2)
            await c.error("POST", "/auth/login", 401, BAD_CREDENTIALS, json={"email": email, "password": "wrong-pw-1"})
            await c.error("POST", "/auth/login", 401, BAD_CREDENTIALS, json={"email": "x" + email, "password": PW})
            await c.ok("PUT", f"/users/{idu}/state", token=admin, json={"isActive": False})
            await c.error("POST", "/auth/login", 423, INACTIVE, json={"email": email, "password": PW})
            await c.error("POST", "/auth/login", 401, BAD_CREDENTIALS, json={"email": email, "password": "wrong-pw-1"})
            await c.ok("PUT", f"/users/{idu}/state", token=admin, json={"isActive": 1})
            first = await c.login(email)
            second = await c.login(email)
            changed = await c.ok(
                "PUT", "/auth/password", token=first, json={"currentPassword": PW, "newPassword": "brand-new-pw-2"}
            )
            assert set(changed) >= {"token", "expiresIn"}
            await c.error("GET", "/auth/me", 401, TOKEN_INVALID, token=second)
            await c.error("GET", "/auth/me", 401, TOKEN_INVALID, token=first)
            await c.ok("GET", "/auth/me", token=changed["token"])

    run(body())


# §4 Authorization ----------------------------------------------------------------------------------------------

RBAC_PERMISSIONS = {
    "POST /api/v1/auth/register",
    "GET /api/v1/users",
    "GET /api/v1/users/:id",
    "POST /api/v1/users",
    "PUT /api/v1/users/:id",
    "PUT /api/v1/users/:id/state",
    "PUT /api/v1/users/:id/resetPassword",
    "DELETE /api/v1/users/:id",
    "POST /api/v1/roles",
    "PUT /api/v1/roles/:idRole",
    "DELETE /api/v1/roles/:idRole",
    "POST /api/v1/permission/register",
    "POST /api/v1/permission/assign",
    "DELETE /api/v1/permission/unassign",
    "DELETE /api/v1/permission/:id",
    "GET /api/v1/sidebar/items",
    "POST /api/v1/sidebar",
    "PUT /api/v1/sidebar/:idItem",
    "DELETE /api/v1/sidebar/:idItem",
    "POST /api/v1/sidebar/:idItem/role/:idRole",
    "DELETE /api/v1/sidebar/:idItem/role/:idRole",
}


def test_seeded_roles_and_permission_names(server):
    async def body():
        async with Client(server) as c:
            token = await c.login()
            roles = {r["roleName"]: r for r in await c.ok("GET", "/roles", token=token)}
            assert {"admin", "user"} <= set(roles)
            assert set(roles["admin"]) >= {"idRole", "roleName", "description"}
            catalog = {p["nameUri"] for p in await c.ok("GET", "/permission", token=token)}
            assert RBAC_PERMISSIONS <= catalog
            admin_perms = await c.ok("GET", f"/permission/getByRoleId?roleId={roles['admin']['idRole']}", token=token)
            assert RBAC_PERMISSIONS <= {p["nameUri"] for p in admin_perms}
            assert await c.ok("GET", f"/permission/getByRoleId?roleId={roles['user']['idRole']}", token=token) == []
            found = await c.ok("GET", "/permission/getByNameUri?nameUri=GET /api/v1/users", token=token)
            assert "GET /api/v1/users" in {p["nameUri"] for p in found}
            await c.error("GET", "/permission/getByNameUri?nameUri=NOPE /nothing", 404, token=token)

    run(body())


def test_forbidden_and_case_insensitive_permission(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            role = await c.role(admin)
            _, email = await c.user(admin, role)
            token = await c.login(email)
            await c.error("GET", "/users", 403, FORBIDDEN, token=token)
            await c.error("GET", "/sidebar/items", 403, FORBIDDEN, token=token)
            await c.error("POST", "/roles", 403, FORBIDDEN, token=token, json={})  # authz before validation
            # auth-guarded routes need no permission
            await c.ok("GET", "/roles", token=token)
            await c.ok("GET", "/permission", token=token)
            await c.ok("GET", "/sidebar", token=token)
            await c.ok("GET", "/changes", token=token)
            # a permission registered in another case still grants the route
            old = await c.permission_id(admin, "GET /api/v1/sidebar/items")
            await c.ok("DELETE", f"/permission/{old}", token=admin)
            new = await c.ok(
                "POST", "/permission/register", 201, token=admin,
                json={"nameUri": "get /API/V1/sidebar/items", "description": "lower case"},
            )  # fmt: skip
            await c.error(
                "POST", "/permission/register", 409, "El permiso ya se encuentra registrado.", token=admin,
                json={"nameUri": "GET /api/v1/SIDEBAR/items", "description": "dup"},
            )  # fmt: skip
            for role_id in (role, 1):
                await c.ok(
                    "POST",
                    "/permission/assign",
                    token=admin,
                    json={"roleId": role_id, "permissionId": new["idPermission"]},
                )
            assert isinstance(await c.ok("GET", "/sidebar/items", token=token), list)

    run(body())


def test_lockout_guard(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            me = (await c.ok("GET", "/auth/me", token=admin))["user"]
            # other admins may exist (other tests); make this admin the only active one holding assign
            users = await c.ok("GET", "/users?limit=200", token=admin)
            others = [u for u in users if u["roleName"] == "admin" and u["idUser"] != me["idUser"] and u["isActive"]]
            assert others == []
            await c.error("DELETE", f"/users/{me['idUser']}", 409, token=admin)
            await c.error("PUT", f"/users/{me['idUser']}/state", 409, token=admin, json={"isActive": 0})
            await c.error("PUT", f"/users/{me['idUser']}", 409, token=admin, json={"roleId": 2})
            assign = await c.permission_id(admin, "POST /api/v1/permission/assign")
            await c.error(
                "DELETE",
                "/permission/unassign",
                409,
                token=admin,
                json={"roleId": me["roleId"], "permissionId": assign},
            )
            assert (await c.ok("GET", "/auth/me", token=admin))["user"]["isActive"] == 1

    run(body())


# §5 Endpoints --------------------------------------------------------------------------------------------------


def test_register_policy(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            new = {"full_name": "Reg User", "email": unique("r") + "@contract.test", "password": PW, "roleId": 1}
            await c.error("POST", "/auth/register", 403, json=new)
            registered = await c.ok("POST", "/auth/register", 201, token=admin, json=new)
            assert registered["roleId"] == 1 and registered["email"] == new["email"]
            assert not secret_fields(registered)
            code, body, _ = await c.call("POST", "/auth/register", token=admin, json=new)
            assert code == 409 and body["success"] is False
            _, plain = await c.user(admin, 2)
            token = await c.login(plain)
            await c.error(
                "POST", "/auth/register", 403, FORBIDDEN, token=token, json={**new, "email": unique("r") + "@x.io"}
            )
            # "users" as in the original: registered by admin, listed with roleName/roleDescription/isActive
            listed = await c.ok("GET", f"/users/{registered['idUser']}", token=admin)
            assert listed["roleName"] == "admin" and listed["isActive"] == 1
            await c.ok("DELETE", f"/users/{registered['idUser']}", token=admin)

    run(body())


def test_users_endpoints(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            idu, email = await c.user(admin, 2)
            code, page, _ = await c.call("GET", f"/users?page=1&limit=2&q={email[:10]}", token=admin)
            assert code == 200 and set(page) == {"success", "message", "data", "meta"}
            assert set(page["meta"]) >= {"page", "limit", "total"} and page["meta"]["limit"] == 2
            assert [u["email"] for u in page["data"]] == [email] and page["meta"]["total"] == 1
            assert set(page["data"][0]) >= {
                "idUser",
                "full_name",
                "email",
                "roleId",
                "roleName",
                "roleDescription",
                "isActive",
            }
            code, default, _ = await c.call("GET", "/users", token=admin)
            assert default["meta"]["limit"] == 50 and default["meta"]["page"] == 1
            await c.error("GET", "/users/987654", 404, "Usuario con id 987654 no encontrado", token=admin)
            _, other = await c.user(admin, 2)
            await c.error(
                "PUT", f"/users/{idu}", 409, "El correo ya está en uso por otro usuario", token=admin,
                json={"email": other.upper()},
            )  # fmt: skip
            updated = await c.ok("PUT", f"/users/{idu}", token=admin, json={"full_name": "Renamed", "roleId": 1})
            assert (updated["full_name"], updated["roleId"]) == ("Renamed", 1)
            # /state writes isActive and nothing else
            state = await c.ok(
                "PUT", f"/users/{idu}/state", token=admin, json={"isActive": 0, "email": "hijack@contract.test"}
            )
            assert state["isActive"] == 0 and state["email"] == email
            await c.error("PUT", f"/users/{idu}/state", 400, token=admin, json={"isActive": 2})
            for wrong in ("1", 1.0):
                await c.error(
                    "PUT", f"/users/{idu}/state", 400, "'isActive' debe ser de tipo boolean", token=admin,
                    json={"isActive": wrong},
                )  # fmt: skip
            duplicate = {"full_name": "Dup", "email": email.upper(), "password": PW, "roleId": 2}
            await c.error(
                "POST", "/users", 409, "El correo ya está en uso por otro usuario", token=admin, json=duplicate
            )
            await c.error("PUT", f"/users/{idu}/state", 400, token=admin, json={})
            assert (await c.ok("PUT", f"/users/{idu}/state", token=admin, json={"isActive": True}))["isActive"] == 1
            reset = await c.ok("PUT", f"/users/{idu}/resetPassword", token=admin)
            assert set(reset) == {"temporaryPassword"}
            login = await c.ok("POST", "/auth/login", json={"email": email, "password": reset["temporaryPassword"]})
            assert login["mustChangePassword"] is True
            code, deleted, _ = await c.call("DELETE", f"/users/{idu}", token=admin)
            assert code == 200 and deleted["success"] is True and deleted["data"] is None
            await c.error("GET", f"/users/{idu}", 404, f"Usuario con id {idu} no encontrado", token=admin)
            await c.error("DELETE", f"/users/{idu}", 404, token=admin)

    run(body())


def test_roles_permissions_sidebar_endpoints(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            latest = (await c.call("GET", "/changes?limit=1", token=admin))[1]["meta"]["latestSeq"]
            name = unique("Role")
            role = await c.ok("POST", "/roles", 201, token=admin, json={"roleName": name, "description": "d"})
            assert set(role) >= {"idRole", "roleName", "description"}
            await c.error(
                "POST",
                "/roles",
                409,
                f"El rol '{name.upper()}' ya existe",
                token=admin,
                json={"roleName": name.upper()},
            )
            await c.error(
                "POST",
                "/roles",
                400,
                "'roleName' debe tener al menos 2 caracteres",
                token=admin,
                json={"roleName": "a"},
            )
            assert (await c.ok("PUT", f"/roles/{role['idRole']}", token=admin, json={"description": "e"}))[
                "description"
            ] == "e"
            idu, _ = await c.user(admin, role["idRole"])
            await c.error("DELETE", f"/roles/{role['idRole']}", 409, token=admin)
            await c.ok("DELETE", f"/users/{idu}", token=admin)
            await c.ok("DELETE", f"/roles/{role['idRole']}", token=admin)
            await c.error("PUT", f"/roles/{role['idRole']}", 404, token=admin, json={"description": "x"})

            perm = await c.ok(
                "POST",
                "/permission/register",
                201,
                token=admin,
                json={"nameUri": unique("GET /x/"), "description": "t"},
            )
            assert set(perm) >= {"idPermission", "nameUri", "description"}
            assign = {"roleId": 2, "permissionId": perm["idPermission"]}
            await c.ok("POST", "/permission/assign", token=admin, json=assign)
            again = await c.call("POST", "/permission/assign", token=admin, json=assign)  # idempotent
            assert again[0] == 200 and again[1]["message"] == "El permiso ya estaba asignado a este rol"
            await c.error(
                "POST",
                "/permission/assign",
                404,
                token=admin,
                json={"roleId": 999999, "permissionId": perm["idPermission"]},
            )
            await c.error("POST", "/permission/assign", 404, token=admin, json={"roleId": 2, "permissionId": 999999})
            await c.error(
                "POST",
                "/permission/assign",
                400,
                token=admin,
                json={"roleId": "2", "permissionId": perm["idPermission"]},
            )
            await c.error("GET", "/permission/getByRoleId?roleId=abc", 400, token=admin)
            await c.ok("DELETE", "/permission/unassign", token=admin, json=assign)
            assert perm["idPermission"] not in {
                p["idPermission"] for p in await c.ok("GET", "/permission/getByRoleId?roleId=2", token=admin)
            }
            await c.ok("POST", "/permission/assign", token=admin, json=assign)
            await c.ok("DELETE", f"/permission/{perm['idPermission']}", token=admin)
            assert await c.ok("GET", "/permission/getByRoleId?roleId=2", token=admin) == []
            await c.error("DELETE", f"/permission/{perm['idPermission']}", 404, token=admin)

            item = await c.ok("POST", "/sidebar", 201, token=admin, json={"nameItem": "Reports", "iconItem": "chart"})
            assert set(item) >= {"idItem", "nameItem", "iconItem", "route"} and item["route"] is None
            await c.error(
                "POST",
                "/sidebar",
                400,
                "'iconItem' no debe exceder 50 caracteres",
                token=admin,
                json={"nameItem": "R", "iconItem": "i" * 51},
            )
            assert (await c.ok("PUT", f"/sidebar/{item['idItem']}", token=admin, json={"route": "/reports"}))[
                "route"
            ] == "/reports"
            linked = await c.ok("POST", f"/sidebar/{item['idItem']}/role/2", 201, token=admin)
            assert linked == {"idRole": 2, "idItem": item["idItem"], "roleName": "user", "nameItem": "Reports"}
            await c.error(
                "POST", f"/sidebar/{item['idItem']}/role/2", 409, "El item ya está asignado a este rol", token=admin
            )
            await c.error("POST", f"/sidebar/{item['idItem']}/role/999999", 404, token=admin)
            await c.error("POST", "/sidebar/999999/role/2", 404, token=admin)
            listed = {i["idItem"]: i for i in await c.ok("GET", "/sidebar/items", token=admin)}
            assert listed[item["idItem"]]["roles"] == [2]
            _, email = await c.user(admin, 2)
            user = await c.login(email)
            assert [i["idItem"] for i in await c.ok("GET", "/sidebar", token=user)] == [item["idItem"]]
            await c.ok("DELETE", f"/sidebar/{item['idItem']}/role/2", token=admin)
            assert await c.ok("GET", "/sidebar", token=user) == []
            await c.ok("POST", f"/sidebar/{item['idItem']}/role/2", 201, token=admin)
            await c.ok("DELETE", f"/sidebar/{item['idItem']}", token=admin)
            assert await c.ok("GET", "/sidebar", token=user) == []
            # operation names as in SPEC §5 / the original guide; failures and reads leave no change
            feed = await c.ok("GET", f"/changes?since={latest}&limit=500", token=admin)
            assert [row["operation"] for row in feed] == OPERATIONS_OF_THE_ENDPOINTS_TEST
            code, spec, _ = await c.call("GET", "/openapi.json")
            assert code == 200 and spec["openapi"].startswith("3.1") and "/users/{id}" in spec["paths"]

    run(body())


OPERATIONS_OF_THE_ENDPOINTS_TEST = [
    "roles:create",
    "roles:update",
    "users:create",
    "users:delete",
    "roles:delete",
    "permissions:create",
    "permissions:assign",  # the idempotent repeat changes nothing, so it leaves no change behind
    "permissions:unassign",
    "permissions:assign",
    "permissions:delete",
    "sidebar:create",
    "sidebar:update",
    "sidebar:assign",
    "users:create",
    "sidebar:unassign",
    "sidebar:assign",
    "sidebar:delete",
]


def test_refusals_keep_the_connection_usable(server):
    """A 401/403 answered before the body was read must not reset a keep-alive connection (regression)."""

    async def body():
        async with Client(server) as c:
            new = {"full_name": "Anon", "email": unique("a") + "@contract.test", "password": PW, "roleId": 1}
            for _ in range(6):
                await c.error("POST", "/auth/register", 403, json=new)
                await c.error("POST", "/roles", 401, TOKEN_REQUIRED, json={"roleName": "x" * 2000})
                await c.error("PUT", "/users/1", 401, TOKEN_INVALID, token="x.y.z", json={"full_name": "Zed"})

    run(body())


# §6 Real-time channel ------------------------------------------------------------------------------------------


async def refused(url, auth):
    """The connect_error message of a refused handshake."""
    client = socketio.AsyncClient(reconnection=False)
    errors = []
    client.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, auth=auth, transports=["websocket"], wait_timeout=5)
    await client.shutdown()
    (error,) = errors
    return error["message"] if isinstance(error, dict) else error


def test_handshake_errors(server):
    async def body():
        assert await refused(server, {}) == "Token requerido para conectarse"
        assert await refused(server, {"token": "garbage"}) == TOKEN_INVALID

    run(body())


def test_operation_progress_and_data_changed(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            admin_id = jwt.decode(admin, options={"verify_signature": False})["idUser"]
            tab1, tab2 = await Socket(server).connect(admin), await Socket(server).connect(admin)
            try:
                op_id = "tab-1.op_42"
                code, created, headers = await c.call(
                    "POST", "/roles", token=admin, json={"roleName": unique("live")},
                    headers={"X-Socket-ID": tab1.sid, "X-Operation-ID": op_id},
                )  # fmt: skip
                assert code == 201 and headers["X-Operation-ID"] == op_id
                await tab2.wait(lambda s: s.of("data:changed"))
                await tab1.wait(lambda s: s.of("data:changed"))  # sent to every tab, the initiator's included
                await tab1.wait(lambda s: [p["status"] for p in s.of("operation:progress")][-1:] == ["success"])
                progress = tab1.of("operation:progress")
                statuses = [p["status"] for p in progress]
                assert statuses[0] == "start" and statuses[-1] == "success"
                assert set(statuses[1:-1]) <= {"processing"}
                for p in progress:
                    assert set(p) == {"operation", "status", "message", "data", "timestamp", "operationId"}
                    assert (p["operation"], p["operationId"]) == ("roles:create", op_id)
                    assert ISO_UTC.match(p["timestamp"]), p["timestamp"]
                    datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
                assert tab2.of("operation:progress") == []  # X-Socket-ID targets one tab
                for tab in (tab1, tab2):
                    (change,) = tab.of("data:changed")
                    assert set(change) == {
                        "operation",
                        "message",
                        "data",
                        "initiatorSocketId",
                        "operationId",
                        "seq",
                        "at",
                        "actorId",
                    }
                    assert change["operation"] == "roles:create" and change["initiatorSocketId"] == tab1.sid
                    assert change["actorId"] == admin_id
                    assert change["operationId"] == op_id and change["data"] == created["data"]
                    assert isinstance(change["seq"], int) and ISO_UTC.match(change["at"])

                # without X-Socket-ID: progress to the whole user room, generated operationId, null initiator
                tab1.events.clear(), tab2.events.clear()
                code, _, headers = await c.call("GET", "/users", token=admin)
                generated = headers["X-Operation-ID"]
                assert code == 200 and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", generated)
                for tab in (tab1, tab2):
                    await tab.wait(lambda s: [p["status"] for p in s.of("operation:progress")][-1:] == ["success"])
                    assert {p["operation"] for p in tab.of("operation:progress")} == {"users:fetchAll"}
                    assert {p["operationId"] for p in tab.of("operation:progress")} == {generated}
                await settle(tab1, tab2)
                assert tab1.of("data:changed") == [] and tab2.of("data:changed") == []  # reads never broadcast

                # an error: start then error with the HTTP message
                tab1.events.clear()
                code, failed, _ = await c.call(
                    "POST", "/roles", token=admin, json={}, headers={"X-Socket-ID": tab1.sid}
                )
                assert code == 400
                await tab1.wait(lambda s: [p["status"] for p in s.of("operation:progress")][-1:] == ["error"])
                progress = tab1.of("operation:progress")
                assert progress[0]["status"] == "start" and progress[-1]["message"] == failed["message"]
                assert [p["status"] for p in progress].count("error") == 1

                # a malformed X-Operation-ID is not echoed: SEAM generates one instead (SPEC: "else generated")
                for bad in ("a" * 65, "bad id!"):
                    code, _, headers = await c.call("GET", "/roles", token=admin, headers={"X-Operation-ID": bad})
                    assert code == 200 and headers["X-Operation-ID"] != bad
                    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", headers["X-Operation-ID"])
            finally:
                await tab1.close(), await tab2.close()

    run(body())


def test_x_socket_id_of_another_user_is_ignored_and_fanout_is_permission_aware(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            plain_id, plain_email = await c.user(admin, 2)
            plain = await c.login(plain_email)
            mine, theirs = await Socket(server).connect(admin), await Socket(server).connect(plain)
            try:
                code, _, _ = await c.call("GET", "/roles", token=admin, headers={"X-Socket-ID": theirs.sid})
                assert code == 200
                await mine.wait(lambda s: [p["status"] for p in s.of("operation:progress")][-1:] == ["success"])
                code, _, _ = await c.call("PUT", f"/users/{plain_id}", token=admin, json={"full_name": "Seen By Self"},
                                          headers={"X-Socket-ID": theirs.sid})  # fmt: skip
                assert code == 200
                await mine.wait(lambda s: s.of("data:changed"))
                assert mine.of("data:changed")[0]["initiatorSocketId"] is None
                _, other_email = await c.user(admin, 2)  # users:create: not for a role without GET /users
                await settle(mine, theirs)
                assert theirs.of("operation:progress") == []
                changes = [d["operation"] for d in theirs.of("data:changed")]
                assert changes == ["users:update"], changes  # only the change about themselves
                assert any(
                    d["operation"] == "users:create" and d["data"]["email"] == other_email
                    for d in mine.of("data:changed")
                )
                assert theirs.of("session:changed")[-1]["user"]["full_name"] == "Seen By Self"
                assert set(theirs.of("session:changed")[-1]) >= {"user", "permissions", "sidebarItems"}
                # disabling the user revokes their sockets
                await c.ok("PUT", f"/users/{plain_id}/state", token=admin, json={"isActive": 0})
                await theirs.wait(lambda s: s.of("session:revoked"))
                assert set(theirs.of("session:revoked")[0]) == {"reason"}
                await asyncio.wait_for(theirs.disconnected.wait(), 5)
                assert await refused(server, {"token": plain}) == TOKEN_INVALID
            finally:
                await mine.close(), await theirs.close()

    run(body())


def test_role_change_applies_at_once_with_session_changed(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            idu, email = await c.user(admin, 2)
            token = await c.login(email)
            tab = await Socket(server).connect(token)
            try:
                await c.error("GET", "/users", 403, FORBIDDEN, token=token, headers={"X-Socket-ID": tab.sid})
                await c.error("GET", "/users", 401, TOKEN_REQUIRED, headers={"X-Socket-ID": tab.sid})
                await settle(tab)
                assert tab.of("operation:progress") == []  # refused requests emit nothing
                # a public operation reaches an X-Socket-ID socket only when it belongs to the user it logs in
                await c.ok(
                    "POST", "/auth/login", json={"email": ADMIN, "password": ADMIN_PW}, headers={"X-Socket-ID": tab.sid}
                )
                await c.ok("POST", "/auth/login", json={"email": email, "password": PW})
                await c.ok(
                    "POST", "/auth/login", json={"email": email, "password": PW}, headers={"X-Socket-ID": tab.sid}
                )
                await tab.wait(lambda s: [p["status"] for p in s.of("operation:progress")][-1:] == ["success"])
                await settle(tab)
                assert {p["operation"] for p in tab.of("operation:progress")} == {"auth:login"}
                assert [p["status"] for p in tab.of("operation:progress")][0] == "start"
                assert len({p["operationId"] for p in tab.of("operation:progress")}) == 1
                tab.events.clear()
                role = await c.role(admin, ["GET /api/v1/users"])
                await c.ok("PUT", f"/users/{idu}", token=admin, json={"roleId": role})
                await tab.wait(lambda s: s.of("session:changed"))
                assert "GET /api/v1/users" in tab.of("session:changed")[-1]["permissions"]
                await c.ok("GET", "/users", token=token)  # same token, new role
                assert claims(token)["roleId"] == 2
            finally:
                await tab.close()

    run(body())


def test_password_reset_and_change_revoke_sessions_without_leaking_secrets(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            idu, email = await c.user(admin, 2)
            token = await c.login(email)
            watcher = await Socket(server).connect(admin)
            tab_a, tab_b = await Socket(server).connect(token), await Socket(server).connect(token)
            try:
                # changing one's own password revokes every other session, not the calling tab
                changed = await c.ok(
                    "PUT", "/auth/password", token=token, headers={"X-Socket-ID": tab_a.sid},
                    json={"currentPassword": PW, "newPassword": "changed-pw-9"},
                )  # fmt: skip
                await tab_b.wait(lambda s: s.of("session:revoked"))
                assert tab_b.of("session:revoked") == [{"reason": "password_changed"}]
                await asyncio.wait_for(tab_b.disconnected.wait(), 5)
                await settle(tab_a, watcher)
                assert tab_a.client.connected and tab_a.of("session:revoked") == []
                assert "auth:password" not in {d["operation"] for d in watcher.of("data:changed")}  # no broadcast
                # an admin reset: the user's sessions are revoked, the password shows up only in the response
                watcher.events.clear()
                reset = await c.ok("PUT", f"/users/{idu}/resetPassword", token=admin)
                await tab_a.wait(lambda s: s.of("session:revoked"))
                assert tab_a.of("session:revoked")[-1] == {"reason": "password_reset"}
                await watcher.wait(lambda s: s.of("data:changed"))
                await settle(watcher)
                everything = json.dumps(watcher.events) + json.dumps(tab_a.events)
                assert reset["temporaryPassword"] not in everything and "$2b$" not in everything
                await c.error("GET", "/auth/me", 401, TOKEN_INVALID, token=changed["token"])
            finally:
                await watcher.close(), await tab_a.close(), await tab_b.close()

    run(body())


def test_change_feed_hides_other_users_changes_from_non_readers(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            latest = (await c.call("GET", "/changes?limit=1", token=admin))[1]["meta"]["latestSeq"]
            idu, email = await c.user(admin, 2)
            await c.user(admin, 2)
            await c.ok("PUT", f"/users/{idu}", token=admin, json={"full_name": "Only Me"})
            await c.ok("POST", "/roles", 201, token=admin, json={"roleName": unique("vis")})
            token = await c.login(email)
            code, feed, _ = await c.call("GET", f"/changes?since={latest}", token=token)
            assert code == 200
            seen = [(row["operation"], row["data"].get("idUser")) for row in feed["data"]]
            assert [op for op, _ in seen] == ["users:create", "users:update", "roles:create"], seen
            assert all(user_id == idu for op, user_id in seen if op.startswith("users:"))
            everything = await c.ok("GET", f"/changes?since={latest}", token=admin)
            assert [row["operation"] for row in everything] == [
                "users:create",
                "users:create",
                "users:update",
                "roles:create",
            ]

    run(body())


def test_session_changed_follows_role_permissions_and_menu(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            first, second = await c.role(admin), await c.role(admin)
            idu, email = await c.user(admin, first)
            tab = await Socket(server).connect(await c.login(email))
            try:

                async def next_session(action):
                    tab.events.clear()
                    await action
                    await tab.wait(lambda s: s.of("session:changed"))
                    return tab.of("session:changed")[-1]

                users = await c.permission_id(admin, "GET /api/v1/users")
                grant = c.ok("POST", "/permission/assign", token=admin, json={"roleId": first, "permissionId": users})
                assert "GET /api/v1/users" in (await next_session(grant))["permissions"]
                item = await c.ok("POST", "/sidebar", 201, token=admin, json={"nameItem": unique("menu")})
                menu = await next_session(c.ok("POST", f"/sidebar/{item['idItem']}/role/{first}", 201, token=admin))
                assert [i["idItem"] for i in menu["sidebarItems"]] == [item["idItem"]]
                moved = await next_session(c.ok("PUT", f"/users/{idu}", token=admin, json={"roleId": second}))
                assert moved["user"]["roleId"] == second and moved["permissions"] == [] and moved["sidebarItems"] == []
                # the socket's role room followed the user to the new role
                renamed = unique("Renamed")
                update = c.ok("PUT", f"/roles/{second}", token=admin, json={"roleName": renamed})
                assert (await next_session(update))["user"]["roleName"] == renamed
                tab.events.clear()
                await c.ok("POST", "/permission/assign", token=admin, json={"roleId": first, "permissionId": 1})
                await settle(tab)
                assert tab.of("session:changed") == []  # no longer in the old role's room
            finally:
                await tab.close()

    run(body())


# §7 Change feed ------------------------------------------------------------------------------------------------


def test_change_feed(server):
    async def body():
        async with Client(server) as c:
            admin = await c.login()
            code, feed, _ = await c.call("GET", "/changes?since=0&limit=500", token=admin)
            assert code == 200 and "latestSeq" in feed["meta"]
            latest = feed["meta"]["latestSeq"]
            role = await c.ok("POST", "/roles", 201, token=admin, json={"roleName": unique("feed")})
            code, feed, _ = await c.call("GET", f"/changes?since={latest}", token=admin)
            (row,) = feed["data"]
            assert row["operation"] == "roles:create" and row["data"] == role and row["seq"] > latest
            assert set(row) >= {"operation", "message", "data", "initiatorSocketId", "operationId", "seq", "at"}
            # SEAM adds the audit states (before/after) for readers allowed to see the resource
            assert (row["before"], row["after"]) == (None, role)
            assert feed["meta"]["latestSeq"] == row["seq"]
            code, body, _ = await c.call("GET", "/changes?since=0&limit=501", token=admin)
            assert code == 400 and body["message"] == "'limit' debe ser menor o igual a 500"
            code, page, _ = await c.call("GET", "/changes?since=0&limit=2", token=admin)
            assert len(page["data"]) == 2 and page["data"][0]["seq"] < page["data"][1]["seq"]

    run(body())


# §8 / §9 Operations and first start ---------------------------------------------------------------------------


SECRET = "contract-secret-0123456789abcdef0123"
ORIGINS = "http://a.example,http://b.example"


def test_config_layers_first_start_and_retention(tmp_path):
    conf = 'jwt_expires = "2h"\nlogin_max_failures = 50\nopen_registration = True\nchange_retention = 2\n'
    layered = {"admin_password": "", "jwt_expires": "3h", "login_max_failures": 3, "jwt_secret": SECRET}
    layered["cors_origins"] = ORIGINS
    process, url = start_server(tmp_path, "layers", ["--jwt-expires=30m"], conf=conf, **layered)
    first_output = process.output()
    try:

        async def body():
            async with Client(url) as c:
                (password,) = re.findall(re.escape(ADMIN) + r" with password (\S+)", first_output)
                login = await c.ok("POST", "/auth/login", json={"email": ADMIN, "password": password})
                assert login["mustChangePassword"] is True
                assert login["expiresIn"] in ("30m", 1800)  # flag beats env beats seam.conf
                token_claims = claims(login["token"])
                assert token_claims["exp"] - token_claims["iat"] == 1800
                # SEAM_JWT_SECRET is the signing key: forged tokens with it are checked like real ones
                assert jwt.decode(login["token"], SECRET, algorithms=["HS256"])["idUser"] == token_claims["idUser"]
                expired = jwt.encode({**token_claims, "iat": 1, "exp": 2}, SECRET, algorithm="HS256")
                await c.error("GET", "/auth/me", 401, TOKEN_INVALID, token=expired)
                stale = jwt.encode({**token_claims, "ver": token_claims["ver"] + 1}, SECRET, algorithm="HS256")
                await c.error("GET", "/auth/me", 401, TOKEN_INVALID, token=stale)
                assert await refused(url, {"token": expired}) == TOKEN_INVALID
                # §10: the printed password opens nothing but its own replacement
                await c.error(
                    "GET", "/roles", 403, "Debe cambiar su contraseña antes de continuar", token=login["token"]
                )
                change = {"currentPassword": password, "newPassword": "contract-admin-pass"}
                login["token"] = (await c.ok("PUT", "/auth/password", token=login["token"], json=change))["token"]
                # cors_origins from the environment, comma-separated
                preflight = {"Origin": "http://b.example", "Access-Control-Request-Method": "PUT"}
                code, _, headers = await c.call("OPTIONS", "/users/1", headers=preflight)
                assert code in (200, 204) and headers["Access-Control-Allow-Origin"] == "http://b.example"
                allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
                assert {"authorization", "content-type", "x-socket-id", "x-operation-id"} <= allowed
                _, _, headers = await c.call(
                    "GET", "/roles", token=login["token"], headers={"Origin": "http://a.example"}
                )
                assert headers["Access-Control-Allow-Origin"] == "http://a.example"
                assert "x-operation-id" in headers["Access-Control-Expose-Headers"].lower()
                _, _, headers = await c.call(
                    "GET", "/roles", token=login["token"], headers={"Origin": "http://c.example"}
                )
                assert "Access-Control-Allow-Origin" not in headers
                # listed origins may open sockets, others may not
                allowed = socketio.AsyncClient(reconnection=False, http_session=c.session)
                await allowed.connect(
                    url,
                    auth={"token": login["token"]},
                    headers={"Origin": "http://a.example"},
                    transports=["websocket"],
                )
                await allowed.disconnect()
                foreign = socketio.AsyncClient(reconnection=False, http_session=c.session)
                with pytest.raises(socketio.exceptions.ConnectionError):
                    await foreign.connect(
                        url,
                        auth={"token": login["token"]},
                        headers={"Origin": "http://c.example"},
                        transports=["websocket"],
                    )
                # open registration: anonymous callers get default_role whatever roleId says
                new = {"full_name": "Open Reg", "email": unique("o") + "@contract.test", "password": PW, "roleId": 1}
                registered = await c.ok("POST", "/auth/register", 201, json=new)
                roles = {r["roleName"]: r["idRole"] for r in await c.ok("GET", "/roles", token=login["token"])}
                assert registered["roleId"] == roles["user"]
                for _ in range(3):
                    await c.ok("POST", "/roles", 201, token=login["token"], json={"roleName": unique("r")})
                code, gone, _ = await c.call("GET", "/changes?since=1", token=login["token"])
                assert code == 410 and gone["success"] is False
                # an operator's revocation survives a restart
                revoked = await c.permission_id(login["token"], "GET /api/v1/sidebar/items")
                await c.ok(
                    "DELETE",
                    "/permission/unassign",
                    token=login["token"],
                    json={"roleId": roles["admin"], "permissionId": revoked},
                )
                # a deleted route permission comes back as a row at the next start
                deleted = await c.permission_id(login["token"], "DELETE /api/v1/sidebar/:idItem/role/:idRole")
                await c.ok("DELETE", f"/permission/{deleted}", token=login["token"])
                # env login_max_failures=3 beats seam.conf's 50
                victim = {"email": unique("v") + "@contract.test", "password": "wrong-pw-1"}
                statuses = [(await c.call("POST", "/auth/login", json=victim))[0] for _ in range(4)]
                assert statuses[:3] == [401, 401, 401] and statuses[3] == 429, statuses
                code, limited, headers = await c.call("POST", "/auth/login", json=victim)
                assert code == 429 and int(headers["Retry-After"]) > 0 and limited["success"] is False
                return password, login["token"]

        password, token = run(body())
    finally:
        assert process.stop() == 0
    process, url = start_server(tmp_path, "layers", conf=conf, **layered)
    try:
        assert password not in process.output()  # shown once, on first start only

        async def again():
            async with Client(url) as c:
                me = await c.ok("GET", "/auth/me", token=token)  # same secret, same user, token still valid
                assert "GET /api/v1/sidebar/items" not in me["permissions"]
                assert "GET /api/v1/users" in me["permissions"]
                await c.permission_id(token, "DELETE /api/v1/sidebar/:idItem/role/:idRole")

        run(again())
    finally:
        process.popen.send_signal(signal.SIGINT)
        assert process.popen.wait(20) == 0


def test_cli_help_invalid_config_and_subcommands(tmp_path):
    env = seam_env(db_path=tmp_path / "cli.db", bcrypt_rounds=4, admin_email=ADMIN, admin_password=ADMIN_PW)
    helped = run_seam("--help", cwd=tmp_path, env=env)
    assert helped.returncode == 0 and "--jwt-expires" in helped.stdout and "backup" in helped.stdout
    for argv, extra, setting in (
        (["--port=abc"], {}, "port"),
        ([], {"SEAM_BCRYPT_ROUNDS": "99"}, "bcrypt_rounds"),
        ([], {"SEAM_LOGIN_WINDOW": "soon"}, "login_window"),
    ):
        bad = run_seam(*argv, cwd=tmp_path, env={**env, **extra}, timeout=20)
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode != 0 and len(lines) == 1, bad.stderr
        assert setting in lines[0] or setting.replace("_", "-") in lines[0], lines
    for conf, setting in (
        ('port = "abc"\n', "port"),
        ("bcrypt_rounds = [4]\n", "bcrypt_rounds"),
        ("port = (\n", "seam.conf"),
    ):
        (tmp_path / "seam.conf").write_text(conf)  # a bad seam.conf value is one line too (regression: traceback)
        bad = run_seam(cwd=tmp_path, env=env, timeout=20)
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode != 0 and len(lines) == 1 and setting in lines[0], bad.stderr
    (tmp_path / "seam.conf").unlink()
    routes = run_seam("routes", cwd=tmp_path, env=env)
    assert routes.returncode == 0 and "PUT /api/v1/users/:id/resetPassword" in routes.stdout
    made = run_seam("create-admin", "second@contract.test", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    backup = run_seam("backup", str(tmp_path / "copy.db"), cwd=tmp_path, env=env)
    assert backup.returncode == 0 and (tmp_path / "copy.db").stat().st_size > 0
    reset = run_seam("reset-password", "second@contract.test", cwd=tmp_path, env=env)
    assert reset.returncode == 0 and reset.stdout.strip()

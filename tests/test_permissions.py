# SPDX-License-Identifier: MIT
"""/permission: catalog, lookups, register, assign/unassign, delete."""

from urllib.parse import quote

import pytest  # noqa

import messages as msg
from handlers import ROUTE_TABLE, permission_catalog
from tests.support.clients import assert_error

pytestmark = pytest.mark.both_backends

USER_ROLE = 2


async def catalog_ids(api, token):
    return {p["nameUri"]: p["idPermission"] for p in (await api.fetch("GET", "/permission", token=token)).data}


async def test_catalog(api):
    admin = await api.login()
    listed = await api.fetch("GET", "/permission", token=admin)
    assert listed.status == 200 and listed.body["message"] == msg.PERMISSIONS_FETCHED
    assert [p["nameUri"] for p in listed.data] == [name for name, _ in permission_catalog()]
    assert set(listed.data[0]) == {"idPermission", "nameUri", "description"}
    assert "POST /api/v1/auth/register" in {p["nameUri"] for p in listed.data}
    descriptions = {p["nameUri"]: p["description"] for p in listed.data}
    assert (
        descriptions["GET /api/v1/users"]
        == msg.ROUTE_SUMMARIES["GET /users"]
        == "Listar usuarios (paginado y con búsqueda)"
    )
    assert set(msg.ROUTE_SUMMARIES) == {f"{r.method} {r.pattern}" for r in ROUTE_TABLE}, "one Spanish summary per route"


async def test_register(api):
    admin = await api.login()
    created = await api.fetch(
        "POST", "/permission/register", json={"nameUri": "GET /api/v1/reports", "description": "Informes"}, token=admin
    )
    assert created.status == 201 and created.body["message"] == msg.PERMISSION_CREATED
    assert set(created.data) == {"idPermission", "nameUri", "description"}
    assert created.data["nameUri"] == "GET /api/v1/reports" and created.data["description"] == "Informes"
    duplicate = await api.fetch(
        "POST", "/permission/register", json={"nameUri": "get /API/v1/reports", "description": "x"}, token=admin
    )
    assert_error(duplicate, 409, msg.PERMISSION_EXISTS)
    cases = [
        ({}, "'nameUri' es requerido. 'description' es requerido"),
        ({"nameUri": "x", "description": "d"}, "'nameUri' debe tener al menos 2 caracteres"),
        ({"nameUri": "x" * 101, "description": "d"}, "'nameUri' no debe exceder 100 caracteres"),
        ({"nameUri": 1, "description": "d"}, "'nameUri' debe ser de tipo string"),
        ({"nameUri": "GET /x", "description": True}, "'description' debe ser de tipo string"),
        ({"nameUri": "GET /x", "description": "d" * 256}, "'description' no debe exceder 255 caracteres"),
    ]
    for body, message in cases:
        assert_error(await api.fetch("POST", "/permission/register", json=body, token=admin), 400, message)


async def test_get_by_role_id(api):
    admin = await api.login()
    admin_perms = await api.fetch("GET", "/permission/getByRoleId?roleId=1", token=admin)
    assert admin_perms.status == 200 and len(admin_perms.data) == len(permission_catalog())
    assert (await api.fetch("GET", "/permission/getByRoleId?roleId=2", token=admin)).data == []
    assert (await api.fetch("GET", "/permission/getByRoleId?roleId=999", token=admin)).data == []
    assert_error(await api.fetch("GET", "/permission/getByRoleId", token=admin), 400, "'roleId' es requerido")
    for bad in ("abc", "1.5", "-1", "true"):
        assert_error(
            await api.fetch("GET", f"/permission/getByRoleId?roleId={bad}", token=admin),
            400,
            "'roleId' debe ser de tipo number",
        )


async def test_get_by_name_uri(api):
    admin = await api.login()
    found = await api.fetch("GET", "/permission/getByNameUri?nameUri=" + quote("get /api/v1/USERS"), token=admin)
    assert found.status == 200 and [p["nameUri"] for p in found.data] == ["GET /api/v1/users"]
    assert_error(
        await api.fetch("GET", "/permission/getByNameUri?nameUri=nada", token=admin),
        404,
        msg.PERMISSION_URI_NOT_FOUND.format(uri="nada"),
    )
    assert_error(await api.fetch("GET", "/permission/getByNameUri", token=admin), 400, "'nameUri' es requerido")


async def test_assign_is_idempotent_and_checks_references(api):
    admin = await api.login()
    ids = await catalog_ids(api, admin)
    body = {"roleId": USER_ROLE, "permissionId": ids["GET /api/v1/users"]}
    first = await api.fetch("POST", "/permission/assign", json=body, token=admin)
    assert first.status == 200 and first.body["message"] == msg.PERMISSION_ASSIGNED and first.data == body
    latest = (await api.fetch("GET", "/changes?limit=1", token=admin)).body["meta"]["latestSeq"]
    again = await api.fetch("POST", "/permission/assign", json=body, token=admin)
    assert again.status == 200 and again.body["message"] == msg.PERMISSION_ALREADY_ASSIGNED and again.data == body
    unchanged = await api.fetch("GET", "/changes?limit=1", token=admin)
    assert unchanged.body["meta"]["latestSeq"] == latest, "a repeated grant changes nothing, so records nothing"
    held = await api.fetch("GET", "/permission/getByRoleId?roleId=2", token=admin)
    assert [p["nameUri"] for p in held.data] == ["GET /api/v1/users"]
    assert_error(
        await api.fetch("POST", "/permission/assign", json={**body, "roleId": 999}, token=admin),
        404,
        msg.ROLE_NOT_FOUND.format(id=999),
    )
    assert_error(
        await api.fetch("POST", "/permission/assign", json={**body, "permissionId": 999}, token=admin),
        404,
        msg.PERMISSION_NOT_FOUND.format(id=999),
    )
    cases = [
        ({}, "'roleId' es requerido. 'permissionId' es requerido"),
        (
            {"roleId": True, "permissionId": False},
            "'roleId' debe ser de tipo number. 'permissionId' debe ser de tipo number",
        ),
        ({"roleId": "2", "permissionId": 1}, "'roleId' debe ser de tipo number"),
        ({"roleId": 0, "permissionId": 1}, "'roleId' debe ser mayor o igual a 1"),
        ({"roleId": 2, "permissionId": 2**53}, f"'permissionId' debe ser menor o igual a {2**53 - 1}"),
    ]
    for bad, message in cases:
        assert_error(await api.fetch("POST", "/permission/assign", json=bad, token=admin), 400, message)


async def test_unassign_takes_a_json_body(api):
    admin = await api.login()
    ids = await catalog_ids(api, admin)
    body = {"roleId": USER_ROLE, "permissionId": ids["GET /api/v1/users"]}
    await api.fetch("POST", "/permission/assign", json=body, token=admin)
    removed = await api.fetch("DELETE", "/permission/unassign", json=body, token=admin)
    assert removed.status == 200 and removed.body["message"] == msg.PERMISSION_UNASSIGNED and removed.data == body
    assert (await api.fetch("GET", "/permission/getByRoleId?roleId=2", token=admin)).data == []
    assert_error(
        await api.fetch("DELETE", "/permission/unassign", json=body, token=admin), 404, msg.PERMISSION_NOT_ASSIGNED
    )
    assert_error(
        await api.fetch("DELETE", "/permission/unassign", token=admin),
        400,
        "'roleId' es requerido. 'permissionId' es requerido",
    )
    assert_error(
        await api.fetch("DELETE", "/permission/unassign", json={**body, "roleId": 999}, token=admin),
        404,
        msg.ROLE_NOT_FOUND.format(id=999),
    )


async def test_delete_removes_assignments(api):
    admin = await api.login()
    created = await api.fetch(
        "POST", "/permission/register", json={"nameUri": "GET /api/v1/extra", "description": None}, token=admin
    )
    permission_id = created.data["idPermission"]
    assert created.data["description"] is None
    await api.fetch(
        "POST", "/permission/assign", json={"roleId": USER_ROLE, "permissionId": permission_id}, token=admin
    )
    deleted = await api.fetch("DELETE", f"/permission/{permission_id}", token=admin)
    assert deleted.status == 200 and deleted.body == {"success": True, "message": msg.PERMISSION_DELETED, "data": None}
    assert (await api.fetch("GET", "/permission/getByRoleId?roleId=2", token=admin)).data == []
    assert permission_id not in (await catalog_ids(api, admin)).values()
    assert_error(
        await api.fetch("DELETE", f"/permission/{permission_id}", token=admin),
        404,
        msg.PERMISSION_NOT_FOUND.format(id=permission_id),
    )
    assert_error(await api.fetch("DELETE", "/permission/abc", token=admin), 400, "'id' debe ser de tipo number")

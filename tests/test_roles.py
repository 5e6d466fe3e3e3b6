# SPDX-License-Identifier: MIT
"""/roles: list, create, edit, delete."""

import pytest  # noqa

import messages as msg
from tests.support.clients import assert_error

pytestmark = pytest.mark.both_backends


async def test_list(api):
    admin = await api.login()
    roles = await api.fetch("GET", "/roles", token=admin)
    assert roles.status == 200 and roles.body["message"] == msg.ROLES_FETCHED
    assert roles.data == [
        {"idRole": 1, "roleName": "admin", "description": "Administrador del sistema"},
        {"idRole": 2, "roleName": "user", "description": "Usuario estándar"},
    ]


async def test_create(api):
    admin = await api.login()
    created = await api.fetch("POST", "/roles", json={"roleName": " editor ", "description": "Edita"}, token=admin)
    assert created.status == 201 and created.body["message"] == msg.ROLE_CREATED
    assert created.data == {"idRole": 3, "roleName": "editor", "description": "Edita"}
    bare = await api.fetch("POST", "/roles", json={"roleName": "viewer", "idRole": 1}, token=admin)
    assert bare.status == 201 and bare.data == {"idRole": 4, "roleName": "viewer", "description": None}
    assert_error(
        await api.fetch("POST", "/roles", json={"roleName": "ADMIN"}, token=admin),
        409,
        msg.ROLE_EXISTS.format(name="ADMIN"),
    )
    assert len((await api.fetch("GET", "/roles", token=admin)).data) == 4


async def test_create_validation(api):
    admin = await api.login()
    cases = [
        ({}, "'roleName' es requerido"),
        ({"roleName": "x"}, "'roleName' debe tener al menos 2 caracteres"),
        ({"roleName": "x" * 51}, "'roleName' no debe exceder 50 caracteres"),
        # limits count what was sent (the OpenAPI maxLength), the minimum counts what is kept after trimming
        ({"roleName": "x" * 50 + "\u00a0"}, "'roleName' no debe exceder 50 caracteres"),
        ({"roleName": " x "}, "'roleName' debe tener al menos 2 caracteres"),
        ({"roleName": 42}, "'roleName' debe ser de tipo string"),
        ({"roleName": "ok", "description": 5}, "'description' debe ser de tipo string"),
        ({"roleName": "ok", "description": "d" * 256}, "'description' no debe exceder 255 caracteres"),
        ({"roleName": None, "description": False}, "'roleName' es requerido. 'description' debe ser de tipo string"),
    ]
    for body, message in cases:
        assert_error(await api.fetch("POST", "/roles", json=body, token=admin), 400, message)


async def test_update(api):
    admin = await api.login()
    role_id = await api.create_role(admin, "editor")
    renamed = await api.fetch("PUT", f"/roles/{role_id}", json={"roleName": "editora"}, token=admin)
    assert renamed.status == 200 and renamed.body["message"] == msg.ROLE_UPDATED
    assert renamed.data == {"idRole": role_id, "roleName": "editora", "description": None}
    described = await api.fetch("PUT", f"/roles/{role_id}", json={"description": "Escribe"}, token=admin)
    assert described.data == {"idRole": role_id, "roleName": "editora", "description": "Escribe"}
    cleared = await api.fetch("PUT", f"/roles/{role_id}", json={"description": None}, token=admin)
    assert cleared.data["description"] is None
    same_name = await api.fetch("PUT", f"/roles/{role_id}", json={"roleName": "EDITORA"}, token=admin)
    assert same_name.status == 200
    refused = [
        (f"/roles/{role_id}", {"roleName": "User"}, 409, msg.ROLE_EXISTS.format(name="User")),
        (f"/roles/{role_id}", {}, 400, msg.NOTHING_TO_UPDATE),
        (f"/roles/{role_id}", {"roleName": "x"}, 400, "'roleName' debe tener al menos 2 caracteres"),
        ("/roles/999", {"roleName": "nadie"}, 404, msg.ROLE_NOT_FOUND.format(id=999)),
        ("/roles/x", {"roleName": "nadie"}, 400, "'idRole' debe ser de tipo number"),
    ]
    for path, body, status, message in refused:
        assert_error(await api.fetch("PUT", path, json=body, token=admin), status, message)


async def test_delete(api):
    admin = await api.login()
    role_id = await api.create_role(admin, "temporal", ["GET /api/v1/users"])
    user_id = await api.create_user(admin, "holder@seam.test", role_id)
    assert_error(await api.fetch("DELETE", f"/roles/{role_id}", token=admin), 409, msg.ROLE_IN_USE)
    await api.fetch("DELETE", f"/users/{user_id}", token=admin)
    deleted = await api.fetch("DELETE", f"/roles/{role_id}", token=admin)
    assert deleted.status == 200 and deleted.body == {"success": True, "message": msg.ROLE_DELETED, "data": None}
    assert [r["idRole"] for r in (await api.fetch("GET", "/roles", token=admin)).data] == [1, 2]
    # Its permission assignments went with it.
    by_role = await api.fetch("GET", f"/permission/getByRoleId?roleId={role_id}", token=admin)
    assert by_role.status == 200 and by_role.data == []
    assert_error(
        await api.fetch("DELETE", f"/roles/{role_id}", token=admin), 404, msg.ROLE_NOT_FOUND.format(id=role_id)
    )

# SPDX-License-Identifier: MIT
"""/sidebar: the caller's menu, every item with roles, item CRUD and per-role assignment."""

import pytest  # noqa

import messages as msg
from tests.support.clients import PASSWORD, assert_error

pytestmark = pytest.mark.both_backends

USER_ROLE = 2


async def test_menus_per_role(api):
    admin = await api.login()
    mine = await api.fetch("GET", "/sidebar", token=admin)
    assert mine.status == 200 and mine.body["message"] == msg.SIDEBAR_FETCHED
    assert [i["nameItem"] for i in mine.data] == ["Usuarios", "Roles", "Permisos", "Menú", "Actividad"]
    assert mine.data[0] == {"idItem": 1, "nameItem": "Usuarios", "iconItem": "users", "route": "/users"}
    await api.create_user(admin, "plain@seam.test", USER_ROLE)
    plain = await api.login("plain@seam.test", PASSWORD)
    assert (await api.fetch("GET", "/sidebar", token=plain)).data == []
    everything = await api.fetch("GET", "/sidebar/items", token=admin)
    assert everything.status == 200 and len(everything.data) == 5
    assert everything.data[0] == {
        "idItem": 1,
        "nameItem": "Usuarios",
        "iconItem": "users",
        "route": "/users",
        "roles": [1],
    }


async def test_create(api):
    admin = await api.login()
    created = await api.fetch("POST", "/sidebar", json={"nameItem": "Informes"}, token=admin)
    assert created.status == 201 and created.body["message"] == msg.SIDEBAR_CREATED
    assert created.data == {"idItem": 6, "nameItem": "Informes", "iconItem": None, "route": None, "roles": []}
    full = await api.fetch(
        "POST", "/sidebar", json={"nameItem": "X", "iconItem": "chart", "route": "/reports"}, token=admin
    )
    assert full.data == {"idItem": 7, "nameItem": "X", "iconItem": "chart", "route": "/reports", "roles": []}
    cases = [
        ({}, "'nameItem' es requerido"),
        ({"nameItem": ""}, "'nameItem' debe tener al menos 1 caracteres"),
        ({"nameItem": "n" * 101}, "'nameItem' no debe exceder 100 caracteres"),
        ({"nameItem": "ok", "iconItem": "i" * 51}, "'iconItem' no debe exceder 50 caracteres"),
        ({"nameItem": "ok", "route": "r" * 101}, "'route' no debe exceder 100 caracteres"),
        (
            {"nameItem": 1, "iconItem": 2, "route": 3},
            "'nameItem' debe ser de tipo string. 'iconItem' debe ser de tipo string. 'route' debe ser de tipo string",
        ),
    ]
    for body, message in cases:
        assert_error(await api.fetch("POST", "/sidebar", json=body, token=admin), 400, message)


async def test_update_and_delete(api):
    admin = await api.login()
    created = await api.fetch("POST", "/sidebar", json={"nameItem": "Tmp", "route": "/temp"}, token=admin)
    item_id = created.data["idItem"]
    updated = await api.fetch("PUT", f"/sidebar/{item_id}", json={"iconItem": "star", "route": None}, token=admin)
    assert updated.status == 200 and updated.body["message"] == msg.SIDEBAR_UPDATED
    assert updated.data == {"idItem": item_id, "nameItem": "Tmp", "iconItem": "star", "route": None, "roles": []}
    refused = [
        (f"/sidebar/{item_id}", {}, 400, msg.NOTHING_TO_UPDATE),
        (f"/sidebar/{item_id}", {"nameItem": ""}, 400, "'nameItem' debe tener al menos 1 caracteres"),
        ("/sidebar/999", {"nameItem": "x"}, 404, msg.SIDEBAR_NOT_FOUND.format(id=999)),
    ]
    for path, body, status, message in refused:
        assert_error(await api.fetch("PUT", path, json=body, token=admin), status, message)
    await api.fetch("POST", f"/sidebar/{item_id}/role/{USER_ROLE}", token=admin)
    deleted = await api.fetch("DELETE", f"/sidebar/{item_id}", token=admin)
    assert deleted.status == 200 and deleted.body == {"success": True, "message": msg.SIDEBAR_DELETED, "data": None}
    assert item_id not in [i["idItem"] for i in (await api.fetch("GET", "/sidebar/items", token=admin)).data]
    assert_error(
        await api.fetch("DELETE", f"/sidebar/{item_id}", token=admin), 404, msg.SIDEBAR_NOT_FOUND.format(id=item_id)
    )


async def test_assign_and_unassign(api):
    admin = await api.login()
    assigned = await api.fetch("POST", f"/sidebar/1/role/{USER_ROLE}", token=admin)
    assert assigned.status == 201 and assigned.body["message"] == msg.SIDEBAR_ASSIGNED
    assert assigned.data == {"idRole": USER_ROLE, "idItem": 1, "roleName": "user", "nameItem": "Usuarios"}
    assert_error(
        await api.fetch("POST", f"/sidebar/1/role/{USER_ROLE}", token=admin), 409, msg.SIDEBAR_ALREADY_ASSIGNED
    )
    assert_error(await api.fetch("POST", "/sidebar/999/role/2", token=admin), 404, msg.SIDEBAR_NOT_FOUND.format(id=999))
    assert_error(await api.fetch("POST", "/sidebar/1/role/999", token=admin), 404, msg.ROLE_NOT_FOUND.format(id=999))
    assert_error(await api.fetch("POST", "/sidebar/x/role/2", token=admin), 400, "'idItem' debe ser de tipo number")
    await api.create_user(admin, "menu@seam.test", USER_ROLE)
    user = await api.login("menu@seam.test", PASSWORD)
    assert [i["idItem"] for i in (await api.fetch("GET", "/sidebar", token=user)).data] == [1]
    removed = await api.fetch("DELETE", f"/sidebar/1/role/{USER_ROLE}", token=admin)
    assert removed.status == 200 and removed.body["message"] == msg.SIDEBAR_UNASSIGNED
    assert removed.data == {"idRole": USER_ROLE, "idItem": 1, "roleName": "user", "nameItem": "Usuarios"}
    assert (await api.fetch("GET", "/sidebar", token=user)).data == []
    assert_error(await api.fetch("DELETE", f"/sidebar/1/role/{USER_ROLE}", token=admin), 404, msg.SIDEBAR_NOT_ASSIGNED)
    assert_error(
        await api.fetch("DELETE", "/sidebar/999/role/2", token=admin), 404, msg.SIDEBAR_NOT_FOUND.format(id=999)
    )

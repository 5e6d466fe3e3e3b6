# SPDX-License-Identifier: MIT
"""/users: list (paged, searchable), read, create, edit, state, reset password, delete."""

import asyncio

import pytest  # noqa

import messages as msg
from tests.support.clients import ADMIN_EMAIL, PASSWORD, assert_error
from tests.support.database import sql
from tests.support.realtime import barrier, changes, progress, statuses
from tests.test_auth import USER_FIELDS

pytestmark = pytest.mark.both_backends

USER_ROLE = 2


def new_user(email="ana@seam.test", full_name="Ana Pérez", role_id=USER_ROLE, password=PASSWORD):
    return {"full_name": full_name, "email": email, "password": password, "roleId": role_id}


async def test_list_shape_paging_and_search(api):
    admin = await api.login()
    for n in range(3):
        await api.create_user(admin, f"user{n}@seam.test", USER_ROLE, full_name=f"Persona {n}")
    listed = await api.fetch("GET", "/users", token=admin)
    assert listed.status == 200 and listed.body["message"] == msg.USERS_FETCHED
    assert listed.body["meta"] == {"page": 1, "limit": 50, "total": 4}
    assert [u["email"] for u in listed.data] == [ADMIN_EMAIL, "user0@seam.test", "user1@seam.test", "user2@seam.test"]
    assert set(listed.data[1]) == USER_FIELDS
    assert listed.data[1]["roleName"] == "user" and listed.data[1]["roleDescription"] == "Usuario estándar"
    assert listed.data[1]["isActive"] == 1
    page = await api.fetch("GET", "/users?page=2&limit=2", token=admin)
    assert [u["email"] for u in page.data] == ["user1@seam.test", "user2@seam.test"]
    assert page.body["meta"] == {"page": 2, "limit": 2, "total": 4}
    found = await api.fetch("GET", "/users?q=persona%201", token=admin)
    assert [u["email"] for u in found.data] == ["user1@seam.test"] and found.body["meta"]["total"] == 1
    by_email = await api.fetch("GET", "/users?q=USER2@", token=admin)
    assert [u["email"] for u in by_email.data] == ["user2@seam.test"]
    # LIKE wildcards in q are literal text.
    assert (await api.fetch("GET", "/users?q=%25", token=admin)).data == []
    assert (await api.fetch("GET", "/users?q=_", token=admin)).data == []


async def test_list_query_validation(api):
    admin = await api.login()
    cases = {
        "page=0": "'page' debe ser mayor o igual a 1",
        "page=abc": "'page' debe ser de tipo number",
        "page=-1": "'page' debe ser de tipo number",
        "limit=0": "'limit' debe ser mayor o igual a 1",
        "limit=201": "'limit' debe ser menor o igual a 200",
        "limit=true": "'limit' debe ser de tipo number",
        "page=0&limit=500": "'page' debe ser mayor o igual a 1. 'limit' debe ser menor o igual a 200",
        "q=" + "x" * 101: "'q' no debe exceder 100 caracteres",
    }
    for query, message in cases.items():
        assert_error(await api.fetch("GET", f"/users?{query}", token=admin), 400, message)


async def test_get_one(api):
    admin = await api.login()
    user_id = await api.create_user(admin, "one@seam.test", USER_ROLE)
    one = await api.fetch("GET", f"/users/{user_id}", token=admin)
    assert one.status == 200 and one.body["message"] == msg.USER_FETCHED
    assert set(one.data) == USER_FIELDS and one.data["email"] == "one@seam.test"
    assert_error(await api.fetch("GET", "/users/999", token=admin), 404, msg.USER_NOT_FOUND.format(id=999))
    assert_error(await api.fetch("GET", "/users/abc", token=admin), 400, "'id' debe ser de tipo number")


async def test_create(api):
    admin = await api.login()
    created = await api.fetch("POST", "/users", json={**new_user(), "isActive": 0, "idUser": 77}, token=admin)
    assert created.status == 201 and created.body["message"] == msg.USER_CREATED
    assert set(created.data) == USER_FIELDS
    # Unknown body fields are ignored, never written.
    assert created.data["isActive"] == 1 and created.data["idUser"] != 77
    assert created.data["full_name"] == "Ana Pérez" and created.data["roleName"] == "user"
    await api.login("ana@seam.test", PASSWORD)
    duplicate = await api.fetch("POST", "/users", json=new_user(email="ANA@seam.test"), token=admin)
    assert_error(duplicate, 409, msg.EMAIL_IN_USE)
    no_role = await api.fetch("POST", "/users", json=new_user(email="b@seam.test", role_id=999), token=admin)
    assert_error(no_role, 404, msg.ROLE_NOT_FOUND.format(id=999))


async def test_create_validation(api):
    admin = await api.login()
    cases = [
        ({}, "'full_name' es requerido. 'email' es requerido. 'password' es requerido. 'roleId' es requerido"),
        (new_user(full_name="A"), "'full_name' debe tener al menos 2 caracteres"),
        (new_user(full_name="  A  "), "'full_name' debe tener al menos 2 caracteres"),
        (new_user(full_name="A" * 101), "'full_name' no debe exceder 100 caracteres"),
        (new_user(full_name=12), "'full_name' debe ser de tipo string"),
        (new_user(email="not-an-email"), "'email' tiene un formato inválido"),
        (new_user(email="a b@c.de"), "'email' tiene un formato inválido"),
        (new_user(email=None), "'email' es requerido"),
        (new_user(password="short"), "'password' debe tener al menos 8 caracteres"),
        (new_user(password="p" * 101), "'password' no debe exceder 100 caracteres"),
        (new_user(role_id=True), "'roleId' debe ser de tipo number"),
        (new_user(role_id="2"), "'roleId' debe ser de tipo number"),
        (new_user(role_id=0), "'roleId' debe ser mayor o igual a 1"),
        (new_user(role_id=1.5), "'roleId' tiene un formato inválido"),
        (
            new_user(full_name="", email="x", password="", role_id=False),
            "'full_name' debe tener al menos 2 caracteres. 'email' tiene un formato inválido. "
            "'password' debe tener al menos 8 caracteres. 'roleId' debe ser de tipo number",
        ),
    ]
    for body, message in cases:
        assert_error(await api.fetch("POST", "/users", json=body, token=admin), 400, message)
    total = (await api.fetch("GET", "/users", token=admin)).body["meta"]["total"]
    assert total == 1


async def test_update(api):
    admin = await api.login()
    user_id = await api.create_user(admin, "edit@seam.test", USER_ROLE)
    await api.create_user(admin, "taken@seam.test", USER_ROLE)
    updated = await api.fetch(
        "PUT", f"/users/{user_id}", json={"full_name": "Nuevo Nombre", "isActive": 0, "roleId": 1}, token=admin
    )
    assert updated.status == 200 and updated.body["message"] == msg.USER_UPDATED
    assert updated.data["full_name"] == "Nuevo Nombre" and updated.data["roleName"] == "admin"
    assert updated.data["isActive"] == 1  # not an editable field here
    assert_error(
        await api.fetch("PUT", f"/users/{user_id}", json={"email": "TAKEN@seam.test"}, token=admin),
        409,
        msg.EMAIL_IN_USE,
    )
    same_email = await api.fetch("PUT", f"/users/{user_id}", json={"email": "EDIT@seam.test"}, token=admin)
    assert same_email.status == 200 and same_email.data["email"] == "EDIT@seam.test"
    assert_error(await api.fetch("PUT", f"/users/{user_id}", json={}, token=admin), 400, msg.NOTHING_TO_UPDATE)
    assert_error(
        await api.fetch("PUT", f"/users/{user_id}", json={"unknown": 1}, token=admin), 400, msg.NOTHING_TO_UPDATE
    )
    assert_error(
        await api.fetch("PUT", "/users/999", json={"full_name": "Nadie Aquí"}, token=admin),
        404,
        msg.USER_NOT_FOUND.format(id=999),
    )
    assert_error(
        await api.fetch("PUT", f"/users/{user_id}", json={"roleId": 999}, token=admin),
        404,
        msg.ROLE_NOT_FOUND.format(id=999),
    )
    assert_error(
        await api.fetch("PUT", f"/users/{user_id}", json={"roleId": True, "email": "x"}, token=admin),
        400,
        "'email' tiene un formato inválido. 'roleId' debe ser de tipo number",
    )
    assert_error(
        await api.fetch("PUT", f"/users/{user_id}", json={"password": "short"}, token=admin),
        400,
        "'password' debe tener al menos 8 caracteres",
    )


async def test_update_password_revokes_tokens(api):
    admin = await api.login()
    user_id = await api.create_user(admin, "pw@seam.test", USER_ROLE)
    token = await api.login("pw@seam.test", PASSWORD)
    changed = await api.fetch("PUT", f"/users/{user_id}", json={"password": "another-pass-1"}, token=admin)
    assert changed.status == 200
    assert_error(await api.fetch("GET", "/auth/me", token=token), 401, msg.TOKEN_INVALID)
    await api.login("pw@seam.test", "another-pass-1")


async def test_state_accepts_flags_and_writes_nothing_else(api, config):
    admin = await api.login()
    user_id = await api.create_user(admin, "state@seam.test", USER_ROLE)
    for value, expected, message in (
        (False, 0, msg.USER_DEACTIVATED),
        (True, 1, msg.USER_ACTIVATED),
        (0, 0, msg.USER_DEACTIVATED),
        (1, 1, msg.USER_ACTIVATED),
    ):
        body = {"isActive": value, "email": "hacked@seam.test", "full_name": "Hacked", "roleId": 1}
        response = await api.fetch("PUT", f"/users/{user_id}/state", json=body, token=admin)
        assert response.status == 200 and response.body["message"] == message
        assert response.data["isActive"] == expected
        assert set(response.data) == USER_FIELDS
    [row] = sql(config, "SELECT email, full_name, roleId FROM users WHERE idUser = ?", (user_id,))
    assert row == ("state@seam.test", "Test User", USER_ROLE)
    for bad in (2, -1, "1", "true", 0.5, [], {}):
        assert_error(
            await api.fetch("PUT", f"/users/{user_id}/state", json={"isActive": bad}, token=admin),
            400,
            "'isActive' debe ser de tipo boolean",
        )
    assert_error(
        await api.fetch("PUT", f"/users/{user_id}/state", json={}, token=admin), 400, "'isActive' es requerido"
    )
    assert_error(
        await api.fetch("PUT", "/users/999/state", json={"isActive": 1}, token=admin),
        404,
        msg.USER_NOT_FOUND.format(id=999),
    )


async def test_disable_revokes_token_at_once(api):
    admin = await api.login()
    user_id = await api.create_user(admin, "off@seam.test", USER_ROLE)
    token = await api.login("off@seam.test", PASSWORD)
    assert (await api.fetch("GET", "/auth/me", token=token)).status == 200
    await api.fetch("PUT", f"/users/{user_id}/state", json={"isActive": False}, token=admin)
    assert_error(await api.fetch("GET", "/auth/me", token=token), 401, msg.TOKEN_INVALID)


async def test_reset_password(api):
    admin = await api.login()
    user_id = await api.create_user(admin, "reset@seam.test", USER_ROLE)
    token = await api.login("reset@seam.test", PASSWORD)
    reset = await api.fetch("PUT", f"/users/{user_id}/resetPassword", token=admin)
    assert reset.status == 200 and reset.body["message"] == msg.USER_PASSWORD_RESET
    assert set(reset.data) == {"temporaryPassword"} and len(reset.data["temporaryPassword"]) >= 8
    assert_error(await api.fetch("GET", "/auth/me", token=token), 401, msg.TOKEN_INVALID)
    old = await api.fetch("POST", "/auth/login", json={"email": "reset@seam.test", "password": PASSWORD})
    assert_error(old, 401, msg.BAD_CREDENTIALS)
    login = await api.fetch(
        "POST", "/auth/login", json={"email": "reset@seam.test", "password": reset.data["temporaryPassword"]}
    )
    assert login.status == 200 and login.data["mustChangePassword"] is True
    changed = await api.fetch(
        "PUT",
        "/auth/password",
        json={"currentPassword": reset.data["temporaryPassword"], "newPassword": "my-own-pass"},
        token=login.data["token"],
    )
    me = await api.fetch("GET", "/auth/me", token=changed.data["token"])
    assert me.data["mustChangePassword"] is False and me.data["user"]["mustChangePassword"] == 0
    # A body is not needed and, when sent, not read.
    again = await api.fetch("PUT", f"/users/{user_id}/resetPassword", json={"password": "chosen-pass"}, token=admin)
    assert again.status == 200 and again.data["temporaryPassword"] != "chosen-pass"
    assert_error(
        await api.fetch("PUT", "/users/999/resetPassword", token=admin), 404, msg.USER_NOT_FOUND.format(id=999)
    )


async def test_delete(api):
    admin = await api.login()
    user_id = await api.create_user(admin, "gone@seam.test", USER_ROLE)
    token = await api.login("gone@seam.test", PASSWORD)
    deleted = await api.fetch("DELETE", f"/users/{user_id}", token=admin)
    assert deleted.status == 200 and deleted.body == {"success": True, "message": msg.USER_DELETED, "data": None}
    assert_error(await api.fetch("GET", f"/users/{user_id}", token=admin), 404, msg.USER_NOT_FOUND.format(id=user_id))
    assert_error(await api.fetch("GET", "/auth/me", token=token), 401, msg.TOKEN_INVALID)
    assert_error(
        await api.fetch("DELETE", f"/users/{user_id}", token=admin), 404, msg.USER_NOT_FOUND.format(id=user_id)
    )


async def test_concurrent_creations_with_one_email(api):
    admin = await api.login()
    attempts = [
        api.fetch("POST", "/users", json=new_user(email="race@seam.test" if n % 2 else "Race@SEAM.test"), token=admin)
        for n in range(6)
    ]
    statuses = sorted(r.status for r in await asyncio.gather(*attempts))
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert (await api.fetch("GET", "/users?q=race", token=admin)).body["meta"]["total"] == 1


async def test_nobody_deletes_or_disables_their_own_account(api, sockets, services):
    """One click in a confirm dialog used to delete the admin's own account: 409, nothing changes, nothing is
    announced; another admin still can, and re-enabling oneself (already active) is harmless."""
    admin = await api.login()
    tab = await sockets(admin)
    before = await services.changes.latest_seq()
    headers = {"X-Socket-ID": tab.sid}
    refusals = [
        ("DELETE", "/users/1", None, msg.SELF_DELETE),
        ("PUT", "/users/1/state", {"isActive": 0}, msg.SELF_DISABLE),
        ("PUT", "/users/1/state", {"isActive": False}, msg.SELF_DISABLE),
    ]
    for n, (method, path, body, message) in enumerate(refusals):
        refused = await api.fetch(method, path, json=body, token=admin, headers={**headers, "X-Operation-ID": f"s{n}"})
        assert_error(refused, 409, message)
    assert await services.changes.latest_seq() == before
    await barrier(api, admin, tab)
    for n, (_, _, _, message) in enumerate(refusals):
        assert statuses(tab, f"s{n}") == ["start", "error"] and progress(tab, f"s{n}")[-1] == ("error", message)
    assert [c["operation"] for c in changes(tab)] == ["roles:create"]  # the barrier's, nothing else
    assert (await api.fetch("PUT", "/users/1/state", json={"isActive": 1}, token=admin)).status == 200
    me = await api.fetch("GET", "/auth/me", token=admin)
    assert me.status == 200 and me.data["user"]["isActive"] == 1

    second = await api.create_user(admin, "second@seam.test", 1)
    other = await api.login("second@seam.test", PASSWORD)
    assert_error(await api.fetch("DELETE", f"/users/{second}", token=other), 409, msg.SELF_DELETE)
    assert (await api.fetch("DELETE", "/users/1", token=other)).status == 200

# SPDX-License-Identifier: MIT
"""SPEC §3–§5 safety rules: throttling, registration policy, lock-out guard, secrets, bcrypt off the loop."""

import asyncio

import pytest

import messages as msg
from bench.seam_process import seam_env
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, assert_error
from tests.support.database import sql
from tests.support.processes import run_seam

pytestmark = pytest.mark.both_backends

USER_ROLE = 2
ASSIGN = "POST /api/v1/permission/assign"


def registration(role_id=1, email="new@seam.test"):
    return {"full_name": "Nueva Persona", "email": email, "password": PASSWORD, "roleId": role_id}


# --- login throttling -------------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{"login_max_failures": 3}])
async def test_login_throttled_per_email(api, overrides):
    wrong = {"email": ADMIN_EMAIL, "password": "wrong-password"}
    for _ in range(3):
        assert_error(await api.fetch("POST", "/auth/login", json=wrong), 401, msg.BAD_CREDENTIALS)
    # Once throttled, even the right password is refused until the window passes.
    blocked = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert_error(blocked, 429, msg.RATE_LIMITED)
    assert 1 <= int(blocked.headers["Retry-After"]) <= 15 * 60


@pytest.mark.parametrize("overrides", [{"login_max_failures": 3}])
async def test_login_throttled_per_address(api, overrides):
    for n in range(3):
        unknown = {"email": f"ghost{n}@seam.test", "password": "whatever-pass"}
        assert_error(await api.fetch("POST", "/auth/login", json=unknown), 401, msg.BAD_CREDENTIALS)
    blocked = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert_error(blocked, 429, msg.RATE_LIMITED)
    assert int(blocked.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("overrides", [{"login_max_failures": 3}])
async def test_successes_do_not_count(api, overrides):
    for _ in range(5):
        await api.login()
    wrong = {"email": ADMIN_EMAIL, "password": "wrong-password"}
    for _ in range(2):
        assert_error(await api.fetch("POST", "/auth/login", json=wrong), 401, msg.BAD_CREDENTIALS)
    await api.login()


# --- registration policy ----------------------------------------------------------------------


async def test_anonymous_registration_refused_by_default(api, config):
    assert_error(await api.fetch("POST", "/auth/register", json=registration()), 403, msg.REGISTRATION_CLOSED)
    assert sql(config, "SELECT COUNT(*) FROM users")[0][0] == 1


@pytest.mark.parametrize("overrides", [{"open_registration": True}])
async def test_open_registration_forces_the_default_role(api, overrides):
    created = await api.fetch("POST", "/auth/register", json=registration(role_id=1))
    assert created.status == 201 and created.body["message"] == msg.REGISTERED
    assert created.data["roleId"] == USER_ROLE and created.data["roleName"] == "user"
    user = await api.login("new@seam.test", PASSWORD)
    assert_error(await api.fetch("GET", "/users", token=user), 403, msg.FORBIDDEN)
    unknown_role = await api.fetch("POST", "/auth/register", json=registration(role_id=999, email="b@seam.test"))
    assert unknown_role.status == 201 and unknown_role.data["roleId"] == USER_ROLE
    assert_error(
        await api.fetch("POST", "/auth/register", json={}),
        400,
        "'full_name' es requerido. 'email' es requerido. 'password' es requerido. 'roleId' es requerido",
    )
    assert_error(
        await api.fetch("POST", "/auth/register", json=registration(role_id=True, email="c@seam.test")),
        400,
        "'roleId' debe ser de tipo number",
    )
    assert_error(await api.fetch("POST", "/auth/register", json=registration()), 409, msg.EMAIL_IN_USE)
    # An authenticated caller without the register permission is still refused.
    assert_error(
        await api.fetch("POST", "/auth/register", json=registration(email="d@seam.test"), token=user),
        403,
        msg.FORBIDDEN,
    )


@pytest.mark.parametrize("overrides", [{"open_registration": True}])
async def test_the_default_role_is_kept_by_id_whatever_roles_are_renamed(api, config, overrides):
    """The attack: `PUT /roles/:idRole` alone made you admin: rename admin to default_role's name, register."""
    admin = await api.login()
    assert (await api.fetch("PUT", "/roles/2", json={"roleName": "staff"}, token=admin)).status == 200
    assert (await api.fetch("PUT", "/roles/1", json={"roleName": "user"}, token=admin)).status == 200
    created = await api.fetch("POST", "/auth/register", json=registration(role_id=1))
    assert created.status == 201 and (created.data["roleId"], created.data["roleName"]) == (USER_ROLE, "staff")
    stored = dict(sql(config, "SELECT key, value FROM settings WHERE key LIKE 'default_role%'"))
    assert stored == {"default_role_name": "user", "default_role_id": str(USER_ROLE)}


@pytest.mark.parametrize("overrides", [{"open_registration": True}])
async def test_open_registration_without_the_default_role_is_closed(api, config, overrides):
    """The default role deleted at run time: refused cleanly, not a 500; a new role of its name is not it."""
    admin = await api.login()
    assert (await api.fetch("DELETE", "/roles/2", token=admin)).status == 200
    assert_error(await api.fetch("POST", "/auth/register", json=registration()), 403, msg.REGISTRATION_CLOSED)
    assert (await api.fetch("POST", "/roles", json={"roleName": "user"}, token=admin)).status == 201
    assert_error(await api.fetch("POST", "/auth/register", json=registration()), 403, msg.REGISTRATION_CLOSED)
    assert sql(config, "SELECT COUNT(*) FROM users")[0][0] == 1


@pytest.mark.timeout(180)
def test_the_default_role_survives_restarts_and_follows_the_setting(processes, tmp_path):
    """Restart after renames keeps the id; naming another role in the setting resolves it anew at that start."""
    first = processes.seam(name="first", db_path="seam.db", open_registration=True)
    admin = first.login()
    assert first.request("PUT", "/roles/2", {"roleName": "staff"}, admin)[0] == 200
    assert first.request("PUT", "/roles/1", {"roleName": "user"}, admin)[0] == 200
    guest = first.request("POST", "/roles", {"roleName": "guest"}, admin)[1]["data"]["idRole"]
    assert first.stop() == 0
    second = processes.seam(name="second", db_path="seam.db", open_registration=True)
    status, created = second.request("POST", "/auth/register", registration(email="a@seam.test"))
    assert status == 201 and created["data"]["roleName"] == "staff"
    assert second.stop() == 0
    third = processes.seam(name="third", db_path="seam.db", open_registration=True, default_role="guest")
    status, created = third.request("POST", "/auth/register", registration(email="b@seam.test"))
    assert status == 201 and created["data"]["roleId"] == guest
    empty = third.request("POST", "/roles", {"roleName": "empty"}, third.login())[1]["data"]["idRole"]
    assert third.stop() == 0
    fourth = processes.seam(name="fourth", db_path="seam.db", open_registration=False, default_role="empty")
    assert fourth.request("DELETE", f"/roles/{empty}", None, fourth.login())[0] == 200
    assert fourth.stop() == 0
    refused = run_seam(cwd=tmp_path, env=seam_env(db_path="seam.db", open_registration=True, default_role="empty"))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "seam: invalid setting 'default_role': the role 'empty' named when it was set (id 4) was deleted;"
        " set it to another role's name"
    ]


async def test_register_permission_lets_the_caller_choose_the_role(api):
    admin = await api.login()
    created = await api.fetch("POST", "/auth/register", json=registration(role_id=1), token=admin)
    assert created.status == 201 and created.data["roleId"] == 1 and created.data["roleName"] == "admin"
    assert_error(
        await api.fetch("POST", "/auth/register", json=registration(role_id=999, email="x@seam.test"), token=admin),
        404,
        msg.ROLE_NOT_FOUND.format(id=999),
    )
    await api.create_user(admin, "plain@seam.test", USER_ROLE)
    plain = await api.login("plain@seam.test", PASSWORD)
    body = registration(email="y@seam.test")
    assert_error(await api.fetch("POST", "/auth/register", json=body, token=plain), 403, msg.FORBIDDEN)
    assert_error(await api.fetch("POST", "/auth/register", json=body, token="bad"), 401, msg.TOKEN_INVALID)


# --- lock-out guard (SPEC §4) -----------------------------------------------------------------


def snapshot(config):
    users = sql(config, "SELECT idUser, roleId, isActive FROM users ORDER BY idUser")
    grants = sql(config, "SELECT roleId, permissionId FROM permissionXRole ORDER BY 1, 2")
    permissions = sql(config, "SELECT COUNT(*) FROM permissions")[0][0]
    return users, grants, permissions


async def test_lockout_guard_protects_the_last_granter(api, config):
    admin = await api.login()
    catalog = {p["nameUri"]: p["idPermission"] for p in (await api.fetch("GET", "/permission", token=admin)).data}
    assign_id = catalog[ASSIGN]
    # A role that holds the permission but has no active user does not count.
    spare = await api.create_role(admin, "spare", [ASSIGN])
    idle = await api.create_user(admin, "idle@seam.test", spare)
    assert (await api.fetch("PUT", f"/users/{idle}/state", json={"isActive": 0}, token=admin)).status == 200
    before = snapshot(config)
    # Deleting or disabling oneself is refused before the guard (test_users); another caller able to do it
    # would hold the permission itself (containment), so the guard's own cases are a role change and a revoke.
    attempts = [
        ("PUT", "/users/1", {"roleId": USER_ROLE}),
        ("DELETE", "/permission/unassign", {"roleId": 1, "permissionId": assign_id}),
        ("DELETE", f"/permission/{assign_id}", None),
    ]
    for method, path, body in attempts:
        assert_error(await api.fetch(method, path, json=body, token=admin), 409, msg.LOCKOUT)
    assert snapshot(config) == before
    assert (await api.fetch("GET", "/auth/me", token=admin)).status == 200
    # Unassigning from a role with no active users is fine.
    freed = await api.fetch(
        "DELETE", "/permission/unassign", json={"roleId": spare, "permissionId": assign_id}, token=admin
    )
    assert freed.status == 200


async def test_lockout_guard_allows_when_another_granter_remains(api):
    admin = await api.login()
    second = await api.create_user(admin, "second@seam.test", 1)
    token = await api.login("second@seam.test", PASSWORD)
    assert (await api.fetch("PUT", "/users/1/state", json={"isActive": 0}, token=token)).status == 200
    # Now "second" is the last one.
    assert_error(await api.fetch("PUT", f"/users/{second}", json={"roleId": USER_ROLE}, token=token), 409, msg.LOCKOUT)
    assert (await api.fetch("PUT", "/users/1/state", json={"isActive": 1}, token=token)).status == 200
    assert (await api.fetch("PUT", f"/users/{second}", json={"roleId": USER_ROLE}, token=token)).status == 200


# --- secrets ----------------------------------------------------------------------------------


async def test_no_secret_in_responses_or_change_rows(api, config):
    """conftest checks every response of the suite; here every user-touching route runs once."""
    admin = await api.login()
    user_id = await api.create_user(admin, "s@seam.test", USER_ROLE)
    reset = await api.fetch("PUT", f"/users/{user_id}/resetPassword", token=admin)
    temporary = reset.data["temporaryPassword"]
    user = await api.login("s@seam.test", temporary)
    changed = await api.fetch(
        "PUT", "/auth/password", json={"currentPassword": temporary, "newPassword": "final-pass-1"}, token=user
    )
    user = changed.data["token"]
    for method, path, body in (
        ("GET", "/users", None),
        ("GET", f"/users/{user_id}", None),
        ("PUT", f"/users/{user_id}", {"full_name": "Otra Persona", "password": "another-pass"}),
        ("PUT", f"/users/{user_id}/state", {"isActive": 1}),
        ("POST", "/auth/register", registration(email="r@seam.test")),
        ("GET", "/auth/me", None),
    ):
        response = await api.fetch(method, path, json=body, token=admin)
        assert response.status in (200, 201), (path, response.body)
    rows = sql(config, "SELECT operation, message, data, before, after FROM changes")
    assert rows
    dump = repr(rows)
    assert "$2b$" not in dump and temporary not in dump and "final-pass-1" not in dump
    assert "another-pass" not in dump and '"password"' not in dump


# --- bcrypt off the event loop ----------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("overrides", [{"bcrypt_rounds": 12}])
async def test_login_in_flight_does_not_stall_other_requests(api, services, overrides):
    """Health checks complete while a password check is still running: the loop was never blocked.

    Were bcrypt run on the loop, no other coroutine could ever observe a check in flight.
    """
    in_flight = 0
    original = services.passwords.check

    async def observed_check(password, digest, client=None):
        nonlocal in_flight
        in_flight += 1
        try:
            return await original(password, digest, client)
        finally:
            in_flight -= 1

    services.passwords.check = observed_check
    body = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    logins = [asyncio.ensure_future(api.fetch("POST", "/auth/login", json=body)) for _ in range(4)]
    overlapped = 0
    for _ in range(2000):
        if all(task.done() for task in logins):
            break
        health = await api.fetch("GET", "/healthz", prefix="")
        assert health.status == 200
        overlapped += in_flight > 0
    results = await asyncio.gather(*logins)
    assert [r.status for r in results] == [200] * 4
    assert overlapped > 0

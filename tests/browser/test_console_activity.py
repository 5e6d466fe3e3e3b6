# SPDX-License-Identifier: MIT
"""Issue 18.10, the activity screen: actor and target by name, the date, a diff for updates, filters by resource,
actor and date range, maintenance commands as "mantenimiento", and logins (success and failure) without passwords."""

import datetime

import pytest
from playwright.sync_api import expect

from bench.seam_process import seam_env
from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, goto, login_live, shot
from tests.support.processes import run_seam

pytestmark = pytest.mark.browser

# Each timeline entry as text: its line (message, target…), its diff rows, who made it.
ENTRIES = """() => [...document.querySelectorAll('.timeline-item')].map((item) => ({
  line: [...item.querySelector('.timeline-line').children].map((c) => c.textContent).join(' | '),
  diff: [...item.querySelectorAll('.diff li')].map((d) => [...d.children].map((c) => c.textContent).join(' ')),
  meta: item.querySelector('.timeline-meta > span').textContent,
}))"""


def entries(page, count):
    expect(page.locator(".timeline-item")).to_have_count(count)
    return page.evaluate(ENTRIES)


def choose(page, name, label):
    page.select_option(f".filters [name={name}]", label=label)


def test_activity_names_who_did_what_and_filters_it(open_page, server, tmp_path):
    api = server.api
    token = api.login()
    role = api.ok("POST", "/roles", {"roleName": "Soporte"}, token)["idRole"]
    api.ok("PUT", f"/roles/{role}", {"description": "Atiende incidencias"}, token)
    lucia = api.create_user(token, "lucia@seam.test", role, "Lucía Pérez")
    api.ok("PUT", f"/users/{lucia}", {"full_name": "Lucía Pérez Gil"}, token)
    read_users = api.permission_id(token, "GET /api/v1/users")
    api.ok("POST", "/permission/assign", {"roleId": role, "permissionId": read_users}, token)
    doomed = api.ok("POST", "/roles", {"roleName": "Temporal"}, token)["idRole"]
    api.ok("DELETE", f"/roles/{doomed}", token=token)
    env = seam_env(db_path=server.db_path, bcrypt_rounds=4, admin_email=ADMIN_EMAIL)
    reset = run_seam("reset-password", "lucia@seam.test", cwd=tmp_path, env=env)
    assert reset.returncode == 0, reset.stderr
    temporary = reset.stdout.rsplit(": ", 1)[1].split()[0]
    for email, password in (("lucia@seam.test", "no-es-su-clave"), ("quien-sabe@seam.test", "probando-1")):
        assert server.request("POST", "/auth/login", {"email": email, "password": password})[0] == 401

    _, page, _ = open_page()
    login_live(page)
    goto(page, "/activity")
    everything = [
        {
            "line": "Contraseña restablecida exitosamente | Lucía Pérez Gil · lucia@seam.test",
            "diff": ["Debe cambiar contraseña No → Sí"],
            "meta": "por mantenimiento",
        },
        {"line": "Rol eliminado exitosamente | Temporal", "diff": [], "meta": "por Administrador"},
        {"line": "Rol creado exitosamente | Temporal", "diff": [], "meta": "por Administrador"},
        {
            "line": "Permiso asignado exitosamente | GET/api/v1/users | → rol Soporte",
            "diff": [],
            "meta": "por Administrador",
        },
        {
            "line": "Usuario actualizado exitosamente | Lucía Pérez Gil · lucia@seam.test",
            "diff": ["Nombre completo Lucía Pérez → Lucía Pérez Gil"],
            "meta": "por Administrador",
        },
        {
            "line": "Usuario creado exitosamente | Lucía Pérez · lucia@seam.test",
            "diff": [],
            "meta": "por Administrador",
        },
        {
            "line": "Rol actualizado exitosamente | Soporte",
            "diff": ["Descripción — → Atiende incidencias"],
            "meta": "por Administrador",
        },
        {"line": "Rol creado exitosamente | Soporte", "diff": [], "meta": "por Administrador"},
    ]
    assert entries(page, 8) == everything
    # The local days the changes were made on (two only if the test ran across midnight).
    days = sorted(
        {datetime.datetime.fromisoformat(c["at"]).astimezone().date() for c in api.ok("GET", "/changes", token=token)}
    )
    first_day, last_day = days[0], days[-1]
    expect(page.locator(".timeline-item time").first).to_contain_text(str(last_day.year))
    shot(page, "activity-desktop")

    # By resource, by actor (maintenance included), by date range; cleared again.
    choose(page, "resource", "Roles")
    assert entries(page, 4) == [everything[i] for i in (1, 2, 6, 7)]
    choose(page, "actor", "Mantenimiento o registro público")
    expect(page.locator(".empty-title")).to_have_text("Nada coincide con los filtros")
    choose(page, "resource", "Usuarios")
    assert entries(page, 1) == everything[:1]
    shot(page, "activity-filtered-desktop")
    page.click("[data-action=clear-filters]")
    assert entries(page, 8) == everything
    page.fill(".filters [name=from]", (last_day + datetime.timedelta(days=1)).isoformat())
    expect(page.locator(".empty-title")).to_have_text("Nada coincide con los filtros")
    page.fill(".filters [name=from]", first_day.isoformat())
    page.fill(".filters [name=to]", last_day.isoformat())
    assert entries(page, 8) == everything
    page.fill(".filters [name=to]", (first_day - datetime.timedelta(days=1)).isoformat())
    expect(page.locator(".empty-title")).to_have_text("Nada coincide con los filtros")
    page.click("[data-action=clear-filters]")

    # Live: a change made elsewhere arrives on top, named, only while it matches the filters.
    choose(page, "resource", "Roles")
    expect(page.locator(".timeline-item")).to_have_count(4)
    api.ok("POST", "/sidebar", {"nameItem": "Informes"}, token)
    api.ok("PUT", f"/roles/{role}", {"roleName": "Soporte N2"}, token)
    first = page.locator(".timeline-item").first
    expect(first).to_contain_text("Rol actualizado exitosamente")
    expect(first.locator(".diff")).to_have_text("Nombre del rolSoporte→Soporte N2")
    expect(page.locator(".timeline-item")).to_have_count(5)

    # Logins: successes and failures, the account named only when it exists, never a password.
    page.click("[data-tab=logins]")
    logins = page.locator(".timeline-item")
    expect(logins).to_have_count(4)
    expect(logins.locator(".timeline-line")).to_have_text(
        [
            "Inicio de sesión correctoAdministrador · " + ADMIN_EMAIL,
            "Inicio de sesión fallidocuenta inexistente",
            "Inicio de sesión fallidoLucía Pérez Gil · lucia@seam.test",
            "Inicio de sesión correctoAdministrador · " + ADMIN_EMAIL,
        ]
    )
    expect(logins.locator(".address")).to_have_text(["desde 127.0.0.1"] * 4)
    for secret in ("no-es-su-clave", "probando-1", "quien-sabe", ADMIN_PASSWORD, PASSWORD, temporary):
        expect(page.locator(".view")).not_to_contain_text(secret)
    shot(page, "activity-logins-desktop")
    choose(page, "outcome", "Fallidos")
    expect(logins).to_have_count(2)
    choose(page, "actor", "Lucía Pérez Gil")
    expect(logins).to_have_count(1)
    expect(logins).to_contain_text("lucia@seam.test")


def test_older_activity_loads_on_demand(open_page, server):
    token = server.api.login()
    for n in range(55):
        server.api.ok("POST", "/roles", {"roleName": f"Rol {n:02d}"}, token)
    _, page, _ = open_page()
    login_live(page)
    goto(page, "/activity")
    expect(page.locator(".timeline-item")).to_have_count(50)
    expect(page.locator(".timeline-item").first).to_contain_text("Rol 54")
    page.click("[data-action=load-more]")
    expect(page.locator(".timeline-item")).to_have_count(55)
    expect(page.locator(".timeline-item").last).to_contain_text("Rol 00")
    expect(page.locator("[data-action=load-more]")).to_have_count(0)


def test_a_role_that_may_not_read_users_sees_ids_and_no_logins(open_page, server):
    token = server.api.login()
    role = server.api.ok("POST", "/roles", {"roleName": "Auditoría"}, token)["idRole"]
    activity = server.api.item_id(token, "Actividad")
    server.api.ok("POST", f"/sidebar/{activity}/role/{role}", token=token)
    server.api.create_user(token, "auditor@seam.test", role, "Auditora")
    server.api.ok("POST", "/roles", {"roleName": "Ventas"}, token)
    _, page, _ = open_page()
    login_live(page, "auditor@seam.test", PASSWORD)
    expect(page.locator(".timeline-item").first).to_contain_text("Rol creado exitosamente")
    expect(page.locator(".timeline-item").first.locator(".actor")).to_have_text("por usuario #1")
    expect(page.locator("[data-tab=logins]")).to_have_count(0)

# SPDX-License-Identifier: MIT
"""Scenarios 2–5: changes reach other tabs live, permissions and menus follow the session, revocation, reconnect."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    PASSWORD,
    add_role,
    admin_two,
    goto,
    login,
    login_live,
    row,
    same_rows,
    shot,
    submit,
    two_tabs_on_roles,
    wait_seq,
)

pytestmark = pytest.mark.browser
UNAVAILABLE = '{"success": false, "message": "La base de datos está ocupada por otro proceso"}'


def test_a_change_in_one_tab_appears_in_the_other_once(open_page, server):
    token = admin_two(server)
    _, first, _ = open_page()
    _, second, _ = open_page()
    login_live(first)
    login_live(second, "admin2@seam.test", PASSWORD)
    for page in (first, second):
        expect(page.locator("tbody tr")).to_have_count(2)

    first.click("[data-action=new-user]")
    first.fill("dialog [name=full_name]", "Tomás Ruiz")
    first.fill("dialog [name=email]", "tomas@seam.test")
    first.fill("dialog [name=password]", "una-clave-segura")
    submit(first)
    expect(row(second, "tomas@seam.test")).to_have_count(1)
    wait_seq(first, server.api.latest_seq(token))
    expect(row(first, "tomas@seam.test")).to_have_count(1)
    expect(first.locator("tbody tr")).to_have_count(3)

    # The other way round, on a row both tabs show: an in-place update, highlighted, never duplicated.
    tomas = row(second, "tomas@seam.test")
    tomas.locator("[data-action=edit]").click()
    second.fill("dialog [name=full_name]", "Tomás Ruiz Soto")
    submit(second)
    expect(row(first, "tomas@seam.test")).to_contain_text("Tomás Ruiz Soto")
    expect(row(first, "tomas@seam.test")).to_have_class("flash")
    wait_seq(second, server.api.latest_seq(token))
    expect(second.locator("tbody tr")).to_have_count(3)

    # Roles: created in one tab, listed once in both.
    for page in (first, second):
        goto(page, "/roles")
        expect(page.locator("tbody tr")).to_have_count(2)
    add_role(second, "Auditoría")
    expect(row(first, "Auditoría")).to_have_count(1)
    wait_seq(second, server.api.latest_seq(token))
    expect(row(second, "Auditoría")).to_have_count(1)
    for page in (first, second):
        expect(page.locator("tbody tr")).to_have_count(3)

    goto(first, "/activity")
    expect(first.locator(".timeline-item").first).to_contain_text("Rol creado exitosamente")
    goto(second, "/activity")
    same_rows(second, first, ".timeline-item")

    # The activity feed grows live in both tabs.
    server.api.ok("PUT", f"/roles/{server.api.role_id(token, 'Auditoría')}", {"description": "Revisión interna"}, token)
    for page in (first, second):
        expect(page.locator(".timeline-item").first).to_contain_text("Rol actualizado exitosamente")
        expect(page.locator(".timeline-item").first.locator(".actor")).to_have_text("por Administrador")  # actorId
        expect(page.locator(".timeline-item").first).to_have_class("timeline-item flash")
    same_rows(second, first, ".timeline-item")


def test_a_limited_users_menu_and_buttons_follow_grants_live(open_page, server):
    token = server.api.login()
    role_id = server.api.ok("POST", "/roles", {"roleName": "Soporte", "description": "Mesa de ayuda"}, token)["idRole"]
    roles_item = server.api.item_id(token, "Roles")
    server.api.ok("POST", f"/sidebar/{roles_item}/role/{role_id}", token=token)
    server.api.create_user(token, "soporte@seam.test", role_id, "Sofía Soporte")
    create_role = server.api.permission_id(token, "POST /api/v1/roles")

    _, admin, _ = open_page()
    _, limited, _ = open_page()
    login_live(admin)
    login_live(limited, "soporte@seam.test", PASSWORD)
    expect(limited.locator(".nav-link")).to_have_text(["Roles"])
    expect(limited.locator("tbody tr")).to_have_count(3)
    expect(limited.locator("[data-action=new-role]")).to_have_count(0)
    expect(limited.locator("[data-action=edit]")).to_have_count(0)
    shot(limited, "limited-user-desktop")

    # A permission granted and revoked from the admin's checklist.
    goto(admin, "/permissions")
    admin.select_option(".role-select", label="Soporte")
    admin.click('.grid-group[data-resource="roles"] [data-action=expand]')
    grant = admin.locator(f'[data-key="p-{create_role}"] input')
    expect(grant).not_to_be_checked()
    grant.check()
    expect(limited.locator("[data-action=new-role]")).to_be_visible()
    expect(limited.locator(".nav-link")).to_have_text(["Roles"])
    grant.uncheck()
    expect(limited.locator("[data-action=new-role]")).to_have_count(0)

    # A menu item assigned and removed from the admin's menu screen.
    goto(admin, "/menu")
    row(admin, "/activity").locator("[data-action=roles]").click()
    soporte = admin.locator("dialog .check-item", has_text="Soporte").locator("input")
    soporte.check()
    expect(limited.locator(".nav-link")).to_have_text(["Roles", "Actividad"])
    shot(admin, "menu-roles-dialog-desktop")
    goto(limited, "/activity")
    expect(limited.locator(".timeline-item").first).to_contain_text("Item asignado al rol exitosamente")
    soporte.uncheck()
    expect(limited.locator(".nav-link")).to_have_text(["Roles"])
    expect(limited.locator(".nav-link.active")).to_have_text("Roles")
    expect(limited.locator("h1")).to_have_text("Roles")
    admin.locator("dialog").get_by_role("button", name="Cerrar").last.click()
    expect(row(admin, "/activity")).not_to_contain_text("Soporte")


def test_a_disabled_user_is_logged_out_live_with_the_reason(open_page, server):
    token = server.api.login()
    user_role = server.api.role_id(token, "user")
    server.api.create_user(token, "ana@seam.test", user_role, "Ana Usuaria")

    _, admin, _ = open_page()
    _, user, user_console = open_page()
    login_live(admin)
    login_live(user, "ana@seam.test", PASSWORD)
    expect(user.locator(".empty-title")).to_have_text("Tu rol no tiene secciones asignadas")
    shot(user, "no-sections-desktop")

    row(admin, "ana@seam.test").locator("[data-action=disable]").click()
    admin.locator("dialog").get_by_role("button", name="Desactivar").click()
    expect(user.locator(".notice")).to_have_text("Un administrador desactivó tu cuenta. Tu sesión se cerró.")
    expect(user.locator("#auth-email")).to_be_visible()
    shot(user, "revoked-desktop")

    user_console.expect_http(423)
    login(user, "ana@seam.test", PASSWORD)
    expect(user.locator(".form-error")).to_have_text("Usuario inactivo, contactate con el administrador")


def test_an_offline_tab_catches_up_after_reconnecting(open_page, server):
    token = admin_two(server)
    context, offline, _, online = two_tabs_on_roles(open_page)

    context.set_offline(True)
    expect(offline.locator(".status")).to_have_attribute("data-state", "offline")
    for name in ("Ventas", "Compras", "Logística"):
        add_role(online, name)
        expect(row(online, name)).to_have_count(1)
    row(online, "Compras").locator("[data-action=edit]").click()
    online.fill("dialog [name=description]", "Proveedores y pedidos")
    submit(online)
    expect(row(online, "Compras")).to_contain_text("Proveedores y pedidos")
    row(online, "Ventas").locator("[data-action=delete]").click()
    online.locator("dialog").get_by_role("button", name="Sí, eliminar").click()
    expect(row(online, "Ventas")).to_have_count(0)
    expect(offline.locator("tbody tr")).to_have_count(2)

    context.set_offline(False)
    expect(offline.locator(".status")).to_have_attribute("data-state", "live")
    wait_seq(offline, server.api.latest_seq(token))
    same_rows(offline, online, "tbody tr")
    goto(online, "/activity")
    goto(offline, "/activity")
    same_rows(offline, online, ".timeline-item")


def test_a_catch_up_that_fails_is_tried_again_until_the_tab_has_every_change(open_page, server):
    """The replay after a reconnect meets a 503 twice (the process it reached went away): the tab tries again and
    ends with every change, where it used to apply what came live and lose the gap for good."""
    token = admin_two(server)
    context, offline, console, online = two_tabs_on_roles(open_page)
    console.expect_http(503)
    console.expect_http(503)
    refused = []

    def refuse_twice(route):
        since = route.request.url.partition("since=")[2].partition("&")[0]
        if since != "9007199254740991" and len(refused) < 2:  # a replay, not the baseline
            refused.append(since)
            return route.fulfill(status=503, content_type="application/json", body=UNAVAILABLE)
        return route.continue_()

    offline.route("**/api/v1/changes?*", refuse_twice)
    context.set_offline(True)
    expect(offline.locator(".status")).to_have_attribute("data-state", "offline")
    for name in ("Ventas", "Compras"):
        add_role(online, name)
        expect(row(online, name)).to_have_count(1)
    expect(offline.locator("tbody tr")).to_have_count(2)

    context.set_offline(False)
    expect(offline.locator(".status")).to_have_attribute("data-state", "live")
    wait_seq(offline, server.api.latest_seq(token))
    assert len(refused) == 2 and refused[0] == refused[1]  # the same gap asked for again
    same_rows(offline, online, "tbody tr")

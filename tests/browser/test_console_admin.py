# SPDX-License-Identifier: MIT
"""Scenario 1: an admin manages a role and a user end to end, with loaders, toasts, tables and dialogs."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, PHONE, TABLET, goto, login, login_live, row, seen, shot, submit

pytestmark = pytest.mark.browser


def hold_until_success(page, pattern, method):
    """Answer `method pattern` only after the page's indicator for that call showed the server's `success` event.

    The socket events precede the HTTP response on the server, but may be read after it in the browser;
    holding the response makes what the indicator displays deterministic.
    """

    def handler(route):
        if route.request.method != method:
            return route.continue_()
        response = route.fetch()
        op_id = route.request.headers["x-operation-id"]
        page.wait_for_function(
            "(id) => document.querySelector(`.op[data-op-id='${id}']`)?.dataset.status === 'success'", arg=op_id
        )
        route.fulfill(response=response)

    page.route(pattern, handler)
    return lambda: page.unroute(pattern, handler)


def op_named(page, label):
    ops = [op for op in seen(page)["ops"].values() if op["label"] == label]
    assert len(ops) == 1, seen(page)["ops"]
    return ops[0]


def test_admin_creates_edits_and_deletes_a_role_and_a_user(open_page, server):
    _, page, console = open_page()
    shot(page, "login-desktop")
    console.expect_http(401)
    login(page, password="not-the-password")
    expect(page.locator(".form-error")).to_have_text("Credenciales inválidas")
    login_live(page)
    expect(row(page, ADMIN_EMAIL)).to_have_count(1)
    shot(page, "users-desktop")

    # A role; a duplicate is refused inline (409) and nothing is added.
    goto(page, "/roles")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.click("[data-action=new-role]")
    page.fill("dialog [name=roleName]", "Soporte")
    page.fill("dialog [name=description]", "Atiende incidencias")
    submit(page)
    expect(page.locator("dialog")).to_have_count(0)
    expect(row(page, "Soporte")).to_contain_text("Atiende incidencias")
    expect(page.locator(".toast", has_text="Rol creado exitosamente")).to_be_visible()
    console.expect_http(409)
    page.click("[data-action=new-role]")
    page.fill("dialog [name=roleName]", "soporte")
    submit(page)
    expect(page.locator("dialog .form-error")).to_have_text("El rol 'soporte' ya existe")
    page.locator("dialog").get_by_role("button", name="Cancelar").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    shot(page, "roles-desktop")

    # A user in that role; its indicator shows exactly its own start/processing/success messages.
    goto(page, "/users")
    page.click("[data-action=new-user]")
    page.fill("dialog [name=full_name]", "Lucía Pérez")
    page.fill("dialog [name=email]", "lucia@seam.test")
    page.fill("dialog [name=password]", "una-clave-segura")
    page.select_option("dialog [name=roleId]", label="Soporte")
    shot(page, "user-dialog-desktop")
    release = hold_until_success(page, "**/api/v1/users", "POST")
    submit(page)
    expect(row(page, "lucia@seam.test")).to_contain_text("Soporte")
    release()
    assert op_named(page, "Creando usuario")["messages"] == [
        "Procesando…",
        "Iniciando operación users:create...",
        "Procesando contraseña...",
        "Guardando cambios...",
        "Usuario creado exitosamente",
    ]
    expect(page.locator(".toast", has_text="Usuario creado exitosamente")).to_be_visible()
    expect(page.locator(".op")).to_have_count(0)

    # A role still held by a user cannot be deleted: the 409 is explained in the dialog.
    goto(page, "/roles")
    console.expect_http(409)
    row(page, "Soporte").locator("[data-action=delete]").click()
    page.locator("dialog").get_by_role("button", name="Sí, eliminar").click()
    expect(page.locator("dialog .form-error")).to_have_text(
        "No se puede eliminar el rol porque tiene usuarios asignados"
    )
    expect(page.locator("dialog .field-hint")).to_have_text("Reasigna o elimina primero a los usuarios que lo tienen.")
    page.locator("dialog").get_by_role("button", name="Cancelar").click()
    expect(row(page, "Soporte")).to_have_count(1)

    # Edit, disable, enable, reset the password (shown once, copyable), search, delete.
    goto(page, "/users")
    lucia = row(page, "lucia@seam.test")
    lucia.locator("[data-action=edit]").click()
    expect(page.locator("dialog [name=full_name]")).to_have_value("Lucía Pérez")
    page.fill("dialog [name=full_name]", "Lucía Pérez Gil")
    submit(page)
    expect(lucia).to_contain_text("Lucía Pérez Gil")
    expect(page.locator(".toast", has_text="Usuario actualizado exitosamente")).to_be_visible()
    lucia.locator("[data-action=disable]").click()
    page.locator("dialog").get_by_role("button", name="Desactivar").click()
    expect(lucia).to_contain_text("Inactivo")
    lucia.locator("[data-action=enable]").click()
    expect(lucia).to_contain_text("Activo")
    lucia.locator("[data-action=reset]").click()
    page.locator("dialog").get_by_role("button", name="Generar contraseña").click()
    secret = page.locator("dialog .secret")
    expect(secret).to_have_value(__import__("re").compile(r"\S{8,}"))
    temporary = secret.input_value()
    page.click("dialog [data-action=copy]")
    expect(page.locator("dialog [data-action=copy]")).to_have_text("Copiado al portapapeles")
    shot(page, "temporary-password-desktop")
    page.locator("dialog").get_by_role("button", name="Cerrar").last.click()
    expect(lucia).to_contain_text("Debe cambiar contraseña")
    assert server.api.ok("POST", "/auth/login", {"email": "lucia@seam.test", "password": temporary})[
        "mustChangePassword"
    ]

    page.fill(".search-input", "zzz-nadie")
    expect(page.locator(".empty-title")).to_have_text("Sin resultados")
    shot(page, "users-no-results-desktop")
    page.fill(".search-input", "lucia")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.fill(".search-input", "")
    expect(page.locator("tbody tr")).to_have_count(2)

    lucia.locator("[data-action=delete]").click()
    expect(page.locator("dialog")).to_contain_text("¿Eliminar a Lucía Pérez Gil?")
    page.locator("dialog").get_by_role("button", name="Sí, eliminar").click()
    expect(lucia).to_have_count(0)
    expect(page.locator(".toast", has_text="Usuario eliminado exitosamente")).to_be_visible()

    goto(page, "/roles")
    row(page, "Soporte").locator("[data-action=delete]").click()
    page.locator("dialog").get_by_role("button", name="Sí, eliminar").click()
    expect(row(page, "Soporte")).to_have_count(0)
    expect(page.locator(".toast", has_text="Rol eliminado exitosamente")).to_be_visible()

    goto(page, "/permissions")
    expect(page.locator(".grid-detail .check-item input:checked")).to_have_count(22)
    shot(page, "permissions-desktop")
    page.click("[data-tab=catalog]")
    catalog = page.locator(".catalog-group tbody tr")
    expect(catalog).to_have_count(22)
    shot(page, "permissions-catalog-desktop")

    # A permission registered in the catalog (in a group of its own resource), then deleted.
    page.click("[data-action=new-permission]")
    page.fill("dialog [name=nameUri]", "GET /api/v1/reportes")
    page.fill("dialog [name=description]", "Ver reportes")
    submit(page)
    reports = page.locator('.catalog-group[data-resource="reportes"]')
    expect(reports.locator(".group-title")).to_have_text("reportes1 ruta")
    expect(reports.locator("tbody tr")).to_contain_text("/api/v1/reportes")
    expect(catalog).to_have_count(23)
    reports.locator("[data-action=delete]").click()
    page.locator("dialog").get_by_role("button", name="Sí, eliminar").click()
    expect(reports).to_have_count(0)
    expect(page.locator(".toast", has_text="Permiso eliminado exitosamente")).to_be_visible()

    # A menu item: created, shown to the admin's own role (the navigation follows), renamed, deleted.
    goto(page, "/menu")
    page.wait_for_selector(".view .table")
    shot(page, "menu-desktop")
    page.click("[data-action=new-item]")
    page.fill("dialog [name=nameItem]", "Reportes")
    page.select_option("dialog [name=iconItem]", "inbox")
    page.fill("dialog [name=route]", "/reportes")
    submit(page)
    reports = row(page, "/reportes")
    expect(reports).to_contain_text("Ningún rol")
    reports.locator("[data-action=roles]").click()
    page.locator("dialog .check-item", has_text="admin").locator("input").check()
    expect(page.locator(".nav-link")).to_have_text(["Usuarios", "Roles", "Permisos", "Menú", "Actividad", "Reportes"])
    page.locator("dialog").get_by_role("button", name="Cerrar").last.click()
    expect(reports).to_contain_text("admin")
    reports.locator("[data-action=edit]").click()
    page.fill("dialog [name=nameItem]", "Informes")
    submit(page)
    expect(page.locator(".nav-link").last).to_have_text("Informes")
    page.click('.nav-link[data-route="/reportes"]')
    expect(page.locator(".empty-title")).to_have_text("Esta sección no tiene vista en la consola")
    goto(page, "/menu")
    reports.locator("[data-action=delete]").click()
    page.locator("dialog").get_by_role("button", name="Sí, eliminar").click()
    expect(reports).to_have_count(0)
    expect(page.locator(".nav-link")).to_have_count(5)

    goto(page, "/activity")
    page.wait_for_selector(".view .timeline")
    shot(page, "activity-desktop")
    expect(page.locator(".timeline-item").first).to_contain_text("Item del menú eliminado exitosamente")

    page.click("[data-action=logout]")
    expect(page.locator("#auth-email")).to_be_visible()


def test_concurrent_calls_keep_their_own_indicator(open_page):
    _, page, _ = open_page()
    login_live(page)
    expect(page.locator("tbody tr")).to_have_count(1)
    releases = [
        hold_until_success(page, "**/api/v1/users?*", "GET"),
        hold_until_success(page, "**/api/v1/roles", "GET"),
    ]
    page.evaluate(
        """async () => {
          const { call } = await import('/js/api.js');
          await Promise.all([
            call('GET', '/users', { query: { page: 1 }, op: 'users:fetchAll' }),
            call('GET', '/roles', { op: 'roles:fetchAll' }),
          ]);
        }"""
    )
    for release in releases:
        release()
    users = [op for op in seen(page)["ops"].values() if op["label"] == "Cargando usuarios"][-1]
    roles = [op for op in seen(page)["ops"].values() if op["label"] == "Cargando roles"][-1]
    assert users["messages"] == [
        "Procesando…",
        "Iniciando operación users:fetchAll...",
        "Consultando datos...",
        "Usuarios obtenidos exitosamente",
    ]
    assert roles["messages"] == ["Procesando…", "Iniciando operación roles:fetchAll...", "Roles obtenidos exitosamente"]


@pytest.mark.parametrize(("viewport", "size"), [(PHONE, "phone"), (TABLET, "tablet")])
def test_every_screen_fits_a_phone_and_a_tablet(open_page, server, viewport, size):
    token = server.api.login()
    user_role = server.api.role_id(token, "user")
    server.api.create_user(token, "maria.fernandez@seam.test", user_role, "María Fernández")
    disabled = server.api.create_user(token, "jorge@seam.test", user_role, "Jorge Ibáñez")
    server.api.ok("PUT", f"/users/{disabled}/state", {"isActive": 0}, token)
    server.api.ok("PUT", f"/users/{disabled}", {"full_name": "Jorge Ibáñez Ruiz"}, token)
    _, page, _ = open_page(viewport)
    shot(page, f"login-{size}")
    login_live(page)
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(row(page, "jorge@seam.test")).to_contain_text("Inactivo")

    def fits(what):
        assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"], what

    for route, name in (
        ("/users", "users"),
        ("/roles", "roles"),
        ("/permissions", "permissions"),
        ("/menu", "menu"),
        ("/activity", "activity"),
    ):
        goto(page, route)
        page.wait_for_selector(".view .table:visible, .view .timeline, .view .empty, .view .grid-table")
        fits(route)
        shot(page, f"{name}-{size}")
        if route == "/permissions":
            page.click('.grid-group[data-resource="users"] [data-action=expand]')
            expect(page.locator('.grid-group[data-resource="users"] .grid-detail')).to_be_visible()
            fits("the users' routes unfolded")
            shot(page, f"permissions-routes-{size}")
            page.click("[data-tab=catalog]")
            fits("the catalog")
            shot(page, f"permissions-catalog-{size}")
        if route == "/activity":
            page.click("[data-tab=logins]")
            page.wait_for_selector('.view .timeline-item[data-outcome="success"]')
            fits("the logins")
            shot(page, f"activity-logins-{size}")
    page.click("[data-action=account]")
    expect(page.locator("h1")).to_have_text("Mi cuenta")
    fits("/account")
    shot(page, f"account-{size}")
    goto(page, "/users")
    page.click("[data-action=new-user]")
    fits("the new user dialog")
    shot(page, f"user-dialog-{size}")


def test_a_users_actions_stay_on_screen_at_tablet_widths(open_page, server):
    """Issue 18.12: from 768 to 1030 px the users table kept its desktop layout beside the sidebar and pushed the
    action buttons past the right edge (reachable only by scrolling the table sideways)."""
    token = server.api.login()
    user_role = server.api.role_id(token, "user")
    long_name = server.api.create_user(
        token, "maria.fernandez.de.la.torre@seam.test", user_role, "María Fernández de la Torre"
    )
    server.api.ok("PUT", f"/users/{long_name}/resetPassword", token=token)  # its row shows two state badges
    context, page, _ = open_page(TABLET)
    login_live(page)
    for width in (768, 820, 900, 960, 1024, 1030):
        page.set_viewport_size({"width": width, "height": 1024})
        expect(page.locator("tbody tr")).to_have_count(2)
        placed = page.evaluate(
            """() => ({
              page: document.scrollingElement.scrollWidth,
              table: ((wrap) => [wrap.scrollWidth, wrap.clientWidth])(document.querySelector('.table-wrap')),
              buttons: [...document.querySelectorAll('tbody .row-actions button')].map((b) => {
                const box = b.getBoundingClientRect();
                return [Math.round(box.left), Math.round(box.right)];
              }),
            })"""
        )
        assert placed["page"] <= width, (width, placed)
        assert placed["table"][0] <= placed["table"][1], (width, placed)
        # The other user's row has all four actions (the signed-in admin's own row may show fewer).
        assert len(placed["buttons"]) >= 4, placed
        assert all(0 <= left and right <= width for left, right in placed["buttons"]), (width, placed)
        if width in (768, 1024):
            shot(page, f"users-tablet-{width}")


def test_users_are_paged_and_searchable(open_page, server):
    token = server.api.login()
    user_role = server.api.role_id(token, "user")
    for n in range(22):
        server.api.create_user(token, f"persona{n:02d}@seam.test", user_role, f"Persona {n:02d}")
    _, page, _ = open_page()
    login_live(page)
    expect(page.locator("tbody tr")).to_have_count(20)
    expect(page.locator(".pager")).to_contain_text("1–20 de 23")
    page.click(".pager [aria-label=Siguiente]")
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator(".pager")).to_contain_text("21–23 de 23")
    expect(page.locator(".pager [aria-label=Siguiente]")).to_be_disabled()
    page.click(".pager [aria-label=Anterior]")
    expect(page.locator(".pager")).to_contain_text("1–20 de 23")
    page.fill(".search-input", "persona1")
    expect(page.locator("tbody tr")).to_have_count(10)
    expect(page.locator(".pager")).to_contain_text("1–10 de 10")


def test_a_last_page_emptied_by_another_admin_falls_back_to_the_previous_one(open_page, server):
    """Regression: the reload that moved back a page awaited itself, and the view never refreshed again."""
    token = server.api.login()
    user_role = server.api.role_id(token, "user")
    ids = [server.api.create_user(token, f"persona{n:02d}@seam.test", user_role, f"Persona {n:02d}") for n in range(20)]
    _, page, _ = open_page()
    login_live(page)
    page.click(".pager [aria-label=Siguiente]")
    expect(page.locator(".pager")).to_contain_text("21–21 de 21")
    server.api.ok("DELETE", f"/users/{ids[-1]}", token=token)
    expect(page.locator(".pager")).to_contain_text("1–20 de 20")
    expect(page.locator("tbody tr")).to_have_count(20)
    server.api.ok("PUT", f"/users/{ids[0]}", {"full_name": "Persona Renombrada"}, token)
    expect(row(page, "persona00@seam.test")).to_contain_text("Persona Renombrada")
    server.api.create_user(token, "nueva@seam.test", user_role, "Persona Nueva")
    expect(page.locator(".pager")).to_contain_text("1–20 de 21")

# SPDX-License-Identifier: MIT
"""Issue 18.11, the permissions screen: the catalog grouped by resource, a read/create/update/delete grid per role
whose cells grant or revoke every route of that action, and the raw `METHOD /path` one click away."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import goto, login_live, shot

pytestmark = pytest.mark.browser

USERS_READ = {"GET /api/v1/users", "GET /api/v1/users/:id", "GET /api/v1/users/logins"}


def cell(page, resource, verb):
    return page.locator(f'.grid-group[data-resource="{resource}"] .grid-cell[data-verb="{verb}"]')


def granted(server, token, role_id):
    return {p["nameUri"] for p in server.api.ok("GET", f"/permission/getByRoleId?roleId={role_id}", token=token)}


def test_a_roles_permissions_as_a_grid_by_resource(open_page, server):
    token = server.api.login()
    role_id = server.api.ok("POST", "/roles", {"roleName": "Soporte"}, token)["idRole"]
    _, page, _ = open_page()
    login_live(page)
    goto(page, "/permissions")
    expect(page.locator(".grid-resource")).to_have_text(["Cuentas", "Usuarios", "Roles", "Permisos", "Menú"])
    expect(cell(page, "users", "read")).to_have_text("3/3")  # admin holds everything
    page.select_option(".role-select", label="Soporte")
    expect(page.locator(".checklist-summary")).to_contain_text("0 de 22 concedidos")
    counts = [cell(page, "users", verb) for verb in ("read", "create", "update", "delete")]
    for count, text in zip(counts, ("0/3", "0/1", "0/3", "0/1"), strict=True):
        expect(count).to_have_text(text)
    expect(cell(page, "roles", "read")).to_have_text("—")  # any signed-in user reads roles: nothing to grant

    # One click grants every route of "read users"; the routes themselves are one more click away.
    cell(page, "users", "read").locator("input").check()
    expect(cell(page, "users", "read")).to_have_text("3/3")
    expect(page.locator(".toast", has_text="3 permisos concedidos a «Soporte»")).to_be_visible()
    assert granted(server, token, role_id) == USERS_READ
    users = page.locator('.grid-group[data-resource="users"]')
    expect(users.locator(".grid-detail")).to_be_hidden()
    users.locator("[data-action=expand]").click()
    expect(users.locator(".grid-detail .check-item .perm")).to_have_text(
        [
            "GET/api/v1/users",
            "GET/api/v1/users/:id",
            "GET/api/v1/users/logins",
            "POST/api/v1/users",
            "PUT/api/v1/users/:id",
            "PUT/api/v1/users/:id/resetPassword",
            "PUT/api/v1/users/:id/state",
            "DELETE/api/v1/users/:id",
        ]
    )
    shot(page, "permissions-grid-desktop")

    # One route revoked on its own: the cell shows it holds some, and a click completes it again.
    users.locator(".check-item", has_text="/api/v1/users/logins").locator("input").uncheck()
    expect(cell(page, "users", "read")).to_have_text("2/3")
    read_box = cell(page, "users", "read").locator("input")
    expect(read_box).not_to_be_checked()
    assert read_box.evaluate("box => box.indeterminate")
    assert granted(server, token, role_id) == USERS_READ - {"GET /api/v1/users/logins"}
    shot(page, "permissions-grid-mixed-desktop")
    read_box.check()
    expect(cell(page, "users", "read")).to_have_text("3/3")
    assert granted(server, token, role_id) == USERS_READ
    read_box.uncheck()
    expect(cell(page, "users", "read")).to_have_text("0/3")
    expect(page.locator(".toast", has_text="3 permisos revocados a «Soporte»")).to_be_visible()
    assert granted(server, token, role_id) == set()

    # The filter finds a route by its raw text and unfolds only what matches.
    page.fill(".search-input", "resetpassword")
    expect(page.locator(".grid-resource")).to_have_text(["Usuarios"])
    expect(page.locator(".grid-detail .check-item")).to_have_text(
        ["PUT/api/v1/users/:id/resetPasswordRestablecer la contraseña de un usuario (temporal, se muestra una vez)"]
    )
    page.fill(".search-input", "")

    # The catalog, grouped the same way.
    page.click("[data-tab=catalog]")
    expect(page.locator(".catalog-group .group-title")).to_have_text(
        ["Cuentas1 ruta", "Usuarios8 rutas", "Roles3 rutas", "Permisos4 rutas", "Menú6 rutas"]
    )
    shot(page, "permissions-catalog-grouped-desktop")


def test_a_refused_grant_stops_and_says_why(open_page, server):
    """Containment (SPEC §10): a role that may assign but lacks a permission cannot grant it; the cell stops at the
    first refusal and shows what it did grant."""
    token = server.api.login()
    granter = server.api.ok("POST", "/roles", {"roleName": "Delegado"}, token)["idRole"]
    for name in ("POST /api/v1/permission/assign", "GET /api/v1/users", "GET /api/v1/users/:id"):
        permission = server.api.permission_id(token, name)
        server.api.ok("POST", "/permission/assign", {"roleId": granter, "permissionId": permission}, token)
    permissions_item = server.api.item_id(token, "Permisos")
    server.api.ok("POST", f"/sidebar/{permissions_item}/role/{granter}", token=token)
    server.api.create_user(token, "delegado@seam.test", granter, "Delegado")
    target = server.api.ok("POST", "/roles", {"roleName": "Lectores"}, token)["idRole"]
    _, page, console = open_page()
    login_live(page, "delegado@seam.test", "secret-pass-1")
    page.select_option(".role-select", label="Lectores")
    expect(cell(page, "users", "read")).to_have_text("0/3")
    console.expect_http(403)
    cell(page, "users", "read").locator("input").check()
    expect(page.locator(".toast", has_text="No tiene permisos suficientes para esta acción")).to_be_visible()
    expect(page.locator(".toast", has_text="2 permisos concedidos a «Lectores»")).to_be_visible()
    expect(cell(page, "users", "read")).to_have_text("2/3")
    assert granted(server, token, target) == {"GET /api/v1/users", "GET /api/v1/users/:id"}

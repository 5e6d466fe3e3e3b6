# SPDX-License-Identifier: MIT
"""Issue 18.8, "Mi cuenta": any user, whatever their menu, sees their profile, changes their password and closes
their other sessions from the console; the other browser is told why it was signed out."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, login, login_live, shot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "otra-clave-segura"


def change_password(page, current, new, again=None):
    page.fill("#auth-currentPassword", current)
    page.fill("#auth-newPassword", new)
    page.fill("#auth-confirmPassword", again or new)
    page.click(".account-form button[type=submit]")


def test_a_user_without_sections_manages_their_own_account(open_page, server):
    token = server.api.login()
    server.api.create_user(token, "ana@seam.test", server.api.role_id(token, "user"), "Ana Usuaria")
    _, page, console = open_page()
    _, elsewhere, _ = open_page()  # the same account in another browser
    login_live(page, "ana@seam.test", PASSWORD)
    login_live(elsewhere, "ana@seam.test", PASSWORD)
    expect(page.locator(".empty-title")).to_have_text("Tu rol no tiene secciones asignadas")

    # The top bar leads every user to their account, even one whose role has no menu.
    page.click("[data-action=account]")
    expect(page.locator("h1")).to_have_text("Mi cuenta")
    expect(page.locator(".who")).to_have_attribute("aria-current", "page")
    profile = page.locator(".profile")
    expect(profile.locator(".profile-name")).to_have_text("Ana Usuaria")
    expect(profile).to_contain_text("ana@seam.test")
    expect(profile.locator(".detail").first).to_have_text("Roluser Usuario estándar")
    expect(profile).to_contain_text("Tu rol no tiene secciones asignadas")
    expect(profile).to_contain_text("Sesión iniciada")
    shot(page, "account-desktop")

    # Mistakes are explained inline and change nothing.
    change_password(page, PASSWORD, NEW_PASSWORD, "no-coincide-1")
    expect(page.locator(".account-form .form-error")).to_have_text("Las contraseñas nuevas no coinciden")
    console.expect_http(400)
    change_password(page, "no-es-la-actual", NEW_PASSWORD)
    expect(page.locator(".account-form .form-error")).to_have_text("La contraseña actual es incorrecta")
    shot(page, "account-password-error-desktop")
    assert server.api.login("ana@seam.test", PASSWORD)

    # Changed: this tab goes on (with its new token), the other browser is signed out with the reason.
    change_password(page, PASSWORD, NEW_PASSWORD)
    expect(page.locator(".toast", has_text="Contraseña actualizada exitosamente")).to_be_visible()
    expect(page.locator(".account-form .form-error")).to_be_hidden()
    expect(page.locator("#auth-currentPassword")).to_have_value("")
    expect(elsewhere.locator(".notice")).to_have_text(
        "Tu contraseña se cambió desde otra sesión. Vuelve a iniciar sesión."
    )
    expect(page.locator(".status")).to_have_attribute("data-state", "live")
    page.reload()  # the tab kept the new token: still signed in, on the same screen
    expect(page.locator("h1")).to_have_text("Mi cuenta")
    expect(page.locator(".status")).to_have_attribute("data-state", "live")
    login_live(elsewhere, "ana@seam.test", NEW_PASSWORD)

    # "Close my other sessions": the other browser is signed out, this one and the password stay.
    page.click("[data-action=logout-others]")
    expect(page.locator("dialog")).to_contain_text("Esta pestaña sigue abierta.")
    shot(page, "account-logout-others-desktop")
    page.locator("dialog").get_by_role("button", name="Sí, cerrarlas").click()
    expect(page.locator(".toast", has_text="Las demás sesiones se cerraron exitosamente")).to_be_visible()
    expect(elsewhere.locator(".notice")).to_have_text(
        "Cerraste esta sesión desde «Mi cuenta» en otro navegador o dispositivo. Vuelve a iniciar sesión."
    )
    expect(elsewhere.locator("#auth-email")).to_be_visible()
    shot(elsewhere, "account-signed-out-elsewhere-desktop")
    page.reload()
    expect(page.locator("h1")).to_have_text("Mi cuenta")
    expect(page.locator(".status")).to_have_attribute("data-state", "live")
    login(elsewhere, "ana@seam.test", NEW_PASSWORD)
    expect(elsewhere.locator(".status")).to_have_attribute("data-state", "live")


def test_the_account_follows_profile_changes_live(open_page, server):
    token = server.api.login()
    roles_item = server.api.item_id(token, "Roles")
    role_id = server.api.ok("POST", "/roles", {"roleName": "Soporte", "description": "Mesa de ayuda"}, token)["idRole"]
    server.api.ok("POST", f"/sidebar/{roles_item}/role/{role_id}", token=token)
    user_id = server.api.create_user(token, "sofia@seam.test", role_id, "Sofía")
    _, page, _ = open_page()
    login_live(page, "sofia@seam.test", PASSWORD)
    page.click("[data-action=account]")
    expect(page.locator(".profile .chips")).to_have_text("Roles")
    server.api.ok("PUT", f"/users/{user_id}", {"full_name": "Sofía Soporte"}, token)
    expect(page.locator(".profile-name")).to_have_text("Sofía Soporte")
    expect(page.locator(".who")).to_contain_text("Sofía Soporte")
    expect(page.locator(".nav-link")).to_have_text(["Roles"])
    expect(page.locator(".nav-link.active")).to_have_count(0)

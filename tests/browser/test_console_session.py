# SPDX-License-Identifier: MIT
"""Login errors (throttling), the forced password change and an expired token, in the browser."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, login_live, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def seam_settings():
    return {"login_max_failures": 2}


def test_throttled_login_is_explained_inline(open_page):
    _, page, console = open_page()
    for _ in range(2):
        console.expect_http(401)
        login(page, password="not-the-password")
        expect(page.locator(".form-error")).to_have_text("Credenciales inválidas")
        page.locator(".auth-form button[type=submit]").wait_for(state="visible")
        expect(page.locator(".auth-form button[type=submit]")).to_be_enabled()
    console.expect_http(429)
    login(page, password="not-the-password")
    expect(page.locator(".form-error")).to_contain_text("Demasiados intentos fallidos, intenta de nuevo más tarde")
    expect(page.locator(".form-error")).to_contain_text("Podrás intentarlo de nuevo en")


def test_a_reset_password_must_be_changed_before_entering(open_page, server):
    token = server.api.login()
    admin_role = server.api.role_id(token, "admin")
    user_id = server.api.create_user(token, "nuevo@seam.test", admin_role, "Nuevo Admin")
    temporary = server.api.ok("PUT", f"/users/{user_id}/resetPassword", token=token)["temporaryPassword"]

    _, page, _ = open_page()
    login(page, "nuevo@seam.test", temporary)
    expect(page.locator("h1")).to_have_text("Cambia tu contraseña")
    shot(page, "change-password-desktop")
    page.fill("#auth-currentPassword", temporary)
    page.fill("#auth-newPassword", "mi-clave-nueva")
    page.fill("#auth-confirmPassword", "otra-clave-distinta")
    page.click(".auth-form button[type=submit]")
    expect(page.locator(".form-error")).to_have_text("Las contraseñas nuevas no coinciden")
    page.fill("#auth-confirmPassword", "mi-clave-nueva")
    page.click(".auth-form button[type=submit]")
    expect(page.locator(".status")).to_have_attribute("data-state", "live")
    expect(page.locator(".who")).to_contain_text("Nuevo Admin")
    assert server.api.ok("POST", "/auth/login", {"email": "nuevo@seam.test", "password": "mi-clave-nueva"})


def test_an_expired_token_leads_to_a_clean_login_screen(open_page):
    _, page, console = open_page()
    login_live(page)
    expect(page.locator("tbody tr")).to_have_count(1)
    console.expect_http(401)
    page.evaluate("sessionStorage.setItem('seam.token', 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl')")
    page.reload()
    expect(page.locator(".notice")).to_have_text("Tu sesión expiró. Vuelve a iniciar sesión.")
    expect(page.locator("#auth-email")).to_be_visible()
    expect(page.locator(".layout")).to_have_count(0)

# SPDX-License-Identifier: MIT
"""The signed-in admin's own row offers no disable or delete (the API refuses both, 409); the footer names
SEAM's version (issue 18.2, 18.9)."""

import pytest
from playwright.sync_api import expect

from app.version import VERSION
from tests.browser.conftest import ADMIN_EMAIL, DESKTOP, PHONE, login_live, row, shot

pytestmark = pytest.mark.browser
USER_ROLE = 2


@pytest.mark.parametrize("viewport, name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_own_row_hides_disable_and_delete_and_the_footer_names_the_version(open_page, server, viewport, name):
    token = server.api.login()
    server.api.create_user(token, "otra@seam.test", USER_ROLE, "Otra Persona")
    _, page, _ = open_page(viewport)
    login_live(page)
    mine, other = row(page, ADMIN_EMAIL), row(page, "otra@seam.test")
    expect(other.locator("[data-action]")).to_have_count(4)
    for action in ("edit", "disable", "reset", "delete"):
        expect(other.locator(f"[data-action={action}]")).to_be_visible()
    expect(mine.locator("[data-action=edit]")).to_be_visible()
    expect(mine.locator("[data-action=reset]")).to_be_visible()
    expect(mine.locator("[data-action=disable], [data-action=delete]")).to_have_count(0)
    expect(page.locator("footer.footer")).to_have_text(f"SEAM {VERSION}")
    shot(page, f"users-own-row-{name}")

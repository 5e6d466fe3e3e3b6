"""Reconnect past the change feed's retention: /changes answers 410 and the tab reloads everything instead."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, goto, login_live, row, wait_seq
from tests.browser.test_console_live import admin_two, same_rows

pytestmark = pytest.mark.browser


@pytest.fixture
def seam_settings():
    return {"change_retention": 2}


def test_a_tab_offline_beyond_the_retained_feed_reloads_and_converges(open_page, server):
    token = admin_two(server)
    context, offline, offline_console = open_page()
    _, online, _ = open_page()
    login_live(online)
    login_live(offline, "admin2@seam.test", PASSWORD)
    for page in (online, offline):
        goto(page, "/roles")
        expect(page.locator("tbody tr")).to_have_count(2)

    context.set_offline(True)
    expect(offline.locator(".status")).to_have_attribute("data-state", "offline")
    for name in ("Ventas", "Compras", "Logística", "Calidad"):
        online.click("[data-action=new-role]")
        online.fill("dialog [name=roleName]", name)
        online.locator("dialog button[type=submit]").click()
        expect(row(online, name)).to_have_count(1)

    offline_console.expect_http(410)
    context.set_offline(False)
    expect(offline.locator(".toast", has_text="Datos recargados tras la reconexión")).to_be_visible()
    same_rows(offline, online, "tbody tr")
    expect(offline.locator("tbody tr")).to_have_count(6)

    # Live again from the new baseline: the next change arrives once.
    online.click("[data-action=new-role]")
    online.fill("dialog [name=roleName]", "Legal")
    online.locator("dialog button[type=submit]").click()
    wait_seq(offline, server.api.latest_seq(token))
    expect(row(offline, "Legal")).to_have_count(1)
    same_rows(offline, online, "tbody tr")

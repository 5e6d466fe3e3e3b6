# SPDX-License-Identifier: MIT
"""Reconnect past the change feed's retention: /changes answers 410 and the tab reloads everything instead."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import add_role, admin_two, row, same_rows, two_tabs_on_roles, wait_seq

pytestmark = pytest.mark.browser


@pytest.fixture
def seam_settings():
    return {"change_retention": 2}


def test_a_tab_offline_beyond_the_retained_feed_reloads_and_converges(open_page, server):
    token = admin_two(server)
    context, offline, offline_console, online = two_tabs_on_roles(open_page)

    context.set_offline(True)
    expect(offline.locator(".status")).to_have_attribute("data-state", "offline")
    for name in ("Ventas", "Compras", "Logística", "Calidad"):
        add_role(online, name)
        expect(row(online, name)).to_have_count(1)

    offline_console.expect_http(410)
    context.set_offline(False)
    expect(offline.locator(".toast", has_text="Datos recargados tras la reconexión")).to_be_visible()
    same_rows(offline, online, "tbody tr")
    expect(offline.locator("tbody tr")).to_have_count(6)

    # Live again from the new baseline: the next change arrives once.
    add_role(online, "Legal")
    wait_seq(offline, server.api.latest_seq(token))
    expect(row(offline, "Legal")).to_have_count(1)
    same_rows(offline, online, "tbody tr")

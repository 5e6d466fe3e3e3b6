# SPDX-License-Identifier: MIT
"""A tab outlives its first token: it refreshes the token and reconnects when the server expires the socket."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import goto, login_live, row

pytestmark = pytest.mark.browser

LIFETIME_SECONDS = 6


@pytest.fixture
def seam_settings():
    return {"jwt_expires": LIFETIME_SECONDS}


STATES = """
window.__states = [];
new MutationObserver(() => {
  const state = document.querySelector('.status')?.dataset.state;
  if (state && window.__states.at(-1) !== state) window.__states.push(state);
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'], childList: true });
"""


def test_the_token_is_refreshed_and_the_expired_socket_reconnects(open_page, server):
    context, page, _ = open_page()
    page.evaluate(STATES)
    login_live(page)
    goto(page, "/roles")
    first_token = page.evaluate("sessionStorage.getItem('seam.token')")
    page.wait_for_function("(old) => sessionStorage.getItem('seam.token') !== old", arg=first_token)
    page.evaluate("window.__states = []")
    # The server ends the socket when the first token expires; the tab reconnects with the fresh one.
    page.wait_for_function(
        "() => window.__states.join(',').includes('reconnecting,live')", timeout=(LIFETIME_SECONDS + 10) * 1000
    )
    expect(page.locator("#auth-email")).to_have_count(0)
    token = server.api.login()
    server.api.ok("POST", "/roles", {"roleName": "Tras renovar"}, token)
    expect(row(page, "Tras renovar")).to_have_count(1)

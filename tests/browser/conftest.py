# SPDX-License-Identifier: MIT
"""Browser fixtures: a real SEAM subprocess on a free loopback port, Debian's Chromium via Playwright (sync API).

The Playwright sync API cannot run inside pytest-tornasync's event loop, so the server runs as
`python seam.py` in its own process with a temp database, exactly as an operator starts it.
"""

import pytest
from playwright.sync_api import expect, sync_playwright

from bench.seam_process import ROOT, SeamProcess

SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_EMAIL = "admin@seam.test"
ADMIN_PASSWORD = "admin-pass-1"
PASSWORD = "secret-pass-1"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 375, "height": 760}
TIMEOUT_MS = 10_000

# Records every progress indicator (its label and each message it showed) and every toast, as they appear.
OBSERVER = """
window.__seen = { ops: {}, toasts: [] };
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType !== 1) continue;
      if (node.matches('.op')) {
        window.__seen.ops[node.dataset.opId] = {
          label: node.querySelector('.op-label').textContent,
          messages: [node.querySelector('.op-message').textContent],
        };
      } else if (node.matches('.toast')) {
        window.__seen.toasts.push({ kind: node.className, text: node.textContent });
      }
    }
    const op = record.target.nodeType === 1 && record.target.matches('.op-message') && record.target.closest('.op');
    const entry = op && window.__seen.ops[op.dataset.opId];
    if (entry) entry.messages.push(record.target.textContent);
  }
}).observe(document, { subtree: true, childList: true });
"""


class Api:
    """Plain JSON calls for arranging a scenario (the browser does the acting)."""

    def __init__(self, seam):
        self.seam = seam

    def ok(self, method, path, body=None, token=None):
        status, envelope = self.seam.request(method, path, body, token)
        assert status in (200, 201), (method, path, status, envelope)
        return envelope["data"]

    def login(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        return self.ok("POST", "/auth/login", {"email": email, "password": password})["token"]

    def role_id(self, token, name):
        return next(r["idRole"] for r in self.ok("GET", "/roles", token=token) if r["roleName"] == name)

    def permission_id(self, token, name_uri):
        return next(p["idPermission"] for p in self.ok("GET", "/permission", token=token) if p["nameUri"] == name_uri)

    def item_id(self, token, name):
        return next(i["idItem"] for i in self.ok("GET", "/sidebar/items", token=token) if i["nameItem"] == name)

    def create_user(self, token, email, role_id, full_name):
        body = {"full_name": full_name, "email": email, "password": PASSWORD, "roleId": role_id}
        return self.ok("POST", "/users", body, token)["idUser"]

    def latest_seq(self, token):
        status, envelope = self.seam.request("GET", f"/changes?since={2**53 - 1}&limit=1", token=token)
        assert status == 200, envelope
        return envelope["meta"]["latestSeq"]


class Server(SeamProcess):
    """SEAM with the tests' admin, logging warnings only; `server.api` arranges scenarios."""

    def __init__(self, workdir, **settings):
        defaults = {"admin_email": ADMIN_EMAIL, "admin_password": ADMIN_PASSWORD, "log_level": "warning"}
        super().__init__(workdir, **{**defaults, **settings})
        self.api = Api(self)


@pytest.fixture
def seam_settings():
    """Extra SEAM settings for the server (name → value); override in a module."""
    return {}


@pytest.fixture
def server(tmp_path, seam_settings):
    with Server(tmp_path, **seam_settings) as started:
        yield started


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module: while Playwright's sync API is active, the thread counts as running an
    asyncio loop, which would break the pytest-tornasync tests of the modules that follow."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """Console errors and uncaught exceptions of one page; HTTP errors the test provokes are declared."""

    def __init__(self, page):
        self.errors = []
        self.allowed = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def expect_http(self, status):
        self.allowed.append(f"Failed to load resource: the server responded with a status of {status}")

    def unexpected(self):
        allowed = list(self.allowed)
        left = []
        for error in self.errors:
            match = next((a for a in allowed if error.startswith(a)), None)
            if match:
                allowed.remove(match)
            else:
                left.append(error)
        return left


@pytest.fixture
def open_page(browser, server):
    """open_page(viewport) → (context, page, console) on the login screen; any console error fails the test."""
    opened = []

    def open_(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(OBSERVER)
        page = context.new_page()
        console = Console(page)
        opened.append((context, console))
        page.goto(server.base_url + "/")
        page.wait_for_selector("#auth-email")
        return context, page, console

    yield open_
    problems = [error for _, console in opened for error in console.unexpected()]
    for context, _ in opened:
        context.close()
    assert problems == [], problems


def login(page, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    page.fill("#auth-email", email)
    page.fill("#auth-password", password)
    page.click(".auth-form button[type=submit]")


def login_live(page, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    """Log in and wait until the socket is connected (the tab hears changes from then on)."""
    login(page, email, password)
    page.wait_for_selector(".status[data-state=live]")


def goto(page, route):
    page.click(f'.nav-link[data-route="{route}"]')
    page.wait_for_selector(f'.nav-link.active[data-route="{route}"]')


def row(page, text):
    return page.locator("tbody tr", has_text=text)


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def seen(page):
    return page.evaluate("window.__seen")


def wait_seq(page, seq):
    """Until this tab has applied every change up to seq (its own included)."""
    page.wait_for_function("(seq) => Number(document.body.dataset.seq || 0) >= seq", arg=seq)


def submit(page):
    page.locator("dialog button[type=submit]").click()


def add_role(page, name):
    """Create a role through the console's dialog."""
    page.click("[data-action=new-role]")
    page.fill("dialog [name=roleName]", name)
    submit(page)


def same_rows(page, reference, selector):
    """page ends showing exactly what reference shows (retried until it converges or times out)."""
    expected = reference.locator(selector).all_inner_texts()
    assert expected
    expect(page.locator(selector)).to_have_text(expected, use_inner_text=True)


def admin_two(server):
    """A second admin, admin2@seam.test (password PASSWORD); returns the first admin's token."""
    token = server.api.login()
    server.api.create_user(token, "admin2@seam.test", server.api.role_id(token, "admin"), "Segunda Admin")
    return token


def two_tabs_on_roles(open_page):
    """The admin's tab and a second admin's (see admin_two), both live on the roles screen with its 2 rows.

    → (second admin's context, page, console; the admin's page): the first is the one a test takes offline.
    """
    context, other, console = open_page()
    _, online, _ = open_page()
    login_live(online)
    login_live(other, "admin2@seam.test", PASSWORD)
    for page in (online, other):
        goto(page, "/roles")
        expect(page.locator("tbody tr")).to_have_count(2)
    return context, other, console, online

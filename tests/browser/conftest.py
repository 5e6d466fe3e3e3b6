"""Browser fixtures: a real SEAM subprocess on a free loopback port, Debian's Chromium via Playwright (sync API).

The Playwright sync API cannot run inside pytest-tornasync's event loop, so the server runs as
`python seam.py` in its own process with a temp database, exactly as an operator starts it.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
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


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    """Plain JSON calls for arranging a scenario (the browser does the acting)."""

    def __init__(self, base_url):
        self.base_url = base_url

    def fetch(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + "/api/v1" + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def ok(self, method, path, body=None, token=None):
        status, envelope = self.fetch(method, path, body, token)
        assert status in (200, 201), (method, path, status, envelope)
        return envelope["data"]

    def login(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        return self.ok("POST", "/auth/login", {"email": email, "password": password})["token"]

    def permission_id(self, token, name_uri):
        return next(p["idPermission"] for p in self.ok("GET", "/permission", token=token) if p["nameUri"] == name_uri)

    def item_id(self, token, name):
        return next(i["idItem"] for i in self.ok("GET", "/sidebar/items", token=token) if i["nameItem"] == name)

    def create_user(self, token, email, role_id, full_name):
        body = {"full_name": full_name, "email": email, "password": PASSWORD, "roleId": role_id}
        return self.ok("POST", "/users", body, token)["idUser"]

    def latest_seq(self, token):
        status, envelope = self.fetch("GET", f"/changes?since={2**53 - 1}&limit=1", token=token)
        assert status == 200, envelope
        return envelope["meta"]["latestSeq"]


class Server:
    def __init__(self, tmp_path, env):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "seam.log"
        environ = {
            **os.environ,
            "SEAM_PORT": str(self.port),
            "SEAM_ADDRESS": "127.0.0.1",
            "SEAM_DB_PATH": str(tmp_path / "seam.db"),
            "SEAM_ADMIN_EMAIL": ADMIN_EMAIL,
            "SEAM_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SEAM_BCRYPT_ROUNDS": "4",
            "SEAM_LOG_LEVEL": "warning",
            **env,
        }
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "seam.py")],
            cwd=tmp_path,
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.api = Api(self.base_url)
        self._wait_healthy()

    def _wait_healthy(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SEAM exited early: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"SEAM did not become healthy: {self.log_path.read_text()}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.log.close()


@pytest.fixture
def seam_env():
    """Extra SEAM_* settings for the server; override in a module."""
    return {}


@pytest.fixture
def server(tmp_path, seam_env):
    started = Server(tmp_path, seam_env)
    yield started
    started.stop()


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

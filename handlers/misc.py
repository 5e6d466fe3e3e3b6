# SPDX-License-Identifier: MIT
"""Routes outside the operation model: health, the console's static files, the JSON 404."""

import os
import sys

import tornado.web

import messages as msg
from store.errors import AppError
from web.responses import envelope, prepare_error, set_security_headers

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class JsonHandler(tornado.web.RequestHandler):
    """Plain JSON responses in the envelope, with the security headers."""

    def set_default_headers(self):
        set_security_headers(self)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code, **kwargs):
        self.finish(prepare_error(self, status_code, kwargs)[1])

    def log_exception(self, typ, value, tb):
        """An expected refusal (/healthz's 503) is its access-log line, not a traceback."""
        if not isinstance(value, AppError):
            super().log_exception(typ, value, tb)


class HealthHandler(JsonHandler):
    """200 with SEAM's version while the database can be read and written; 503 (and Retry-After) when it is
    locked by another process or its disk is full, as writes would answer."""

    async def get(self):
        services = self.settings["seam"]
        await services.db.fetchone("SELECT 1")
        await services.db.check_writable()
        health = {"status": "ok", "version": self.settings["version"]}
        if services.shared:  # one of several processes: whether Redis links it to the others (it serves either way)
            health["redis"] = services.hub.redis_state
        self.finish(envelope(True, msg.HEALTHY, health))

    head = get


class NotFoundHandler(JsonHandler):
    """Last rule: any unknown route answers the JSON 404 envelope."""

    def prepare(self):
        raise tornado.web.HTTPError(404)


class ConsoleHandler(tornado.web.StaticFileHandler):
    """The bundled console; unknown files get the JSON 404, index.html gets a strict CSP."""

    def set_default_headers(self):
        set_security_headers(self)
        self.set_header("Content-Security-Policy", CONSOLE_CSP)

    def parse_url_path(self, url_path):
        """No file has a NUL in its name, and os.path raises on one (it was a 500 with a traceback)."""
        if "\x00" in url_path:
            raise tornado.web.HTTPError(404)
        return super().parse_url_path(url_path)

    def write_error(self, status_code, **kwargs):
        self.finish(prepare_error(self, status_code, kwargs)[1])


def static_root(configured):
    """The configured directory, else the bundled console: beside the sources, or unpacked from the binary."""
    bundle = getattr(sys, "_MEIPASS", None) or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return configured or os.path.join(bundle, "static")

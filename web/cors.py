# SPDX-License-Identifier: MIT
"""CORS for configured origins only (SPEC §8); no origins configured means no CORS headers at all."""

ALLOWED_HEADERS = "Authorization, Content-Type, X-Socket-ID, X-Operation-ID"
ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"


class Cors:
    def __init__(self, origins):
        self.origins = frozenset(origins)

    def allow(self, handler):
        origin = handler.request.headers.get("Origin")
        if origin and origin in self.origins:
            handler.set_header("Access-Control-Allow-Origin", origin)
            handler.set_header("Access-Control-Expose-Headers", "X-Operation-ID")
            handler.add_header("Vary", "Origin")

    def preflight(self, handler):
        origin = handler.request.headers.get("Origin")
        if origin and origin in self.origins:
            handler.set_header("Access-Control-Allow-Methods", ALLOWED_METHODS)
            handler.set_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            handler.set_header("Access-Control-Max-Age", "600")
        handler.set_status(204)

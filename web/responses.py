# SPDX-License-Identifier: MIT
"""The JSON envelope, security headers and the one exception → (status, message) mapping."""

import json
import logging

import tornado.web

import messages as msg
from store.errors import CONSTRAINT_ERRORS, AppError

log = logging.getLogger("seam.api")

HTTP_MESSAGES = {  # Tornado's own errors; any other 4xx says BAD_REQUEST
    403: msg.FORBIDDEN,
    413: msg.BODY_TOO_LARGE,
}


def envelope(success, message, data=None, meta=None):
    body = {"success": success, "message": message}
    if success:
        body["data"] = data
        if meta is not None:
            body["meta"] = meta
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


# JSON needs no resources: nothing may load or frame it. The console replaces this with its own policy.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"


# On every response: no sniffing, no framing, no referrer, no resources (and no Server header).
SECURITY_HEADERS = {
    "Content-Security-Policy": DATA_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def set_security_headers(handler):
    handler.clear_header("Server")
    for name, value in SECURITY_HEADERS.items():
        handler.set_header(name, value)


def describe_error(error, status_code, request):
    """Any exception → (status, client-safe message, extra headers); internals never leak."""
    if isinstance(error, AppError):
        return error.status, error.message, error.headers
    if isinstance(error, CONSTRAINT_ERRORS):
        text = str(error)
        if "UNIQUE" in text:
            return 409, msg.DUPLICATE_RECORD, {}
        if "FOREIGN KEY" in text and request.method == "DELETE":
            return 409, msg.STILL_REFERENCED, {}
        return 400, msg.MISSING_REFERENCE, {}
    if isinstance(error, tornado.web.HTTPError) or (error is None and status_code < 500):
        status = error.status_code if error is not None else status_code
        if status in (404, 405):  # a method a path does not serve is an unknown route, as in the original
            return 404, msg.ROUTE_NOT_FOUND.format(method=request.method, path=request.path), {}
        if status < 500:
            return status, HTTP_MESSAGES.get(status, msg.BAD_REQUEST), {}
    return 500, msg.INTERNAL_ERROR, {}


def prepare_error(handler, status_code, kwargs):
    """For RequestHandler.write_error: set the exception's status and headers; (message, envelope) to finish with."""
    error = kwargs.get("exc_info", (None, None, None))[1]
    status, message, headers = describe_error(error, status_code, handler.request)
    for name, value in headers.items():
        handler.set_header(name, value)
    handler.set_header("Content-Type", "application/json; charset=UTF-8")
    handler.set_status(status)
    return message, envelope(False, message)

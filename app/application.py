# SPDX-License-Identifier: MIT
"""The Tornado application: the API handlers, OpenAPI, health, Socket.IO and the console, JSON 404 last."""

import logging

import tornado.httpserver
import tornado.web

from app.version import VERSION
from handlers import API_HANDLERS, CHANGE_OPERATIONS, READ_PERMISSIONS, ROUTE_TABLE
from handlers.misc import ConsoleHandler, HealthHandler, NotFoundHandler, static_root
from handlers.openapi import OpenApiHandler, document
from handlers.routing import API_PREFIX, regex
from security.durations import parse_duration
from web.listener import Listener

access_log = logging.getLogger("seam.access")


def log_request(handler):
    """One line per request: never bodies, query strings, tokens or passwords. The client's address is the
    proxy-aware one (X-Real-IP with proxy_headers), as login throttling counts it."""
    status = handler.get_status()
    level = logging.INFO if status < 500 else logging.ERROR
    identity = getattr(handler, "identity", None)
    access_log.log(
        level,
        "%s %s %d %.1fms op=%s user=%s ip=%s",
        handler.request.method,
        handler.request.path,
        status,
        1000.0 * handler.request.request_time(),
        getattr(handler, "operation_id", "-"),
        identity.user.idUser if identity else "-",
        handler.request.remote_ip,
    )


def api_rules(handlers):
    """Tornado rules for the API, the most specific pattern first: the handlers' list order does not matter."""
    routes = [(next(iter(handler.routes.values())), handler) for handler in handlers]
    return [(regex(route.pattern), handler) for route, handler in sorted(routes, key=lambda r: r[0].specificity)]


def make_app(services):
    """The Tornado application for one started Services instance."""
    rules = api_rules(API_HANDLERS) + [
        (API_PREFIX + r"/openapi\.json", OpenApiHandler, {"document": document(ROUTE_TABLE, services.config, VERSION)}),
        (r"/healthz", HealthHandler),
        (r"/socket\.io/", services.hub.tornado_handler()),
        (r"/api/.*", NotFoundHandler),
        (
            r"/(.*)",
            ConsoleHandler,
            {"path": static_root(services.config["static_path"]), "default_filename": "index.html"},
        ),
    ]
    return tornado.web.Application(
        rules,
        seam=services,
        log_function=log_request,
        read_permissions=READ_PERMISSIONS,
        change_operations=CHANGE_OPERATIONS,
        version=VERSION,
        default_handler_class=NotFoundHandler,
    )


def make_server(app, config):
    """The HTTP server for `app` with SEAM's limits (SPEC §10 "Connections"), as a Listener to give sockets to.

    A connection that takes longer than header_timeout to send a request's headers (slow headers, or idle
    keep-alive between requests) or body_timeout for its body is closed; at most max_connections are open.
    Bodies over max_body_bytes get the API's 413 first; Tornado's own cap, above it, covers the other routes.
    """
    server = tornado.httpserver.HTTPServer(
        app,
        xheaders=config["proxy_headers"],
        max_body_size=2 * config["max_body_bytes"],
        idle_connection_timeout=parse_duration(config["header_timeout"]),
        body_timeout=parse_duration(config["body_timeout"]),
    )
    return Listener(server, config["max_connections"])

# SPDX-License-Identifier: MIT
"""The Tornado application: the API handlers, OpenAPI, health, Socket.IO and the console, JSON 404 last."""

import logging

import tornado.httpserver
import tornado.web

from app.version import VERSION
from handlers import API_HANDLERS, CHANGE_OPERATIONS, READ_PERMISSIONS, ROUTE_TABLE
from handlers.metrics import MetricsHandler
from handlers.misc import ConsoleHandler, HealthHandler, NotFoundHandler, static_root
from handlers.openapi import OpenApiHandler, document
from handlers.routing import API_PREFIX, regex
from security.durations import parse_duration
from web.listener import Listener

access_log = logging.getLogger("seam.access")


class RequestLog:
    """Tornado's log_function: every finished request moves the metrics (when on) and writes one access line.

    The line never holds a body, a query string, a token or a password; it names the client by its proxy-aware
    address (X-Real-IP with proxy_headers), as login throttling counts it. Requests are labelled by the route
    pattern they matched (`/api/v1/users/:id`), never by their raw path: labels must stay few.
    """

    def __init__(self, metrics, routes, structured):
        self.metrics = metrics
        self.routes = routes  # handler class -> route pattern
        self.structured = structured  # log_format=json: the line carries its fields (only JSON writes them)

    def __call__(self, handler):
        request, status = handler.request, handler.get_status()
        seconds = request.request_time()
        route = self.routes.get(type(handler), "other")
        if self.metrics is not None:
            self.metrics.request(route, request.method, status, seconds)
        level = logging.INFO if status < 500 else logging.ERROR
        if not access_log.isEnabledFor(level):
            return
        identity = getattr(handler, "identity", None)
        operation_id = getattr(handler, "operation_id", None)
        user_id = identity.user.idUser if identity else None
        extra = None
        if self.structured:  # text lines never read them: no record carries them for nothing
            extra = {
                "access": {
                    "method": request.method,
                    "route": route,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round(1000.0 * seconds, 1),
                    "operationId": operation_id,
                    "userId": user_id,
                    "client": request.remote_ip,
                }
            }
        access_log.log(
            level,
            "%s %s %d %.1fms op=%s user=%s ip=%s",
            request.method,
            request.path,
            status,
            1000.0 * seconds,
            operation_id or "-",
            "-" if user_id is None else user_id,
            request.remote_ip,
            extra=extra,
        )


def api_route(handler):
    """An API handler's routes all share one pattern (handler_routes checks it): any of them names it."""
    return next(iter(handler.routes.values()))


def api_rules(handlers):
    """Tornado rules for the API, the most specific pattern first: the handlers' list order does not matter."""
    routes = [(api_route(handler), handler) for handler in handlers]
    return [(regex(route.pattern), handler) for route, handler in sorted(routes, key=lambda r: r[0].specificity)]


def make_app(services):
    """The Tornado application for one started Services instance; /metrics only when `metrics` is on."""
    socket_handler = services.hub.tornado_handler()
    metrics = [(r"/metrics", MetricsHandler)] if services.metrics is not None else []
    rules = api_rules(API_HANDLERS) + [
        (API_PREFIX + r"/openapi\.json", OpenApiHandler, {"document": document(ROUTE_TABLE, services.config, VERSION)}),
        (r"/healthz", HealthHandler),
        (r"/socket\.io/", socket_handler),
        *metrics,
        (r"/api/.*", NotFoundHandler),
        (
            r"/(.*)",
            ConsoleHandler,
            {"path": static_root(services.config["static_path"]), "default_filename": "index.html"},
        ),
    ]
    routes = {
        **{handler: API_PREFIX + api_route(handler).pattern for handler in API_HANDLERS},
        OpenApiHandler: API_PREFIX + "/openapi.json",
        HealthHandler: "/healthz",
        socket_handler: "/socket.io/",
        MetricsHandler: "/metrics",
        NotFoundHandler: "unmatched",
        ConsoleHandler: "/*",
    }
    return tornado.web.Application(
        rules,
        seam=services,
        log_function=RequestLog(services.metrics, routes, services.config["log_format"] == "json"),
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

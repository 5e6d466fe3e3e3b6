"""Gathers every module's handlers in order, builds the route table and the Tornado application."""

import logging

import tornado.web

from handlers import auth, changes, permissions, roles, sidebar, users
from handlers.misc import ConsoleHandler, HealthHandler, NotFoundHandler, static_root
from handlers.routing import regex

API_MODULES = (auth, users, roles, permissions, sidebar, changes)
API_HANDLERS = [handler for module in API_MODULES for handler in module.HANDLERS]
ROUTE_TABLE = [route for handler in API_HANDLERS for route in handler.routes.values()]

access_log = logging.getLogger("seam.access")


def permission_catalog():
    """(nameUri, description) for every rbac route, plus register (SPEC §5), for seeding."""
    return [(r.permission, r.summary) for r in ROUTE_TABLE if r.guard == "rbac" or r.identifies]


def log_request(handler):
    """One line per request: never bodies, query strings, tokens or passwords."""
    status = handler.get_status()
    level = logging.INFO if status < 500 else logging.ERROR
    identity = getattr(handler, "identity", None)
    access_log.log(
        level,
        "%s %s %d %.1fms op=%s user=%s",
        handler.request.method,
        handler.request.path,
        status,
        1000.0 * handler.request.request_time(),
        getattr(handler, "operation_id", "-"),
        identity.user.idUser if identity else "-",
    )


def make_app(services):
    """The Tornado application for one started Services instance."""
    rules = [(regex(next(iter(h.routes.values())).pattern), h) for h in API_HANDLERS]
    rules += [
        (r"/healthz", HealthHandler),
        (r"/socket\.io/", services.hub.tornado_handler),
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
        default_handler_class=NotFoundHandler,
    )

# SPDX-License-Identifier: MIT
"""GET /metrics (issue 15): Prometheus text format, never public by accident.

Served only when `metrics` is on (otherwise the route does not exist), and then only to a client
on loopback or one that sends `Authorization: Bearer <metrics_token>`. With `proxy_headers` every
request comes from the proxy on loopback, so loopback proves nothing there: only the token counts
(app/config.py requires one in that case).
"""

import hmac

import messages as msg
from handlers.base import bearer_token
from handlers.misc import JsonHandler
from store.errors import AppError, Forbidden, Unauthorized
from web.addresses import is_loopback

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="metrics"'}


def refusal(request, config):
    """None when this request may read the metrics, else the error to answer with."""
    if not config["proxy_headers"] and is_loopback(request.remote_ip):
        return None
    expected = config["metrics_token"]
    if not expected:
        return Forbidden(msg.FORBIDDEN)
    try:
        given = bearer_token(request.headers.get("Authorization"))
    except Unauthorized:  # not a bearer token
        return Unauthorized(msg.TOKEN_INVALID, headers=CHALLENGE)
    if given is None:
        return Unauthorized(msg.TOKEN_REQUIRED, headers=CHALLENGE)
    if not hmac.compare_digest(given.encode(), expected.encode()):  # constant time: no guessing byte by byte
        return Unauthorized(msg.TOKEN_INVALID, headers=CHALLENGE)
    return None


class MetricsHandler(JsonHandler):
    def get(self):
        services = self.settings["seam"]
        error = refusal(self.request, services.config)
        if error is not None:
            self.send_error(error.status, exc_info=(AppError, error, None))
            return
        self.set_header("Content-Type", services.metrics.content_type)
        self.finish(services.metrics.exposition())

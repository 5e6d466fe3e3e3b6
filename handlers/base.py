# SPDX-License-Identifier: MIT
"""ApiHandler: the request as an operation (STYLE "The request, end to end").

prepare: operation id → route → body size → authenticate (401) → authorize (403) → `start`.
The HTTP method then validates path, query and body (400) and calls `on_<method>`.
Success goes through `ok`; every failure through `write_error`; `on_finish` closes
anything left open.
"""

import contextlib
import json
import logging
import re

import tornado.web

import messages as msg
from handlers import schema
from realtime.operations import Operation, operation_id_from
from store.errors import CONSTRAINT_ERRORS, AppError, Forbidden, Unauthorized, ValidationError
from store.unit import Origin
from web.logs import current_operation
from web.responses import envelope, prepare_error, set_security_headers

log = logging.getLogger("seam.api")
# A body is JSON only when it says so: another site can post a form, text/plain or an untyped body to SEAM
# without a CORS preflight, so none of those may be read as JSON (SPEC §10).
JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")


def _reject_duplicate_keys(pairs):
    keys = set()
    for key, _ in pairs:
        if key in keys:
            raise AppError(msg.DUPLICATE_JSON_KEY.format(key=key[:50]))
        keys.add(key)
    return dict(pairs)


def bearer_token(header):
    if not header or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(msg.TOKEN_INVALID)
    return token.strip()


@tornado.web.stream_request_body
class ApiHandler(tornado.web.RequestHandler):
    routes = {}

    @property
    def services(self):
        return self.settings["seam"]

    @property
    def user(self):
        return self.identity.user if self.identity else None

    def compute_etag(self):
        """No ETag: API responses are `no-store`, hashing every body would be wasted work."""
        return None

    def set_default_headers(self):
        set_security_headers(self)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.services.cors.allow(self)

    async def prepare(self):
        self.services.requests.enter()
        self.in_flight, self.body_complete = True, False
        self.identity = None
        self.op = None
        self.written = None
        self.chunks, self.size, self.too_large, self.refusal = [], 0, False, None
        self.operation_id = operation_id_from(self.request.headers.get("X-Operation-ID"))
        current_operation.set(self.operation_id)  # this request's task only: its log lines carry the id
        self.set_header("X-Operation-ID", self.operation_id)
        if self.request.method == "OPTIONS":
            self.services.cors.preflight(self)
            return
        self.route = self.routes.get(self.request.method)
        if self.route is None:  # answered once the body is read, like the refusals below
            self.refusal = AppError(msg.ROUTE_NOT_FOUND.format(method=self.request.method, path=self.request.path), 404)
            return
        length = self.request.headers.get("Content-Length", "0")
        if length.isdigit() and int(length) > self.services.config["max_body_bytes"]:
            raise AppError(msg.BODY_TOO_LARGE, 413)
        if self.services.shared:
            await self.services.freshen()  # what other processes committed applies to this request already
        try:
            await self._authenticate()
            self.authorize()
        except AppError as refusal:
            # Answered in _run, once the body is read: answering now makes tornado drop the connection with
            # the body unread, and a keep-alive client's next request on it fails with a connection reset.
            self.refusal = refusal
            return
        self._open_operation()

    async def _authenticate(self):
        header = self.request.headers.get("Authorization")
        if self.route.guard == "public" and not (self.route.identifies and header):
            return
        token = bearer_token(header)
        if token is None:
            raise Unauthorized(msg.TOKEN_REQUIRED)
        self.identity = await self.services.auth.identify(token)
        if not self.route.while_must_change:
            self.identity.ensure_password_changed()
        if self.route.guard == "rbac" and not self.identity.can(self.route.permission):
            raise Forbidden(msg.FORBIDDEN)

    def authorize(self):
        """Route-specific refusals that must come before the operation opens (403, no events)."""

    def _open_operation(self):
        socket_id = self.request.headers.get("X-Socket-ID", "")[:128]
        user_id = self.user.idUser if self.user else None
        self.op = Operation(self.services.hub, self.route.operation, self.operation_id, socket_id, user_id)
        self.op.start()

    def data_received(self, chunk):
        if self.too_large:
            return
        self.size += len(chunk)
        if self.size > self.services.config["max_body_bytes"]:
            # Answer at once: tornado then closes the connection instead of reading on (and, past its
            # own limit, replying a bare 400) — this is how a chunked body too large gets its 413.
            self.too_large, self.chunks = True, []
            self.send_error(413, exc_info=(AppError, AppError(msg.BODY_TOO_LARGE, 413), None))
        elif self.refusal is None:  # a refused body is only read to the end, never kept
            self.chunks.append(chunk)

    async def get(self, **params):
        await self._run(params)

    post = put = delete = patch = head = get  # unserved ones are refused in _run, once the body is read

    async def options(self, **params):
        self.body_complete = True
        self.finish()

    def finish(self, chunk=None):
        if not getattr(self, "body_complete", False):
            # Answered before the body was read (413, or a failure in prepare): Tornado then closes the
            # connection, so say so, or a pooled client sends its next request down a closed socket (SPEC §8).
            self.set_header("Connection", "close")
        return super().finish(chunk)

    async def _run(self, params):
        self.body_complete = True
        if self.too_large:
            raise AppError(msg.BODY_TOO_LARGE, 413)
        if self.refusal is not None:
            raise self.refusal
        self.params = {name: self._path_id(name, value) for name, value in params.items()}
        self.query = self._parse_query() if self.route.query else None
        self.body = (
            schema.parse(self.route.body, self._json_body(), limits=self.services.config) if self.route.body else None
        )
        await getattr(self, f"on_{self.request.method.lower()}")()

    def decode_argument(self, value, name=None):
        """Undecodable path bytes (/users/%FF) reach the id check as text, for its 400, not Tornado's."""
        return value.decode("utf-8", "replace")

    @staticmethod
    def _path_id(name, value):
        if not schema.DIGITS.match(value):
            raise AppError(msg.FIELD_TYPE.format(field=name, type="number"))
        return int(value)

    def _parse_query(self):
        source = {}
        for name in schema.rules(self.route.query):
            values = self.request.query_arguments.get(name)
            if values:
                source[name] = values[-1].decode("utf-8", "replace")
        return schema.parse(self.route.query, source, from_query=True, limits=self.services.config)

    def _json_body(self):
        raw = b"".join(self.chunks)
        if not raw.strip():
            return {}
        content_type = self.request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if not JSON_TYPE.match(content_type):
            raise AppError(msg.UNSUPPORTED_CONTENT_TYPE)
        try:
            body = json.loads(raw, object_pairs_hook=_reject_duplicate_keys)
        except (ValueError, RecursionError):
            raise AppError(msg.MALFORMED_JSON) from None
        if not isinstance(body, dict):
            raise AppError(msg.BODY_NOT_OBJECT)
        return body

    def processing(self, message, data=None):
        self.op.processing(message, data)

    @contextlib.asynccontextmanager
    async def unit(self):
        """This operation's one write (store/unit.py): its change row names the operation, caller and socket."""
        route = self.route
        if not route.mutating:
            raise RuntimeError(f"{route.operation} is a read route: it may not write")
        if self.written is not None:
            raise RuntimeError(f"{route.operation}: one unit of work per operation")
        origin = Origin(
            operation=route.operation,
            operation_id=self.operation_id,
            actor_id=self.user.idUser if self.user else None,
            initiator=await self.op.initiator(),
            read_permission=self.settings["read_permissions"].get(route.resource),
            broadcast=route.broadcast,
        )
        async with self.services.writes.unit(origin, hold=self.op.settled) as tx:
            yield tx
        self.written = tx

    def fields_to_update(self):
        """The body's fields the client sent; a partial update with none of them is a 400."""
        fields = schema.given(self.body)
        if not fields:
            raise ValidationError(msg.NOTHING_TO_UPDATE)
        return fields

    async def update_recorded(self, repository, record_id, fields, message, view):
        """Read, update and audit one record in one transaction; returns the updated record."""
        self.processing(msg.OP_CHECKING)
        async with self.unit() as tx:
            before = await repository.require(record_id, tx)
            self.processing(msg.OP_SAVING)
            after = await repository.update(tx, record_id, fields)
            tx.record(message, view(after), before=view(before), after=view(after))
        return after

    async def ok(self, data, message, meta=None, event_data=schema.UNSET):
        """The one success path: the success event, then this operation's change goes out, then the response."""
        if self.route.mutating and self.written is None:
            raise RuntimeError(f"{self.route.operation} is a mutating route but committed no unit of work")
        self.op.success(message, data if event_data is schema.UNSET else event_data)
        await self.op.drained()
        if self.written is not None and self.written.published is not None:
            await self.written.published
        self.set_status(self.route.status)
        self.finish(envelope(True, message, data, meta))

    def write_error(self, status_code, **kwargs):
        self.set_header("X-Operation-ID", getattr(self, "operation_id", ""))
        message, body = prepare_error(self, status_code, kwargs)
        if getattr(self, "op", None) is not None:
            self.op.error(message)  # before finish(): on_finish would otherwise close it as an internal error
        self.finish(body)

    def log_exception(self, typ, value, tb):
        if isinstance(value, (AppError, tornado.web.HTTPError, *CONSTRAINT_ERRORS)):
            return
        log.error(
            "unexpected error in %s %s (operation %s)",
            self.request.method,
            self.request.path,
            getattr(self, "operation_id", "-"),
            exc_info=(typ, value, tb),
        )

    def on_connection_close(self):
        """A client gone before its body was complete never reaches the method or on_finish: close here."""
        super().on_connection_close()
        if not getattr(self, "body_complete", True):
            self.chunks = []  # a dropped partial body must not wait for a GC pass (seam.tune_gc makes them rare)
            self.on_finish()

    def on_finish(self):
        op = getattr(self, "op", None)
        if op is not None and not op.closed:
            op.error(msg.INTERNAL_ERROR)
        if getattr(self, "in_flight", False):
            self.in_flight = False
            self.services.requests.leave()

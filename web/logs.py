# SPDX-License-Identifier: MIT
"""Log lines for people (text) or for journald/Loki/ELK (`log_format=json`: one JSON object per line).

A line logged while a request is served carries that request's operationId (the id its client sees in
X-Operation-ID and in operation:progress), so one request can be followed across loggers.
"""

import contextvars
import datetime
import json
import logging

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Set by the API handler for the request it serves; each request runs in its own task, so its own context.
current_operation = contextvars.ContextVar("current_operation", default=None)


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", "operationId"?, ...access fields, "exception"?} on one line.

    Access lines pass their fields as `extra={"access": {...}}`; they are written as they are, so they
    must hold no secret (app/application.py writes method, route, path, status, duration, ids, client).
    """

    def format(self, record):
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        operation_id = current_operation.get()
        if operation_id is not None:
            entry["operationId"] = operation_id
        entry.update(getattr(record, "access", ()))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ASCII only: a U+2028 in a message would split the line for consumers that honour Unicode line breaks.
        return json.dumps(entry, default=str)


def formatter(log_format):
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)

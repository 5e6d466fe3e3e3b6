# SPDX-License-Identifier: MIT
"""Shared steps of the real-time tests: a barrier that proves "nothing else arrived", and event readers."""

import itertools
import json

_barriers = itertools.count(1)


def progress(recorder, operation_id=None):
    """(status, message) of the operation:progress events received, optionally of one operationId."""
    return [
        (e["status"], e["message"])
        for e in recorder.of("operation:progress")
        if operation_id is None or e["operationId"] == operation_id
    ]


def statuses(recorder, operation_id=None):
    return [status for status, _ in progress(recorder, operation_id)]


def changes(recorder):
    return recorder.of("data:changed")


async def barrier(api, admin_token, *recorders):
    """A broadcast every authenticated socket receives (any token may read roles; a new role changes no session);
    once it has arrived, earlier events have too.

    Emissions to one socket are delivered in order, so a recorder that got the barrier has
    everything emitted to it before; the caller then asserts on exactly what is there.
    """
    name = f"barrier-{next(_barriers)}"
    made = await api.fetch(
        "POST", "/roles", json={"roleName": name}, token=admin_token, headers={"X-Operation-ID": name}
    )
    assert made.status == 201, made.body
    for recorder in recorders:
        await recorder.wait_for(lambda events: any(n == "data:changed" and e["operationId"] == name for n, e in events))
    return name


def without_barriers(recorder):
    """The recorder's events, minus those of barrier operations (progress to the admin's tabs included)."""
    return [
        (name, data)
        for name, data in recorder.events
        if not (isinstance(data, dict) and str(data.get("operationId", "")).startswith("barrier-"))
    ]


def no_secrets(events, *secrets):
    """No event mentions a bcrypt hash, a password field, a temporaryPassword or any given secret."""
    text = json.dumps(events, ensure_ascii=False)
    assert "$2b$" not in text and "$2a$" not in text
    assert '"password"' not in text and "password_hash" not in text and "temporaryPassword" not in text
    for secret in secrets:
        assert secret not in text

# SPDX-License-Identifier: MIT
"""An upgraded library the fast path was not verified against: one log line, then the stock delivery (issue 17)."""

import logging

import pytest
import socketio

from realtime import fanout
from tests.support.realtime import barrier, changes


@pytest.fixture(autouse=True)
def unverified_engineio(monkeypatch, caplog):
    """Before the server is built: pretend python-engineio was upgraded."""
    caplog.set_level(logging.WARNING, logger="seam.realtime")
    monkeypatch.setitem(fanout.VERIFIED, "python-engineio", "0.0.1")


async def test_an_unverified_library_version_falls_back_to_the_stock_manager(api, sockets, services, caplog):
    manager = services.hub.sio.manager
    assert type(manager) is socketio.AsyncManager
    lines = [r.getMessage() for r in caplog.get_records("setup") if "fast path" in r.getMessage()]
    assert lines == [
        "broadcast fast path off (python-engineio 4.15.1 is not the verified 0.0.1): "
        "delivering through python-socketio's own manager"
    ]
    admin = await api.login()
    tab = await sockets(admin)
    created = await api.fetch("POST", "/roles", json={"roleName": "delivered"}, token=admin)
    assert created.status == 201
    await barrier(api, admin, tab)
    assert [c["operation"] for c in changes(tab)] == ["roles:create", "roles:create"]

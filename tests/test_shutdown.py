# SPDX-License-Identifier: MIT
"""Stopping `python seam.py` with SIGTERM (SPEC §8): in-flight work ends, sockets close, exit code 0."""

import asyncio
import json
import signal
from http.client import HTTPConnection

import pytest

import messages as msg
from bench.seam_process import STOP_SECONDS, http_json
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, Api, EventRecorder


async def test_sigterm_with_a_socket_connected_exits_cleanly(processes):
    """Regression: the hub was shut down twice (serve, then Services.stop) and the second time raised."""
    seam = processes.seam()
    recorder = EventRecorder(seam.base_url)
    try:
        await recorder.connect(await Api(seam.base_url).login())
        assert seam.stop() == 0, seam.output()
        await asyncio.wait_for(recorder.disconnected.wait(), STOP_SECONDS)
    finally:
        await recorder.close()
    assert "Traceback" not in seam.output()
    assert seam.output().rstrip().endswith("INFO seam: stopped")


@pytest.mark.timeout(120)
def test_sigterm_lets_an_in_flight_request_finish(processes):
    """A login hashing (slow bcrypt) when SIGTERM arrives still gets its 200; then the exit is clean."""
    seam = processes.seam(bcrypt_rounds=13)
    slow = HTTPConnection("127.0.0.1", seam.port, timeout=60)
    body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    slow.request("POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
    # Served in order on one loop: once a later request is answered, the login has been read.
    assert http_json("GET", f"{seam.base_url}/healthz")[0] == 200
    seam.popen.send_signal(signal.SIGTERM)
    response = slow.getresponse()
    assert response.status == 200 and json.loads(response.read())["message"] == msg.LOGGED_IN
    assert seam.popen.wait(STOP_SECONDS) == 0
    assert "ERROR" not in seam.output()

"""Stopping `python seam.py` with SIGTERM (SPEC §8): in-flight work ends, sockets close, exit code 0."""

import asyncio

from tests.conftest import Api, EventRecorder
from tests.processes import STOP_SECONDS, serve_from_source


async def test_sigterm_with_a_socket_connected_exits_cleanly(tmp_path, processes):
    """Regression: the hub was shut down twice (serve, then Services.stop) and the second time raised."""
    seam, port = serve_from_source(processes, tmp_path)
    base_url = f"http://127.0.0.1:{port}"
    recorder = EventRecorder(base_url)
    try:
        await recorder.connect(await Api(base_url).login())
        assert seam.stop() == 0, seam.output()
        await asyncio.wait_for(recorder.disconnected.wait(), STOP_SECONDS)
    finally:
        await recorder.close()
    assert "Traceback" not in seam.output()
    assert seam.output().rstrip().endswith("INFO seam: stopped")

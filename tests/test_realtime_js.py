"""Interop with the official JavaScript client (socket.io-client 4.x on Node.js), as browsers use it.

Needs `node` and tests/js/node_modules (`.ci/system-deps` runs `npm ci`); without them this test
fails rather than skips, so CI can never pass without actually running it.
"""

import asyncio
import functools
import json
import pathlib
import shutil
import subprocess

import pytest

import messages as msg
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD

JS = pathlib.Path(__file__).parent / "js"


@pytest.mark.timeout(30)
async def test_official_js_client_gets_handshake_errors_progress_and_changes(base_url):
    node = shutil.which("node")
    assert node, "Node.js is required for the interop test (run .ci/system-deps)"
    assert (JS / "node_modules" / "socket.io-client").is_dir(), "run `npm ci` in tests/js (.ci/system-deps does)"
    command = [node, str(JS / "interop.mjs"), base_url, ADMIN_EMAIL, ADMIN_PASSWORD]
    run = functools.partial(subprocess.run, command, cwd=JS, capture_output=True, text=True, timeout=25)
    # In a worker thread, so this loop keeps serving the script's requests and sockets meanwhile.
    process = await asyncio.get_running_loop().run_in_executor(None, run)
    assert process.returncode == 0, process.stderr
    report = json.loads(process.stdout)
    assert report["missingToken"] == msg.SOCKET_TOKEN_REQUIRED
    assert report["badToken"] == msg.TOKEN_INVALID
    assert report["status"] == 201 and report["operationIdHeader"] == "js-op-1"
    tab = [(name, payload) for name, payload in report["tab"]]
    assert [(n, p.get("status")) for n, p in tab] == [
        ("operation:progress", "start"),
        ("operation:progress", "processing"),
        ("operation:progress", "success"),
        ("data:changed", None),
    ]
    assert {p["operationId"] for _, p in tab} == {"js-op-1"}
    change = tab[-1][1]
    assert change["operation"] == "roles:create" and change["data"]["roleName"] == "from-node"
    assert change["initiatorSocketId"] == report["tabSocketId"] and change["seq"] == 1
    assert report["other"] == [["data:changed", change]]

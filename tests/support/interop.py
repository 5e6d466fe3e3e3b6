# SPDX-License-Identifier: MIT
"""The official socket.io-client (Node.js, tests/js/interop.mjs) against a live SEAM: run it, check its report."""

import asyncio
import functools
import json
import os
import pathlib
import shutil
import subprocess

import messages as msg
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD

JS = pathlib.Path(__file__).resolve().parent.parent / "js"


async def run_interop(base_url, ca_file=None):
    """The script's JSON report; it fails (not skips) without Node.js, so CI never passes without running it."""
    node = shutil.which("node")
    assert node, "Node.js is required for the interop test (run .ci/system-deps)"
    assert (JS / "node_modules" / "socket.io-client").is_dir(), "run `npm ci` in tests/js (.ci/system-deps does)"
    env = {**os.environ, **({"NODE_EXTRA_CA_CERTS": str(ca_file)} if ca_file else {})}
    command = [node, str(JS / "interop.mjs"), base_url, ADMIN_EMAIL, ADMIN_PASSWORD]
    run = functools.partial(subprocess.run, command, cwd=JS, env=env, capture_output=True, text=True, timeout=25)
    # In a worker thread, so a server on this loop keeps serving the script's requests and sockets meanwhile.
    process = await asyncio.get_running_loop().run_in_executor(None, run)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout)


def check_interop_report(report):
    """Handshake errors, then the tab's (polling, then upgraded) exact event sequence and the other tab's change."""
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

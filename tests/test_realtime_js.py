# SPDX-License-Identifier: MIT
"""Interop with the official JavaScript client (socket.io-client 4.x on Node.js), as browsers use it.

Needs `node` and tests/js/node_modules (`.ci/system-deps` runs `npm ci`); without them this test
fails rather than skips, so CI can never pass without actually running it.
"""

import pytest

from tests.support.interop import check_interop_report, run_interop


@pytest.mark.timeout(30)
async def test_official_js_client_gets_handshake_errors_progress_and_changes(base_url):
    check_interop_report(await run_interop(base_url))

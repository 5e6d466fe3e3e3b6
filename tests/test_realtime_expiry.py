# SPDX-License-Identifier: MIT
"""A socket does not outlive its token (SPEC §6): tokens here live 2 seconds."""

import pytest

import messages as msg
from tests.support.realtime import statuses
from tests.test_realtime_session import refused

pytestmark = pytest.mark.both_backends


@pytest.fixture
def overrides():
    return {"jwt_expires": "2"}


@pytest.mark.timeout(20)
async def test_socket_is_revoked_and_disconnected_when_its_token_expires(api, sockets, base_url):
    token = await api.login()
    tab = await sockets(token)
    refreshed = await api.fetch("POST", "/auth/refresh", token=token, headers={"X-Socket-ID": tab.sid})
    assert refreshed.status == 200 and refreshed.data["expiresIn"] == "2"
    await tab.disconnected.wait()
    assert tab.events[-1] == ("session:revoked", {"reason": msg.REVOKED_EXPIRED})
    assert statuses(tab) == ["start", "success"]
    assert not tab.client.connected
    assert await refused(base_url, token) == msg.TOKEN_INVALID

"""Shutdown: serve() closes the hub before the HTTP connections, then Services.stop closes it again."""


async def test_closing_the_hub_twice_disconnects_sockets_and_does_not_fail(api, sockets, services):
    token = await api.login()
    tab = await sockets(token)
    await services.hub.close()
    await services.hub.close()
    await tab.wait_for(lambda events: tab.disconnected.is_set())
    assert services.hub.sockets == {}

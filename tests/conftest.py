# SPDX-License-Identifier: MIT
"""Fixtures: a real SEAM on a loopback port with a fresh temp database, HTTP and Socket.IO clients."""

import asyncio

import pytest
import tornado.ioloop

from app.application import make_app, make_server
from app.config import validate
from app.services import Services
from handlers import permission_catalog
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, Api, EventRecorder
from tests.support.postgres import PostgresServer

pytest_plugins = ["tests.support.processes"]  # the `processes` fixture
BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc):
    """Modules marked both_backends run each test on both databases, but for the tests marked sqlite_only."""
    definition = metafunc.definition
    if "backend" in metafunc.fixturenames and definition.get_closest_marker("both_backends"):
        chosen = ("sqlite",) if definition.get_closest_marker("sqlite_only") else BACKENDS
        metafunc.parametrize("backend", chosen, indirect=True, ids=chosen)


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL for the session (tests/support/postgres.py); started on first use."""
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture
def backend(request):
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_settings(request, backend):
    """{} for SQLite (db_path in the test's temp dir); a fresh PostgreSQL database's database_url otherwise."""
    if backend == "postgres":
        return {"database_url": request.getfixturevalue("postgres_server").database()}
    return {}


@pytest.fixture
def io_loop():
    """pytest-tornasync's loop, but background tasks (engineio pings) are cancelled before it closes."""
    loop = tornado.ioloop.IOLoop()
    yield loop
    asyncio_loop = loop.asyncio_loop

    async def cancel_pending():
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    if not asyncio_loop.is_closed():
        loop.run_sync(cancel_pending)
    loop.close(all_fds=True)


@pytest.fixture
def overrides():
    """Settings a test module wants changed; override this fixture in the module."""
    return {}


@pytest.fixture
def config(tmp_path, overrides, database_settings):
    return validate(
        {
            "db_path": str(tmp_path / "seam.db"),
            "bcrypt_rounds": 4,
            "admin_email": ADMIN_EMAIL,
            **database_settings,
            **overrides,
        }
    )


@pytest.fixture
def services(io_loop, config):
    started = Services(config, permission_catalog())
    io_loop.run_sync(lambda: started.start(ADMIN_PASSWORD))
    yield started
    io_loop.run_sync(started.stop)


@pytest.fixture
def app(services):
    return make_app(services)


@pytest.fixture
def http_server(app, config, io_loop, http_server_port):
    """pytest-tornasync's server fixture, but SEAM's server: its timeouts, body cap and connection cap."""
    listener = make_server(app, config)
    listener.add_sockets([http_server_port[0]])
    yield listener
    listener.stop()
    io_loop.run_sync(listener.server.close_all_connections)


@pytest.fixture
def base_url(http_server, http_server_port):
    return f"http://127.0.0.1:{http_server_port[1]}"


@pytest.fixture
def api(base_url):
    return Api(base_url)


@pytest.fixture
def sockets(base_url, io_loop):
    """Factory: `await sockets(token)` → connected EventRecorder; all closed at teardown."""
    made = []

    async def connect(token, **kwargs):
        recorder = EventRecorder(base_url)
        made.append(recorder)
        return await recorder.connect(token, **kwargs)

    yield connect
    for recorder in made:
        io_loop.run_sync(recorder.close)

# SPDX-License-Identifier: MIT
"""What only PostgreSQL (database_url) has to prove: seq in commit order under writers on several hosts, its
maintenance commands and refusals, and faults (the database restarted under load, a host killed mid-write).
The API contract itself runs on both backends in the resource and contract modules (ids sqlite, postgres)."""

import asyncio
import re

import pytest
import tornado.httpclient

import messages as msg
from app.config import validate
from app.services import Services
from bench.seam_process import seam_env
from handlers import permission_catalog
from store import postgres
from store.migrations import MIGRATIONS
from store.pg_migrations import MIGRATIONS as PG_MIGRATIONS
from store.unit import Origin
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, Api, EventRecorder
from tests.support.cluster import Hosts
from tests.support.postgres import PostgresServer
from tests.support.processes import run_seam
from tests.support.realtime import changes

pytestmark = pytest.mark.timeout(180)
WRITERS, MUTATIONS = 5, 500


def test_both_backends_have_the_same_numbered_migrations():
    assert len(PG_MIGRATIONS) == len(MIGRATIONS)
    assert [name for name, _ in PG_MIGRATIONS] == [name for name, _ in MIGRATIONS]


def test_every_camelcase_column_comes_back_with_its_name():
    """PostgreSQL folds unquoted names to lower case; store/postgres.py maps them back from its NAMES."""
    schema = "\n".join(sql for _, sql in MIGRATIONS)
    columns = re.findall(r"^\s*(\w+) (?:INTEGER|TEXT|REAL)|ADD COLUMN (\w+)", schema, re.MULTILINE)
    spelled = {name for found in columns for name in found if name and name != name.lower()}
    assert {"idRole", "readPermission"} <= spelled
    assert spelled - {"subjectUserId"} <= set(postgres.NAMES)  # subjectUserId: dropped by migration 3


async def test_five_writers_on_two_hosts_commit_in_seq_order_with_no_gap(processes, tmp_path, postgres_server):
    """500 mutations from 5 writers through 2 hosts, while a reader follows the feed by its cursor: the reader never
    sees a gap (a seq read before a smaller one committed would be one), the feed holds every acknowledged change,
    and every socket received exactly the feed, in its order."""
    hosts = Hosts(processes, tmp_path, postgres_server.database(), count=2, nginx=False)
    apis = [Api(url) for url in hosts.urls]
    admin = await apis[0].login()
    tabs = [await EventRecorder(url).connect(admin) for url in hosts.urls]
    start = (await apis[0].fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    acknowledged, done = [], asyncio.Event()

    async def writer(index):
        api = apis[index % 2]
        for n in range(MUTATIONS // WRITERS):
            made = await api.fetch("POST", "/roles", json={"roleName": f"w{index}-{n}"}, token=admin)
            assert made.status == 201, made.body
            acknowledged.append(made.headers["X-Operation-ID"])

    async def follower(api):
        """Reads the feed from its cursor as a client does, in a loop, until every mutation is read."""
        cursor, seen = start, []
        while not done.is_set() or cursor < start + MUTATIONS:
            page = (await api.fetch("GET", f"/changes?since={cursor}&limit=500", token=admin)).data
            for change in page:
                assert change["seq"] == cursor + 1, (cursor, change["seq"])  # no gap, no reorder
                cursor = change["seq"]
                seen.append(change)
            await asyncio.sleep(0)
        return seen

    followers = [asyncio.ensure_future(follower(api)) for api in apis]
    await asyncio.gather(*(writer(index) for index in range(WRITERS)))
    done.set()
    feeds = await asyncio.gather(*followers)
    seqs = [c["seq"] for c in feeds[0]]
    assert seqs == list(range(start + 1, start + MUTATIONS + 1))
    assert [c["seq"] for c in feeds[1]] == seqs
    assert sorted(c["operationId"] for c in feeds[0]) == sorted(acknowledged)  # every 2xx is in the feed
    for tab in tabs:
        for _ in range(300):
            if len(changes(tab)) >= MUTATIONS:
                break
            await asyncio.sleep(0.1)
        received = [c["seq"] for c in changes(tab)]
        assert received == seqs, sorted(set(seqs) - set(received))
        await tab.close()


def env_for(url, **settings):
    return seam_env(database_url=url, bcrypt_rounds=4, admin_email=ADMIN_EMAIL, **settings)


def test_maintenance_commands_work_and_backup_points_to_pg_dump(postgres_server, tmp_path):
    url = postgres_server.database()
    env = env_for(url, admin_password=ADMIN_PASSWORD)
    created = run_seam("create-admin", "ops@seam.test", cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    assert (
        created.stdout.splitlines()[0]
        == f"SEAM first start: admin account {ADMIN_EMAIL} with the password in SEAM_ADMIN_PASSWORD"
    )
    assert created.stdout.splitlines()[1] == "admin account ops@seam.test created"
    reset = run_seam("reset-password", "OPS@seam.test", cwd=tmp_path, env=env)
    assert reset.returncode == 0 and reset.stdout.startswith("new temporary password for OPS@seam.test: ")
    unlocked = run_seam("unlock", "ops@seam.test", cwd=tmp_path, env=env)
    assert (
        unlocked.returncode == 0
        and unlocked.stdout.strip() == "failed-login count of ops@seam.test cleared (0 recorded)"
    )
    assert run_seam("routes", cwd=tmp_path, env=env).returncode == 0
    backup = run_seam("backup", str(tmp_path / "copy.db"), cwd=tmp_path, env=env)
    assert backup.returncode == 2 and backup.stdout == ""
    assert backup.stderr.strip() == (
        "seam: backup copies an SQLite database; this one is PostgreSQL (database_url): use pg_dump"
    )
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "seam.db").exists()  # no SQLite file made
    feed = postgres_server.sql("SELECT operation FROM changes ORDER BY seq", url.rsplit("/", 1)[1])
    assert [row[0] for row in feed] == ["users:create", "users:update"]


def test_a_newer_schema_and_an_unreachable_database_are_one_line(postgres_server, tmp_path):
    url = postgres_server.database()
    postgres_server.sql(f"UPDATE seam_schema SET version = {len(PG_MIGRATIONS) + 1}", url.rsplit("/", 1)[1])
    refused = run_seam("routes", cwd=tmp_path, env=env_for(url))
    assert refused.returncode == 0  # routes needs no database
    refused = run_seam("create-admin", "ops@seam.test", cwd=tmp_path, env=env_for(url))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "a newer SEAM migrated it" in refused.stderr.strip().splitlines()[-1]
    assert "postgresql://postgres@127.0.0.1" in refused.stderr
    nowhere = f"postgresql://seam:secret-pw@127.0.0.1:{postgres_server.port + 1}/seam"
    unreachable = run_seam("create-admin", "ops@seam.test", cwd=tmp_path, env=env_for(nowhere))
    assert unreachable.returncode == 2 and len(unreachable.stderr.strip().splitlines()) == 1, unreachable.stderr
    assert unreachable.stderr.startswith("seam: cannot use database 'postgresql://seam:***@127.0.0.1:")
    assert "secret-pw" not in unreachable.stderr


@pytest.fixture
def own_postgres():
    """A PostgreSQL of the test's own, to stop and start again without disturbing the other tests."""
    server = PostgresServer()
    yield server
    server.close()


async def test_postgres_restarted_under_load_is_503_then_serves_again_and_loses_nothing(
    processes, tmp_path, own_postgres
):
    hosts = Hosts(processes, tmp_path, own_postgres.database(), count=2, nginx=False)
    apis = [Api(url) for url in hosts.urls]
    admin = await apis[0].login()
    start = (await apis[0].fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    acknowledged, refusals, stop = [], [], asyncio.Event()

    async def writer(index):
        api = apis[index % 2]
        for n in range(100_000):
            if stop.is_set():
                return
            made = await api.fetch("POST", "/roles", json={"roleName": f"r{index}-{n}"}, token=admin)
            if made.status == 201:
                acknowledged.append(made.headers["X-Operation-ID"])
            else:
                refusals.append((made.status, made.body["message"], made.headers.get("Retry-After")))
                await asyncio.sleep(0.05)

    load = [asyncio.ensure_future(writer(index)) for index in range(4)]
    await asyncio.sleep(1)
    await asyncio.to_thread(own_postgres.stop)
    down = len(refusals)
    await asyncio.sleep(1)
    assert len(refusals) > down  # answered while the database is down, not hung
    read = await apis[1].fetch("GET", "/roles", token=admin)
    assert read.status == 503 and read.body == {"success": False, "message": msg.DATABASE_UNREACHABLE}
    await asyncio.to_thread(own_postgres.start)
    before = len(acknowledged)
    for _ in range(200):  # the pools reconnect by themselves
        if len(acknowledged) > before + 20:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*load)
    assert len(acknowledged) > before + 20
    assert set(refusals) == {(503, msg.DATABASE_UNREACHABLE, "5")}
    feed = (await apis[0].fetch("GET", f"/changes?since={start}&limit=500", token=admin)).data
    assert set(acknowledged) <= {c["operationId"] for c in feed}  # nothing acknowledged is lost
    assert [c["seq"] for c in feed] == list(range(start + 1, start + len(feed) + 1))
    assert "Traceback" not in hosts.output()


async def test_a_host_killed_mid_write_loses_nothing_acknowledged(processes, tmp_path, postgres_server):
    hosts = Hosts(processes, tmp_path, postgres_server.database(), count=2, nginx=False)
    apis = [Api(url) for url in hosts.urls]
    admin = await apis[0].login()
    start = (await apis[0].fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    acknowledged, stop = [], asyncio.Event()

    async def writer(index):
        api = apis[index % 2]
        for n in range(100_000):
            if stop.is_set():
                return
            try:
                made = await api.fetch("POST", "/roles", json={"roleName": f"k{index}-{n}"}, token=admin)
            except (OSError, tornado.httpclient.HTTPClientError):  # the killed host
                return
            if made.status == 201:
                acknowledged.append(made.headers["X-Operation-ID"])

    load = [asyncio.ensure_future(writer(index)) for index in range(4)]
    await asyncio.sleep(1)
    hosts.kill(hosts.ports[0])
    await asyncio.sleep(1)
    stop.set()
    await asyncio.gather(*load)
    feed = (await apis[1].fetch("GET", f"/changes?since={start}&limit=500", token=admin)).data
    assert set(acknowledged) <= {c["operationId"] for c in feed}
    assert [c["seq"] for c in feed] == list(range(start + 1, start + len(feed + [0])))
    # The write lock died with the killed host's connection: the survivor writes on.
    made = await apis[1].fetch("POST", "/roles", json={"roleName": "after"}, token=admin)
    assert made.status == 201


async def test_migrate_to_copies_everything_with_the_feed_and_refuses_a_non_empty_target(
    api, config, postgres_server, tmp_path, io_loop
):
    admin = await api.login()
    role_id = await api.create_role(admin, "editors", ["GET /api/v1/users"])
    user_id = await api.create_user(admin, "ana@seam.test", role_id)
    await api.fetch("POST", "/auth/login", json={"email": "ana@seam.test", "password": "wrong-password"})
    before = (await api.fetch("GET", "/changes?limit=500", token=admin)).data
    url = postgres_server.database(migrated=False)
    env = seam_env(db_path=config["db_path"])
    copied = await asyncio.to_thread(run_seam, "migrate-to", url, cwd=tmp_path, env=env)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.startswith(f"copied {config['db_path']} to {url}: roles 3, ") and "changes 3" in copied.stdout
    assert copied.stdout.strip().endswith("; verified (row counts, every row)")

    moved = Services(validate({**config, "database_url": url}), permission_catalog())
    await moved.start()
    try:
        assert (await moved.users.by_email("ANA@seam.test")).idUser == user_id
        assert await moved.changes.latest_seq() == before[-1]["seq"]
        assert [r[0] for r in await moved.db.fetchall("SELECT outcome FROM logins ORDER BY id")] == [
            "success",
            "failure",
        ]
        async with moved.writes.unit(Origin("roles:create", "op-after-move")) as tx:
            new_role = await moved.roles.create(tx, "after-move", None)
            tx.record("made", new_role.public())
        assert new_role.idRole == role_id + 1  # identity sequences moved past the copied ids
        assert tx.change.seq == before[-1]["seq"] + 1  # the feed goes on from its last seq
    finally:
        await moved.stop()

    again = await asyncio.to_thread(run_seam, "migrate-to", url, cwd=tmp_path, env=env)
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.strip() == f"seam: migrate-to: {url} is not empty (table roles): copy into an empty database"


async def test_a_restart_tops_the_catalog_up_and_keeps_revoked_grants_revoked(postgres_server, config):
    url = postgres_server.database()
    name = url.rsplit("/", 1)[1]
    settings = validate({**config, "database_url": url})
    first = Services(settings, permission_catalog())
    await first.start(ADMIN_PASSWORD)
    assert first.first_start
    await first.stop()
    postgres_server.sql("DELETE FROM permissions WHERE nameUri = 'GET /api/v1/users'", name)
    postgres_server.sql(
        "DELETE FROM permissionXRole WHERE permissionId ="
        " (SELECT idPermission FROM permissions WHERE nameUri = 'GET /api/v1/roles')",
        name,
    )
    second = Services(settings, permission_catalog())
    await second.start(ADMIN_PASSWORD)
    try:
        assert not second.first_start
        held = [p.nameUri for p in await second.permissions.of_role(1)]
        assert "GET /api/v1/users" in held and "GET /api/v1/roles" not in held
        assert len(await second.permissions.all()) == len(permission_catalog())
    finally:
        await second.stop()

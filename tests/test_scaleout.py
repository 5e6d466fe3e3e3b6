# SPDX-License-Identifier: MIT
"""Several SEAM processes as one service (issue 13): Redis between them, nginx in front, every guarantee of
SPEC §6-7 kept whichever process a request or a socket landed on."""

import asyncio
import collections
import os
import signal
import subprocess
import sys

import aiohttp
import pytest
import socketio

import messages as msg
from app.version import VERSION
from bench.seam_process import ROOT, SEAM, seam_env
from realtime.fanout import FanoutManager
from tests.support.clients import PASSWORD, Api, EventRecorder, assert_error
from tests.support.cluster import Cluster, Hosts, Redis, consecutive_free_ports
from tests.support.interop import check_interop_report, run_interop
from tests.support.realtime import changes, progress

pytestmark = pytest.mark.timeout(120)
READ_USERS = "GET /api/v1/users"


def topology(request, processes, tmp_path, **options):
    """sqlite: three processes under one supervisor sharing one SQLite file; postgres: three separate "hosts"
    (own working directories, no shared file) on one PostgreSQL. Both with one Redis."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server").database()
        return Hosts(processes, tmp_path, url, **options)
    return Cluster(processes, tmp_path, **options)


@pytest.fixture(params=["sqlite", "postgres"])
def cluster(request, processes, tmp_path):
    return topology(request, processes, tmp_path, nginx=False)


@pytest.fixture
def supervised(processes, tmp_path):
    """The supervisor's own behaviour (serve --processes): one machine, SQLite."""
    return Cluster(processes, tmp_path, nginx=False)


def apis(cluster):
    return [Api(url) for url in cluster.urls]


async def connect(url, token):
    return await EventRecorder(url).connect(token)


async def user(api, admin, email, permissions=()):
    role_id = await api.create_role(admin, f"role-{email.split('@')[0]}", permissions)
    user_id = await api.create_user(admin, email, role_id)
    return user_id, role_id, await api.login(email, PASSWORD)


def test_several_processes_need_redis(tmp_path):
    result = subprocess.run(
        [sys.executable, SEAM, "serve", "--processes", "2", "--port", str(consecutive_free_ports(2))],
        cwd=tmp_path,
        env=seam_env(db_path=str(tmp_path / "seam.db")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "seam: invalid option '--processes': several processes need redis_url (see docs/deploy.md)"
    ]


def test_the_supervisor_restarts_a_dead_process_and_stops_them_all(supervised):
    cluster = supervised
    assert [cluster.health(i) for i in range(3)] == [{"status": "ok", "version": VERSION, "redis": "ok"}] * 3
    killed = cluster.kill(cluster.ports[1])
    cluster.supervisor.wait_until_up(cluster.urls[1] + "/healthz")  # started again by the supervisor
    restarted = cluster.child_pid(cluster.ports[1])
    assert restarted not in (None, killed)
    children = [cluster.child_pid(port) for port in cluster.ports]
    assert cluster.supervisor.stop() == 0
    assert all(not os.path.exists(f"/proc/{pid}") for pid in children)
    assert "exited with status -9" in cluster.supervisor.output()


async def test_progress_reaches_a_socket_on_another_process_and_only_its_owner_may_name_it(cluster):
    first, second, third = apis(cluster)
    admin = await first.login()
    _, _, other = await user(first, admin, "other@seam.test")
    tab = await connect(cluster.urls[0], admin)
    assert tab.sid.startswith(f"p{cluster.ports[0]}_")
    named = {"X-Socket-ID": tab.sid, "X-Operation-ID": "across"}
    created = await second.fetch("POST", "/roles", json={"roleName": "across"}, token=admin, headers=named)
    assert created.status == 201
    await tab.wait_for(lambda events: any(c["operationId"] == "across" for c in changes(tab)))
    assert progress(tab, "across") == [
        ("start", msg.OP_START.format(operation="roles:create")),
        ("processing", msg.OP_SAVING),
        ("success", msg.ROLE_CREATED),
    ]
    (change,) = [c for c in changes(tab) if c["operationId"] == "across"]
    assert change["initiatorSocketId"] == tab.sid
    mine = [(name, e.get("status")) for name, e in tab.events if e.get("operationId") == "across"]
    assert mine[-2:] == [("operation:progress", "success"), ("data:changed", None)]  # the tab's own outcome first
    # Another user naming the admin's socket reaches nobody else's tab, on any process.
    spoofed = {"X-Socket-ID": tab.sid, "X-Operation-ID": "spoofed"}
    denied = await third.fetch("GET", "/roles", token=other, headers=spoofed)
    assert denied.status == 200
    marker = await third.fetch("POST", "/roles", json={"roleName": "marker"}, token=admin)
    assert marker.status == 201
    await tab.wait_for(lambda events: any(c["data"].get("roleName") == "marker" for c in changes(tab)))
    assert progress(tab, "spoofed") == []
    await tab.close()


async def test_a_revocation_answered_by_one_process_holds_on_every_process_at_once(cluster):
    first, second, third = apis(cluster)
    admin = await first.login()
    victim_id, _, token = await user(first, admin, "victim@seam.test")
    tabs = [await connect(cluster.urls[0], token), await connect(cluster.urls[1], token)]
    for api in (first, second, third):
        assert (await api.fetch("GET", "/auth/me", token=token)).status == 200  # cached as valid everywhere
    disabled = await third.fetch("PUT", f"/users/{victim_id}/state", json={"isActive": 0}, token=admin)
    assert disabled.status == 200
    for api in (first, second, third):  # right after the answer, no poll in between
        assert_error(await api.fetch("GET", "/auth/me", token=token), 401, msg.TOKEN_INVALID)
    for tab in tabs:
        await asyncio.wait_for(tab.disconnected.wait(), 5)
        assert tab.of("session:revoked") == [{"reason": msg.REVOKED_DISABLED}]


async def test_a_grant_made_on_one_process_applies_on_another_before_the_next_request(cluster):
    first, second, _ = apis(cluster)
    admin = await first.login()
    _, role_id, token = await user(first, admin, "reader@seam.test")
    tab = await connect(cluster.urls[2], token)
    assert_error(await second.fetch("GET", "/users", token=token), 403, msg.FORBIDDEN)
    catalog = {p["nameUri"]: p["idPermission"] for p in (await first.fetch("GET", "/permission", token=admin)).data}
    grant = {"roleId": role_id, "permissionId": catalog[READ_USERS]}
    assert (await first.fetch("POST", "/permission/assign", json=grant, token=admin)).status == 200
    assert (await second.fetch("GET", "/users", token=token)).status == 200
    await tab.wait_for(lambda events: tab.of("session:changed"))
    assert tab.of("session:changed")[-1]["permissions"] == [READ_USERS]
    await tab.close()


@pytest.fixture(params=["sqlite", "postgres"])
def throttled(request, processes, tmp_path):
    return topology(request, processes, tmp_path, nginx=False, login_max_failures=3)


async def test_failed_logins_count_across_processes(throttled):
    attempts = apis(throttled)
    body = {"email": "nobody@seam.test", "password": "wrong-password"}
    headers = {"X-Real-IP": "192.0.2.7"}
    statuses = [
        (await attempts[n % 3].fetch("POST", "/auth/login", json=body, headers=headers)).status for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    for api in attempts:
        assert (await api.fetch("POST", "/auth/login", json=body, headers=headers)).status == 429


async def wait_for_redis(cluster, state):
    for _ in range(150):
        if {cluster.health(i)["redis"] for i in range(3)} == {state}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never said redis {state}")


async def test_redis_going_away_keeps_http_and_sockets_serving_and_nothing_is_missed(cluster):
    """Writers keep writing on every process while Redis is stopped and started again: every socket ends with
    every change, in order, with no gap (the changes table is the log; Redis only wakes processes up)."""
    writers = apis(cluster)
    admin = await writers[0].login()
    tabs = [await connect(url, admin) for url in cluster.urls]
    start = (await writers[0].fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    written, stop = [], asyncio.Event()

    async def write(api, tag):
        for n in range(10_000):
            if stop.is_set():
                return
            created = await api.fetch("POST", "/roles", json={"roleName": f"{tag}-{n}"}, token=admin)
            assert created.status == 201, created.body  # HTTP never depends on Redis
            written.append(created.headers["X-Operation-ID"])
            await asyncio.sleep(0.02)

    load = [asyncio.ensure_future(write(api, f"w{i}")) for i, api in enumerate(writers)]
    await asyncio.sleep(0.5)
    cluster.redis.stop()
    await wait_for_redis(cluster, "unavailable")
    during = len(written)
    await asyncio.sleep(1)
    assert len(written) > during  # still writing, Redis down
    cluster.redis.start()
    await wait_for_redis(cluster, "ok")
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*load)
    feed = (await writers[0].fetch("GET", f"/changes?since={start}&limit=500", token=admin)).data
    assert sorted(c["operationId"] for c in feed) == sorted(written)
    for tab in tabs:
        await tab.wait_for(lambda events, tab=tab: len(changes(tab)) >= len(feed), timeout=15)
        assert [c["seq"] for c in changes(tab)] == [c["seq"] for c in feed]
    log = cluster.output()
    assert log.count("redis unreachable") == 3 and log.count("redis reachable again") == 3
    for tab in tabs:
        await tab.close()


def test_sigterm_reaches_every_process(supervised):
    cluster = supervised
    children = [cluster.child_pid(port) for port in cluster.ports]
    cluster.supervisor.popen.send_signal(signal.SIGTERM)
    assert cluster.supervisor.popen.wait(30) == 0
    assert all(not os.path.exists(f"/proc/{pid}") for pid in children)


@pytest.fixture(params=["sqlite", "postgres"])
def fronted(request, processes, tmp_path):
    """Three processes behind deploy/nginx.conf (TLS): clients come through nginx as browsers would."""
    return topology(request, processes, tmp_path)


def office(cluster, address, **options):
    """A Socket.IO client through nginx from one loopback address (nginx limits are per address, as for an
    office behind one NAT; here 10 clients share each)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0), ssl=cluster.trust)
    return EventRecorder(cluster.base_url, http_session=aiohttp.ClientSession(connector=connector), **options)


async def test_three_hundred_clients_get_every_change_they_may_see_once_and_in_order(fronted):
    cluster = fronted
    first, second, third = apis(cluster)
    admin = await first.login()
    _, _, plain = await user(first, admin, "plain@seam.test")
    start = (await first.fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    clients = []
    for n in range(300):
        recorder = office(cluster, f"127.0.0.{2 + n // 10}")
        clients.append((await recorder.connect(admin if n % 3 == 0 else plain), n % 3 == 0))
    spread = collections.Counter(recorder.sid.partition("_")[0] for recorder, _ in clients)
    assert set(spread) == {f"p{port}" for port in cluster.ports} and min(spread.values()) >= 60, spread

    async def writer(api, tag):
        for n in range(12):
            if n % 2:
                await api.create_user(admin, f"{tag}-{n}@seam.test", 2)  # users: hidden from the plain role
            else:
                assert (await api.fetch("POST", "/roles", json={"roleName": f"{tag}-{n}"}, token=admin)).status == 201

    await asyncio.gather(*(writer((first, second, third)[i % 3], f"w{i}") for i in range(5)))
    marker = await first.fetch("POST", "/roles", json={"roleName": "marker"}, token=admin)
    last = marker.body and (await first.fetch("GET", "/changes?limit=1", token=admin)).body["meta"]["latestSeq"]
    as_admin = (await first.fetch("GET", f"/changes?since={start}&limit=500", token=admin)).data
    as_plain = (await first.fetch("GET", f"/changes?since={start}&limit=500", token=plain)).data
    assert len(as_admin) == 61 and len(as_plain) == 31
    assert {c["operation"] for c in as_plain} == {"roles:create"}
    for recorder, reads_users in clients:
        await recorder.wait_for(lambda events, r=recorder: any(c["seq"] == last for c in changes(r)), timeout=30)
        expected = as_admin if reads_users else as_plain
        assert [c["seq"] for c in changes(recorder)] == [c["seq"] for c in expected]
    for recorder, _ in clients:
        await recorder.close()
        await recorder.client.eio.http.close()


async def test_the_official_js_client_polls_then_upgrades_through_nginx_to_several_processes(fronted):
    check_interop_report(await run_interop(fronted.base_url, fronted.cert))


class Follower:
    """A client that keeps a replica: live data:changed, and after each reconnect the /changes it missed."""

    def __init__(self, cluster, address, token, start):
        self.recorder = office(cluster, address, reconnection=True)
        self.api = Api(cluster.base_url, ca_certs=str(cluster.cert))
        self.token, self.applied, self.connects, self.buffer, self.catching_up = token, [start], 0, [], False
        self.refusals = []  # (status, body) of replays refused before one was answered
        self.recorder.client.on("connect", self.on_connect)
        self.recorder.client.on("data:changed", self.on_change)

    async def on_connect(self):
        self.connects += 1
        if self.connects > 1:  # a reconnect: replay what was missed, then what arrived live meanwhile
            self.catching_up = True
            try:
                await self.replay()
            finally:
                self.catching_up = False
                buffered, self.buffer = self.buffer, []
                for change in buffered:
                    self.apply(change)

    async def replay(self):
        """The changes after the last one applied. As the console does, a replay refused for a passing reason
        (the process it reached was killed: nginx's 502, or a 429 from nginx's per-address rate) is asked again."""
        for _ in range(100):
            page = await self.api.fetch("GET", f"/changes?since={self.applied[-1]}&limit=500", token=self.token)
            if page.status == 200:
                for change in page.data:
                    self.apply(change)
                return
            self.refusals.append((page.status, page.body))
            await asyncio.sleep(0.1)

    async def on_change(self, change):
        """A change that does not follow the last one waits for the catch-up: python-socketio runs each message's
        handler as its own task, so after a reconnect the first live change can run before on_connect does."""
        if self.catching_up or change["seq"] != self.applied[-1] + 1:
            self.buffer.append(change)
        else:
            self.apply(change)

    def apply(self, change):
        if change["seq"] > self.applied[-1]:
            self.applied.append(change["seq"])


async def test_a_killed_process_loses_nothing_acknowledged_and_its_clients_converge(fronted):
    cluster = fronted
    api = Api(cluster.base_url, ca_certs=str(cluster.cert))
    admin = await api.login()
    start = (await api.fetch("GET", "/changes", token=admin)).body["meta"]["latestSeq"]
    followers = [Follower(cluster, f"127.0.1.{2 + n // 10}", admin, start) for n in range(30)]
    for follower in followers:
        await follower.recorder.connect(admin)
    acknowledged, stop = [], asyncio.Event()

    async def write(tag):
        for n in range(10_000):
            if stop.is_set():
                return
            try:
                made = await api.fetch("POST", "/roles", json={"roleName": f"{tag}-{n}"}, token=admin)
            except OSError:
                continue
            if made.status == 201:
                acknowledged.append(made.headers["X-Operation-ID"])
            await asyncio.sleep(0.01)

    load = [asyncio.ensure_future(write(f"k{i}")) for i in range(3)]
    await asyncio.sleep(1)
    busiest = collections.Counter(f.recorder.sid.partition("_")[0] for f in followers).most_common(1)[0][0]
    cluster.kill(int(busiest[1:]))
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*load)
    feed = (await api.fetch("GET", f"/changes?since={start}&limit=500", token=admin)).data
    assert set(acknowledged) <= {c["operationId"] for c in feed}  # nothing acknowledged is lost
    expected = [start] + [c["seq"] for c in feed]
    for follower in followers:
        for _ in range(300):
            if follower.applied == expected:
                break
            await asyncio.sleep(0.1)
        assert follower.applied == expected
    assert any(f.connects > 1 for f in followers)  # the killed process's clients came back through nginx
    # The writers share the followers' address, so nginx's per-address API rate (deploy/nginx.conf) refuses some.
    assert {status for f in followers for status, _ in f.refusals} <= {429, 502, 503}
    for follower in followers:
        await follower.recorder.close()
        await follower.recorder.client.eio.http.close()


def unit_lines(name):
    """A unit file's settings, section by section, without comments."""
    lines, section = [], None
    for line in (ROOT / "deploy" / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
        else:
            lines.append((section, line))
    return lines


def test_the_template_unit_keeps_the_service_units_hardening():
    """deploy/seam@.service is seam.service per port: only its description, start command, ordering on Redis and
    required environment differ, so the two can never drift apart on limits or sandboxing."""
    single, template = unit_lines("seam.service"), unit_lines("seam@.service")
    differs = ("Description=", "After=", "Wants=", "ExecStart=", "EnvironmentFile=")
    assert [line for line in single if not line[1].startswith(differs)] == [
        line for line in template if not line[1].startswith(differs)
    ]
    assert ("[Service]", "ExecStart=/usr/local/bin/seam --port=%i --instance=p%i") in template
    assert ("[Service]", "EnvironmentFile=/etc/seam/seam.env") in template  # required: it holds SEAM_REDIS_URL


@pytest.fixture
def overrides(processes, tmp_path):
    """The in-process server of the tests below is one of several processes: a real Redis behind it."""
    return {"redis_url": Redis(processes, tmp_path / "redis").url}


async def test_the_fast_path_still_writes_to_this_processs_own_sockets(api, services, sockets, monkeypatch):
    """Redis' manager first in the MRO (remote delivery), the fan-out fast path under it for local sockets."""
    manager = services.hub.sio.manager
    order = type(manager).__mro__
    assert order.index(socketio.AsyncRedisManager) < order.index(FanoutManager)
    admin = await api.login()
    tab = await sockets(admin)
    assert tab.sid.startswith(f"{services.config['instance']}_")
    direct = []
    write_direct = FanoutManager._write_direct

    def counted(self, socket, frame):
        written = write_direct(self, socket, frame)
        direct.append(written)
        return written

    monkeypatch.setattr(FanoutManager, "_write_direct", counted)
    assert (await api.fetch("POST", "/roles", json={"roleName": "direct"}, token=admin)).status == 201
    await tab.wait_for(lambda events: changes(tab))
    assert direct == [True] * 4  # start, processing and success to the admin's room, then data:changed

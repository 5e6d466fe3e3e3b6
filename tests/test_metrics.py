# SPDX-License-Identifier: MIT
"""GET /metrics (issue 15): off by default; after a known sequence of calls every counter moved by exactly that
much; served to loopback or with the bearer token only, behind a proxy only with the token."""

import asyncio
import json
import subprocess
import sys
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

import messages as msg
from app.config import ConfigError, validate
from app.metrics import Metrics
from bench.seam_process import SEAM, free_port, seam_env
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, assert_error, call_from, login_from
from web.addresses import is_loopback

TOKEN = "metrics-token-0123456789abcdefghijklmnop"
METRICS_ON = {"metrics": True}


def samples(text):
    """{(sample name, frozenset of labels): value} of a Prometheus text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def moved(before, after):
    """The samples whose value changed, with the change (new series count from 0)."""
    return {key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key, 0)}


def labels(**values):
    return frozenset(values.items())


async def scrape(api, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    response = await api.fetch("GET", "/metrics", prefix="", headers=headers)
    assert response.status == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")  # the Prometheus text format
    return samples(response.text)


async def test_off_by_default_there_is_no_such_route(api):
    assert_error(
        await api.fetch("GET", "/metrics", prefix=""), 404, msg.ROUTE_NOT_FOUND.format(method="GET", path="/metrics")
    )


@pytest.mark.parametrize("overrides", [METRICS_ON])
async def test_counters_move_by_exactly_the_calls_made(api, sockets):
    before = await scrape(api)
    admin = await api.login()
    for _ in range(2):
        wrong = await api.fetch("POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": "wrong-pass-1"})
        assert wrong.status == 401
    for _ in range(3):
        assert (await api.fetch("GET", "/users", token=admin)).status == 200
    assert (await api.fetch("GET", "/users/999", token=admin)).status == 404
    socket = await sockets(admin)
    created = await api.fetch("POST", "/roles", json={"roleName": "medida"}, token=admin)
    assert created.status == 201
    await socket.wait_for(lambda events: any(name == "data:changed" for name, _ in events))
    (change,) = socket.of("data:changed")
    after = await scrape(api)

    requests = "seam_http_requests_total"
    count = "seam_http_request_duration_seconds_count"
    assert {key: delta for key, delta in moved(before, after).items() if key[0] in (requests, count)} == {
        (requests, labels(route="/metrics", method="GET", status="200")): 1,  # the first scrape
        (requests, labels(route="/api/v1/auth/login", method="POST", status="200")): 1,
        (requests, labels(route="/api/v1/auth/login", method="POST", status="401")): 2,
        (requests, labels(route="/api/v1/users", method="GET", status="200")): 3,
        (requests, labels(route="/api/v1/users/:id", method="GET", status="404")): 1,  # the pattern, not /users/999
        (requests, labels(route="/socket.io/", method="GET", status="101")): 1,  # the websocket upgrade
        (requests, labels(route="/api/v1/roles", method="POST", status="201")): 1,
        (count, labels(route="/metrics", method="GET")): 1,
        (count, labels(route="/api/v1/auth/login", method="POST")): 3,
        (count, labels(route="/api/v1/users", method="GET")): 3,
        (count, labels(route="/api/v1/users/:id", method="GET")): 1,
        (count, labels(route="/socket.io/", method="GET")): 1,
        (count, labels(route="/api/v1/roles", method="POST")): 1,
    }
    changed = moved(before, after)
    assert changed[("seam_login_failures_total", labels(action="login"))] == 2
    assert ("seam_login_failures_total", labels(action="password change")) not in changed
    assert not [key for key in changed if key[0] == "seam_login_throttled_total"]
    assert changed[("seam_broadcast_duration_seconds_count", labels())] == 1
    # Each failed login: its throttle count and its audit entry; the login: its audit entry; the role with its
    # change row: six commits.
    assert changed[("seam_db_commit_duration_seconds_count", labels())] == 6
    assert after[("seam_sockets_connected", labels())] == 1
    assert after[("seam_change_feed_latest_seq", labels())] == change["seq"]
    assert after[("process_open_fds", labels())] > 0 and after[("process_resident_memory_bytes", labels())] > 0

    await socket.close()  # the server learns it from the socket, not from this test's next request: wait for it
    deadline = asyncio.get_running_loop().time() + 5
    while (await scrape(api))[("seam_sockets_connected", labels())] != 0:
        assert asyncio.get_running_loop().time() < deadline, "the closed socket is still counted"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("overrides", [{**METRICS_ON, "login_max_failures": 2}])
async def test_login_failures_and_throttled_logins_are_counted(api, base_url):
    before = await scrape(api)
    assert [await login_from(base_url, "127.0.0.2", "guessed@seam.test", "wrong-pass-1") for _ in range(3)] == [
        401,
        401,
        429,  # the address is refused
    ]
    assert await login_from(base_url, "127.0.0.3", "guessed@seam.test", "wrong-pass-1") == 401  # the email: slowed
    admin = await api.login()
    wrong = {"currentPassword": "wrong-pass-1", "newPassword": "brand-new-pass"}
    assert (await call_from(base_url, "127.0.0.4", "PUT", "/auth/password", wrong, admin))[0] == 400
    changed = moved(before, await scrape(api))
    assert {key: delta for key, delta in changed.items() if key[0].startswith("seam_login")} == {
        ("seam_login_failures_total", labels(action="login")): 3,
        ("seam_login_failures_total", labels(action="password change")): 1,
        ("seam_login_throttled_total", labels(action="login", outcome="refused")): 1,
        ("seam_login_throttled_total", labels(action="login", outcome="slowed")): 1,
    }


@pytest.mark.parametrize("overrides", [{**METRICS_ON, "proxy_headers": True, "metrics_token": TOKEN}])
async def test_behind_a_proxy_loopback_is_not_enough_only_the_token(api):
    """With proxy_headers every request reaches SEAM from the proxy on loopback: a scrape needs the token."""
    challenge = 'Bearer realm="metrics"'
    refused = await api.fetch("GET", "/metrics", prefix="")
    assert_error(refused, 401, msg.TOKEN_REQUIRED)
    assert refused.headers["WWW-Authenticate"] == challenge
    forged = await api.fetch("GET", "/metrics", prefix="", headers={"X-Real-IP": "127.0.0.1"})
    assert_error(forged, 401, msg.TOKEN_REQUIRED)
    for header in (f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer"):
        wrong = await api.fetch("GET", "/metrics", prefix="", headers={"Authorization": header})
        assert_error(wrong, 401, msg.TOKEN_INVALID)
        assert wrong.headers["WWW-Authenticate"] == challenge
    scraped = await scrape(api, TOKEN)
    assert scraped[("seam_http_requests_total", labels(route="/metrics", method="GET", status="401"))] == 6


def test_loopback_means_the_peer_is_this_machine():
    assert [is_loopback(a) for a in ("127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "localhost")] == [True] * 5
    not_loopback = ("192.0.2.1", "::ffff:192.0.2.1", "0.0.0.0", "", "::", "seam.example")  # noqa: S104
    assert [is_loopback(a) for a in not_loopback] == [False] * 6


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"metrics_token": "short"}, "invalid setting 'metrics_token': must be at least 32"),
        ({"metrics_token": "has a space " + "x" * 40}, "invalid setting 'metrics_token': must be at least 32"),
        ({"metrics": True, "proxy_headers": True}, "invalid setting 'metrics_token': required when metrics"),
        ({"log_format": "yaml"}, "invalid setting 'log_format': 'yaml' is not one of text, json"),
    ],
)
def test_bad_observability_settings_stop_start_up(values, problem):
    with pytest.raises(ConfigError) as refused:
        validate({"db_path": "x.db", **values})
    assert str(refused.value).startswith(problem)
    assert "x" * 40 not in str(refused.value)  # a token is never echoed


# Runs inside a private network namespace (unshare --net) where SEAM listens on 192.0.2.1 (TEST-NET-1, added to
# the namespace's own loopback device): a client there connects from 192.0.2.1, which is not a loopback address.
# It first proves 192.0.2.1 is local where it runs (bind), so no packet can ever leave the machine.
# Prints [status, body] per Authorization header given on the command line ("" = none).
NAMESPACE_CLIENT = """
import json, socket, sys, urllib.error, urllib.request
with socket.socket() as probe:
    probe.bind(("192.0.2.1", 0))  # EADDRNOTAVAIL unless this is the namespace SEAM serves in
base, answers = sys.argv[1], []
for header in sys.argv[2:]:
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": header} if header else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answers.append([response.status, response.read().decode()])
    except urllib.error.HTTPError as error:
        answers.append([error.code, error.read().decode()])
print(json.dumps(answers))
"""


def serve_in_namespace(processes, tmp_path, name, **settings):
    """`python seam.py` on 192.0.2.1 in a new network namespace, once listening; → the Process (its pid names
    the namespace: entered only after SEAM listens, so never before unshare made it)."""
    setup = 'ip link set lo up && ip addr add 192.0.2.1/32 dev lo && exec "$0" "$@"'
    env = seam_env(
        address="192.0.2.1", db_path=tmp_path / f"{name}.db", admin_email=ADMIN_EMAIL, bcrypt_rounds=4,
        admin_password=ADMIN_PASSWORD, metrics="true", **settings,
    )  # fmt: skip
    server = processes(name, ["unshare", "--net", "sh", "-c", setup, sys.executable, SEAM], tmp_path, env)
    deadline = time.monotonic() + 60
    while "SEAM listening on http://192.0.2.1" not in server.output():
        assert server.popen.poll() is None and time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    return server


def scrape_in_namespace(server, port, *authorizations):
    command = ["nsenter", f"--net=/proc/{server.pid}/ns/net", sys.executable, "-c", NAMESPACE_CLIENT]
    command += [f"http://192.0.2.1:{port}", *authorizations]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (done.stderr, server.output())
    return [(status, body) for status, body in json.loads(done.stdout)]


def test_a_client_off_loopback_needs_the_token(processes, tmp_path):
    """For real: SEAM bound to a non-loopback address, the scraper on another address than loopback."""
    port = free_port()
    server = serve_in_namespace(processes, tmp_path, "with-token", port=port, metrics_token=TOKEN)
    (none, wrong, right) = scrape_in_namespace(server, port, "", "Bearer not-the-token", f"Bearer {TOKEN}")
    assert (none[0], json.loads(none[1])) == (401, {"success": False, "message": msg.TOKEN_REQUIRED})
    assert (wrong[0], json.loads(wrong[1])) == (401, {"success": False, "message": msg.TOKEN_INVALID})
    assert right[0] == 200 and "seam_http_requests_total" in right[1]
    assert server.stop() == 0

    port = free_port()
    server = serve_in_namespace(processes, tmp_path, "without-token", port=port)
    refused = scrape_in_namespace(server, port, "", f"Bearer {TOKEN}")
    assert [(status, json.loads(body)) for status, body in refused] == [
        (403, {"success": False, "message": msg.FORBIDDEN})
    ] * 2
    assert server.stop() == 0


def test_request_latency_buckets_are_cumulative_and_a_bound_belongs_to_its_bucket():
    metrics = Metrics()
    for seconds in (0.001, 0.0011, 1.0, 20.0):
        metrics.request("/api/v1/users", "GET", 200, seconds)
    metrics.request("/api/v1/users", "BREW", 404, 0.002)  # a method nobody serves: one `other` label value
    scraped = samples(metrics.exposition().decode())
    buckets = {
        dict(key[1])["le"]: value
        for key, value in scraped.items()
        if key[0] == "seam_http_request_duration_seconds_bucket" and dict(key[1])["method"] == "GET"
    }
    assert [buckets[le] for le in ("0.001", "0.0025", "0.5", "1.0", "2.5", "10.0", "+Inf")] == [1, 2, 2, 3, 3, 3, 4]
    users = {"route": "/api/v1/users"}
    assert scraped[("seam_http_request_duration_seconds_sum", labels(**users, method="GET"))] == pytest.approx(21.0021)
    assert scraped[("seam_http_requests_total", labels(**users, method="GET", status="200"))] == 4
    assert scraped[("seam_http_requests_total", labels(**users, method="other", status="404"))] == 1

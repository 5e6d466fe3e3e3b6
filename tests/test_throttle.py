# SPDX-License-Identifier: MIT
"""SPEC §10 throttling: atomic under bursts, fair bcrypt per address, per-address refusals, per-email slow-downs,
the same folded email as the lookup, register and password change included, `seam.py unlock`, fail2ban lines."""

import asyncio
import configparser
import json
import logging
import pathlib
import re
import threading

import bcrypt
import pytest
import tornado.httpclient

import messages as msg
from app.services import Services
from bench.seam_process import seam_env
from handlers import permission_catalog
from security.throttle import SLOW_DOWN_MAX_SECONDS, address_key, slow_down
from store.errors import TooManyRequests
from tests.support.clients import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, call_from, login_from
from tests.support.database import database_env, sql
from tests.support.processes import run_seam_async
from web import logs

pytestmark = pytest.mark.both_backends

USER_ROLE = 2
FILTER = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "fail2ban" / "filter.conf"


def throttle_rows(config):
    return sql(config, "SELECT key, COUNT(*) FROM throttle GROUP BY key ORDER BY key")


@pytest.fixture
def held_guesses(monkeypatch, io_loop):
    """bcrypt checks of the password 'burst-guess' stop inside the pool until released; counted."""
    real = bcrypt.checkpw
    state = {"checks": 0, "release": threading.Event(), "entered": asyncio.Event()}
    loop = io_loop.asyncio_loop

    def checkpw(password, digest):
        if password == b"burst-guess":
            state["checks"] += 1
            loop.call_soon_threadsafe(state["entered"].set)
            state["release"].wait(120)
        return real(password, digest)

    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    yield state
    state["release"].set()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("overrides", [{"login_max_failures": 5}])
async def test_a_burst_costs_at_most_max_checks_and_never_starves_another_login(api, base_url, held_guesses, overrides):
    """The attack: 40 simultaneous wrong guesses were all checked, and another user's login waited behind them."""
    admin = await api.login()
    await api.create_user(admin, "victim@seam.test", USER_ROLE)
    await api.create_user(admin, "bystander@seam.test", USER_ROLE)
    burst_client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=64)
    burst = [
        asyncio.ensure_future(login_from(base_url, "127.0.0.2", "victim@seam.test", "burst-guess", burst_client))
        for _ in range(40)
    ]
    await held_guesses["entered"].wait()
    # One guess of the burst is inside bcrypt and held there, the rest of it queued or refused: a login from
    # another address still gets a bcrypt worker.
    bystander = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    assert await login_from(base_url, "127.0.0.3", "bystander@seam.test", PASSWORD, bystander) == 200
    assert held_guesses["checks"] == 1 and not any(task.done() and task.result() == 401 for task in burst)
    held_guesses["release"].set()
    assert sorted(await asyncio.gather(*burst)) == [401] * 5 + [429] * 35
    assert held_guesses["checks"] == 5
    burst_client.close()
    bystander.close()


@pytest.mark.parametrize("overrides", [{"login_max_failures": 3}])
async def test_email_failures_slow_down_but_never_lock_the_owner_out(api, base_url, config, overrides):
    """Anyone could keep the admin out with 3 wrong passwords per window; now only addresses are refused."""
    for n in (2, 3, 4):
        assert await login_from(base_url, f"127.0.0.{n}", ADMIN_EMAIL, "wrong-password") == 401
    assert await login_from(base_url, "127.0.0.5", ADMIN_EMAIL, "wrong-password") == 401  # slowed, still checked
    assert await login_from(base_url, "127.0.0.6", ADMIN_EMAIL, ADMIN_PASSWORD) == 200  # slowed, let in
    # A right password clears the email's count; the addresses that guessed keep theirs.
    assert throttle_rows(config) == [(f"ip:127.0.0.{n}", 1) for n in (2, 3, 4, 5)]


def test_slow_down_doubles_per_attempt_past_the_limit_up_to_a_cap():
    assert [slow_down(over) for over in (-3, 0, 1, 2, 3, 4, 10)] == [0, 0, 1, 2, 4, 8, SLOW_DOWN_MAX_SECONDS]


@pytest.mark.parametrize("overrides", [{"login_max_failures": 3}])
async def test_the_email_key_is_folded_as_the_lookup_folds_it(api, base_url, config, overrides):
    """`keyſ@…` (long s) finds the account `keys@…`; it must not be a fresh bucket either."""
    admin = await api.login()
    await api.create_user(admin, "keys@seam.test", USER_ROLE)
    for n, spelling in ((2, "keyſ@seam.test"), (3, "KEYS@seam.test"), (4, "Keys@SEAM.test")):
        assert await login_from(base_url, f"127.0.0.{n}", spelling, "wrong-password") == 401
    assert ("email:keys@seam.test", 3) in throttle_rows(config)
    assert [key for key, _ in throttle_rows(config) if key.startswith("email:")] == ["email:keys@seam.test"]
    assert await login_from(base_url, "127.0.0.5", "keyſ@seam.test", PASSWORD) == 200


@pytest.mark.parametrize("overrides", [{"login_max_failures": 3, "open_registration": True}])
async def test_anonymous_registration_is_throttled_per_address(api, base_url, config, overrides, monkeypatch):
    """Each anonymous registration costs a bcrypt hash: at most login_max_failures per address and window."""
    hashes = 0
    real = bcrypt.hashpw

    def counted(password, salt):
        nonlocal hashes
        hashes += 1
        return real(password, salt)

    monkeypatch.setattr(bcrypt, "hashpw", counted)

    def body(n):
        return {"full_name": "Nueva Persona", "email": f"r{n}@seam.test", "password": PASSWORD, "roleId": 1}

    results = await asyncio.gather(
        *(call_from(base_url, "127.0.0.2", "POST", "/auth/register", body(n)) for n in range(12))
    )
    assert sorted(status for status, _ in results) == [201] * 3 + [429] * 9
    refused = next(answer for status, answer in results if status == 429)
    assert refused == {"success": False, "message": msg.RATE_LIMITED}
    assert hashes == 3
    assert sql(config, "SELECT COUNT(*) FROM users")[0][0] == 1 + 3
    # Another address, and the admin's own registrations with a token, are not counted against it.
    assert (await call_from(base_url, "127.0.0.3", "POST", "/auth/register", body(20)))[0] == 201
    admin = await api.login()
    assert (await call_from(base_url, "127.0.0.2", "POST", "/auth/register", body(21), token=admin))[0] == 201


@pytest.mark.parametrize("overrides", [{"login_max_failures": 3}])
async def test_password_change_guesses_are_throttled(api, base_url, config, overrides):
    """A stolen token must not buy unlimited guesses at the current password."""
    admin = await api.login()
    await api.create_user(admin, "owner@seam.test", USER_ROLE)
    token = await api.login("owner@seam.test", PASSWORD)
    wrong = {"currentPassword": "not-my-password", "newPassword": "brand-new-pass"}
    for _ in range(3):
        status, answer = await call_from(base_url, "127.0.0.2", "PUT", "/auth/password", wrong, token)
        assert (status, answer["message"]) == (400, msg.WRONG_CURRENT_PASSWORD)
    right = {"currentPassword": PASSWORD, "newPassword": "brand-new-pass"}
    status, answer = await call_from(base_url, "127.0.0.2", "PUT", "/auth/password", right, token)
    assert (status, answer) == (429, {"success": False, "message": msg.RATE_LIMITED})
    assert await login_from(base_url, "127.0.0.3", "owner@seam.test", PASSWORD) == 200  # nothing changed
    # The same guesses count as failed logins from that address; the owner elsewhere is only slowed down.
    assert await login_from(base_url, "127.0.0.2", "owner@seam.test", PASSWORD) == 429
    status, answer = await call_from(base_url, "127.0.0.4", "PUT", "/auth/password", right, token)
    assert status == 200 and answer["message"] == msg.PASSWORD_CHANGED


@pytest.mark.timeout(90)
@pytest.mark.parametrize("overrides", [{"login_max_failures": 3}])
async def test_unlock_clears_the_email_count_of_a_running_server(api, base_url, services, config, tmp_path, overrides):
    for n in (2, 3, 4, 5):
        assert await login_from(base_url, f"127.0.0.{n}", ADMIN_EMAIL, "wrong-password") == 401
    key = "email:" + ADMIN_EMAIL
    assert len(services.throttle.counted[key]) == 4
    env = seam_env(**database_env(config), bcrypt_rounds=4, admin_email=ADMIN_EMAIL)
    result = await run_seam_async("unlock", ADMIN_EMAIL.upper(), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"failed-login count of {ADMIN_EMAIL.upper()} cleared (4 recorded)"
    assert key not in dict(throttle_rows(config))
    # The server notices another process's commit within about a second (PRAGMA data_version poll).
    for _ in range(100):
        if key not in services.throttle.counted:
            break
        await asyncio.sleep(0.05)
    assert key not in services.throttle.counted
    assert len(services.throttle.counted["ip:127.0.0.2"]) == 1  # addresses keep theirs
    bad = await run_seam_async("unlock", "admin@seam.test\n", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and bad.stderr.splitlines() == ["seam: 'admin@seam.test\\n' is not an email address"]


@pytest.mark.parametrize("overrides", [{"login_max_failures": 2}])
async def test_counts_survive_a_restart(api, base_url, config, overrides):
    for _ in range(2):
        assert await login_from(base_url, "127.0.0.2", ADMIN_EMAIL, "wrong-password") == 401
    restarted = await Services(config, permission_catalog()).start()
    try:
        with pytest.raises(TooManyRequests):
            restarted.throttle.attempt(refuse=[address_key("127.0.0.2")])
        assert len(restarted.throttle.counted["email:" + ADMIN_EMAIL]) == 2
    finally:
        await restarted.stop()


def fail2ban_regexes():
    """The filter's failregex lines (text and JSON log lines) with fail2ban's <HOST> as a named group."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(FILTER)
    lines = parser["Definition"]["failregex"].splitlines()
    return [re.compile(line.strip().replace("<HOST>", r"(?P<host>\S+)")) for line in lines if line.strip()]


def fail2ban_host(line):
    """The address fail2ban would ban for this log line (the first failregex that matches, as fail2ban does)."""
    return next(match.group("host") for regex in fail2ban_regexes() if (match := regex.search(line)))


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_failed_logins_are_logged_for_fail2ban_without_the_password(api, base_url, caplog, log_format):
    admin = await api.login()
    await api.create_user(admin, "tried@seam.test", USER_ROLE)
    token = await api.login("tried@seam.test", PASSWORD)
    caplog.set_level(logging.INFO)
    formatter = logs.formatter(log_format)  # as seam.setup_logging sets it
    assert await login_from(base_url, "127.0.0.7", "tried@seam.test", "secret-guess-1") == 401
    assert await login_from(base_url, "127.0.0.8", "nobody@seam.test", "secret-guess-2") == 401
    wrong = {"currentPassword": "secret-guess-3", "newPassword": "brand-new-pass"}
    assert (await call_from(base_url, "127.0.0.9", "PUT", "/auth/password", wrong, token))[0] == 400
    lines = [formatter.format(r) for r in caplog.records if r.name == "seam.auth"]
    expected = [
        ("WARNING", "failed login from 127.0.0.7 for 'tried@seam.test'"),
        ("WARNING", "failed login from 127.0.0.8 for 'nobody@seam.test'"),
        ("WARNING", "failed password change from 127.0.0.9 for 'tried@seam.test'"),
    ]
    if log_format == "text":
        assert [line.split(" ", 2)[2] for line in lines] == [f"{level} seam.auth: {text}" for level, text in expected]
    else:
        assert [(json.loads(line)["level"], json.loads(line)["message"]) for line in lines] == [
            (level.lower(), text) for level, text in expected
        ]
    assert [fail2ban_host(line) for line in lines] == ["127.0.0.7", "127.0.0.8", "127.0.0.9"]
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert "secret-guess" not in logged and "brand-new-pass" not in logged

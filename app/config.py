# SPDX-License-Identifier: MIT
"""Every setting, declared once with its type, default and help (SPEC §8), and its checks.

seam.py turns these into tornado.options (seam.conf, then SEAM_* environment, then flags);
tests pass a plain dict, completed from the same defaults.
"""

import re
import urllib.parse

import attrs

from security import emails
from security.durations import parse_duration
from web.addresses import is_loopback

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
# HS256 with a short key is cracked offline from any token (a one-letter secret was, by the attack pass).
MIN_JWT_SECRET_BYTES = 32
REDIS_SCHEMES = ("redis", "rediss", "unix")
DATABASE_SCHEMES = ("postgresql", "postgres")
# Socket ids start with `<instance>_`, which nginx reads to route a request to the process holding its socket.
INSTANCE = re.compile(r"^[a-z0-9]{1,16}$")
# /metrics does not throttle guesses: its bearer token must be too long to guess, and fit in a header.
MIN_METRICS_TOKEN_BYTES = 32
HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


@attrs.frozen
class Setting:
    name: str
    default: object
    type: type
    help: str
    multiple: bool = False


SETTINGS = (
    Setting("port", 3000, int, "TCP port to listen on"),
    Setting("address", "127.0.0.1", str, "address to bind (0.0.0.0 for every interface)"),
    Setting("proxy_headers", False, bool, "behind a reverse proxy: client address from X-Real-IP (login throttling)"),
    Setting("db_path", "seam.db", str, "SQLite database file, created on first start"),
    Setting(
        "database_url", "", str, "postgresql://user:password@host:port/db to use PostgreSQL (empty = SQLite at db_path)"
    ),
    Setting("jwt_secret", "", str, "HS256 secret (32+ bytes); empty = generated on first start, kept in the database"),
    Setting("jwt_expires", "1h", str, "token lifetime: seconds or 30m, 1h, 7d"),
    Setting("session_max_age", "7d", str, "longest a session lasts from its login, however often it is refreshed"),
    Setting("bcrypt_rounds", 12, int, "bcrypt cost factor (4-31)"),
    Setting("password_min_length", 8, int, "minimum password length (max is 100 characters and 72 bytes)"),
    Setting("cors_origins", [], str, "origins allowed to call the API and open sockets (comma-separated)", True),
    Setting("open_registration", False, bool, "let anonymous visitors register (always with default_role)"),
    Setting(
        "default_role", "user", str, "role given to self-registered users (kept by id: renaming roles never changes it)"
    ),
    Setting("admin_email", "admin@seam.local", str, "email of the admin account created on first start"),
    Setting("login_max_failures", 10, int, "failed logins per address before 429; past it per email, logins slow down"),
    Setting("login_window", "15m", str, "window for counting failed logins: seconds or 30m, 1h"),
    Setting("change_retention", 10000, int, "change-feed rows kept; older 'since' values get 410"),
    Setting("max_body_bytes", 1048576, int, "largest accepted request body, in bytes"),
    Setting("header_timeout", "30s", str, "time a connection gets to send a request's headers (also idle keep-alive)"),
    Setting("body_timeout", "30s", str, "time a request gets to send its whole body"),
    Setting("max_connections", 1000, int, "open connections (HTTP and sockets) at once; more wait to be accepted"),
    Setting("redis_url", "", str, "several processes as one service: redis://host:port/db (empty = one process)"),
    Setting(
        "instance", "", str, "this process's name among several (a-z, 0-9; empty = p<port>); socket ids start with it"
    ),
    Setting("static_path", "", str, "directory of the web console; empty = the bundled one"),
    Setting("log_level", "info", str, "debug, info, warning or error (SEAM's own loggers; libraries stay at info)"),
    Setting("log_format", "text", str, "text (readable lines) or json (one JSON object per line, for Loki/ELK)"),
    Setting("metrics", False, bool, "serve Prometheus metrics at /metrics (to loopback, or with metrics_token)"),
    Setting("metrics_token", "", str, "bearer token (32+ characters) that lets any address read /metrics"),
)
DEFAULTS = {s.name: s.default for s in SETTINGS}


class ConfigError(Exception):
    """A setting with a bad value; the message names it, in one line."""


def _range(config, name, low, high):
    value = config[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"invalid setting '{name}': {value!r} must be an integer from {low} to {high}")


def check_metrics_token(config):
    """Behind a proxy every client reaches SEAM from loopback, so there loopback proves nothing: /metrics then
    needs the token (without one it would be public through the proxy, or never reachable)."""
    token = config["metrics_token"]
    if token and (len(token.encode()) < MIN_METRICS_TOKEN_BYTES or not HEADER_SAFE.match(token)):
        raise ConfigError(
            f"invalid setting 'metrics_token': must be at least {MIN_METRICS_TOKEN_BYTES} printable ASCII characters"
            " without spaces (or empty)"
        )
    if config["metrics"] and config["proxy_headers"] and not token:
        raise ConfigError(
            "invalid setting 'metrics_token': required when metrics and proxy_headers are both on"
            " (behind a proxy every client looks like loopback)"
        )


def validate(values):
    """Complete a settings dict with defaults and check every value; raise ConfigError on the first bad one."""
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown setting '{sorted(unknown)[0]}'")
    config = {**DEFAULTS, **values}
    _range(config, "port", 0, 65535)
    _range(config, "bcrypt_rounds", 4, 31)
    _range(config, "password_min_length", 1, 100)
    _range(config, "login_max_failures", 1, 1_000_000)
    _range(config, "change_retention", 1, 1_000_000_000)
    _range(config, "max_body_bytes", 1024, 1024**3)
    _range(config, "max_connections", 1, 1_000_000)
    for name in ("jwt_expires", "session_max_age", "login_window", "header_timeout", "body_timeout"):
        try:
            parse_duration(config[name])
        except ValueError as error:
            raise ConfigError(f"invalid setting '{name}': {error}") from None
    if config["log_level"].lower() not in LOG_LEVELS:
        raise ConfigError(f"invalid setting 'log_level': {config['log_level']!r} is not one of {', '.join(LOG_LEVELS)}")
    if config["log_format"].lower() not in LOG_FORMATS:
        formats = ", ".join(LOG_FORMATS)
        raise ConfigError(f"invalid setting 'log_format': {config['log_format']!r} is not one of {formats}")
    config["log_format"] = config["log_format"].lower()
    check_metrics_token(config)
    admin_email = emails.clean(config["admin_email"])
    if admin_email is None:
        raise ConfigError(f"invalid setting 'admin_email': {config['admin_email']!r} is not an email address")
    config["admin_email"] = admin_email
    if not config["db_path"]:
        raise ConfigError("invalid setting 'db_path': must not be empty")
    if not config["default_role"].strip():
        raise ConfigError("invalid setting 'default_role': must not be empty")
    if config["jwt_secret"] and len(config["jwt_secret"].encode()) < MIN_JWT_SECRET_BYTES:
        raise ConfigError(f"invalid setting 'jwt_secret': must be at least {MIN_JWT_SECRET_BYTES} bytes (or empty)")
    if config["proxy_headers"] and not is_loopback(config["address"]):
        raise ConfigError(
            f"invalid setting 'proxy_headers': only with a loopback address behind the proxy"
            f" (address is {config['address']!r}, so any client could forge X-Real-IP)"
        )
    if config["redis_url"] and urllib.parse.urlsplit(config["redis_url"]).scheme not in REDIS_SCHEMES:
        raise ConfigError(
            f"invalid setting 'redis_url': {config['redis_url']!r} is not a redis://, rediss:// or unix:// URL"
        )
    if config["database_url"] and urllib.parse.urlsplit(config["database_url"]).scheme not in DATABASE_SCHEMES:
        raise ConfigError("invalid setting 'database_url': must be a postgresql:// URL (or empty for SQLite)")
    if config["instance"] and not INSTANCE.match(config["instance"]):
        raise ConfigError(f"invalid setting 'instance': {config['instance']!r} must be 1-16 of a-z and 0-9")
    config["instance"] = config["instance"] or f"p{config['port']}"
    if isinstance(config["cors_origins"], str):
        config["cors_origins"] = [o.strip() for o in config["cors_origins"].split(",") if o.strip()]
    return config

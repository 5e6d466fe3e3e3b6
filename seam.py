#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SEAM: composition root. Settings (seam.conf, SEAM_* environment, flags), the server, subcommands."""

import asyncio
import errno
import gc
import logging
import os
import runpy
import signal
import socket
import sqlite3
import sys
import urllib.parse

import tornado.netutil
import tornado.options

import messages as msg
from app.application import make_app, make_server
from app.config import DATABASE_SCHEMES, SETTINGS, ConfigError, validate
from app.services import Services, check_admin_password
from app.supervisor import Supervisor
from app.version import VERSION
from handlers import READ_PERMISSIONS, ROUTE_TABLE, permission_catalog
from realtime.operations import operation_id_from
from security import emails
from security.passwords import temporary_password
from store.db import Database, create_private
from store.errors import AppError
from store.migrations import MIGRATIONS
from store.seed import ADMIN_ROLE
from store.unit import Origin
from web import logs
from web.listener import raise_descriptor_limit

USAGE = """usage: seam [--setting=value ...] [command]
       seam --version

commands:
  (none), serve           serve the API, the console and Socket.IO
  serve --processes N     N processes on ports port..port+N-1 as one service (needs redis_url), supervised
  routes                  print the route table and the permission catalog
  create-admin EMAIL      add an admin account (password: $SEAM_ADMIN_PASSWORD or printed once)
  reset-password EMAIL    give an account a new temporary password (printed once)
  unlock EMAIL            clear an email's failed-login count (a running server applies it within a second)
  backup PATH             write a consistent copy of the database, also while the server runs
  migrate-to URL          copy the SQLite database (db_path) into an empty PostgreSQL database, verified

settings come from seam.conf (or --config=FILE), then SEAM_<NAME> environment variables,
then --name=value flags:
"""
SHUTDOWN_GRACE_SECONDS = 10
MAX_PROCESSES = 64
# tornado reads any word but false/0/f as true; a typo (or "no") must not silently turn a setting on.
BOOLEAN_WORDS = {
    "true": "true",
    "1": "true",
    "yes": "true",
    "on": "true",
    "false": "false",
    "0": "false",
    "no": "false",
    "off": "false",
}
BOOLEAN_SETTINGS = {s.name for s in SETTINGS if s.type is bool}
log = logging.getLogger("seam")


def build_parser():
    parser = tornado.options.OptionParser()
    for setting in SETTINGS:
        parser.define(
            setting.name, default=setting.default, type=setting.type, help=setting.help, multiple=setting.multiple
        )
    parser.define("config", default="seam.conf", type=str, help="settings file (tornado.options syntax)")
    return parser


def parse_setting(parser, flag):
    """Parse one --name=value, naming the setting on failure.

    tornado prints its whole help for an unknown name and raises a bare ValueError for a wrong type.
    """
    name, has_value, value = flag.lstrip("-").partition("=")
    name = name.replace("-", "_")
    if name not in parser:
        raise ConfigError(f"unknown setting '{name}' (see --help)")
    if has_value and name in BOOLEAN_SETTINGS:
        word = value.strip().lower()
        if word not in BOOLEAN_WORDS:
            raise ConfigError(f"invalid setting '{name}': {value!r} is not one of {', '.join(BOOLEAN_WORDS)}")
        flag = f"--{name}={BOOLEAN_WORDS[word]}"
    try:
        parser.parse_command_line(["seam", flag], final=False)
    except ValueError as error:
        raise ConfigError(f"invalid setting '{name}': {error}") from None


def parse_config_file(parser, path):
    """tornado's parse_config_file, but a bad value names its setting (tornado raises a bare ValueError)."""
    try:
        values = runpy.run_path(path)
    except SyntaxError:
        raise
    except Exception as error:  # the file is Python: any error in it is a configuration error
        raise ConfigError(f"invalid setting file {path!r}: {error}") from None
    for setting in SETTINGS:
        if setting.name not in values:
            continue
        value = values[setting.name]
        if isinstance(value, str) and (setting.type is not str or setting.multiple):
            parse_setting(parser, f"--{setting.name}={value}")
            continue
        try:
            setattr(parser, setting.name, value)
        except tornado.options.Error as error:
            raise ConfigError(f"invalid setting '{setting.name}': {error}") from None


def load_config(argv, environ):
    """(settings dict, remaining args); raises ConfigError with a one-line message."""
    parser = build_parser()
    explicit = [a.split("=", 1)[1] for a in argv[1:] if a.startswith("--config=")]
    path = explicit[-1] if explicit else environ.get("SEAM_CONFIG", "seam.conf")
    try:
        if os.path.exists(path):
            parse_config_file(parser, path)
        elif explicit:
            raise ConfigError(f"invalid setting 'config': file {path!r} not found")
        for setting in SETTINGS:
            value = environ.get(f"SEAM_{setting.name.upper()}")
            if value is not None:
                parse_setting(parser, f"--{setting.name}={value}")
        rest = []
        for index, flag in enumerate(argv[1:], start=1):  # flags end at the command (or a bare --)
            if flag == "--" or not flag.startswith("-"):
                rest = argv[index + (flag == "--") :]
                break
            parse_setting(parser, flag)
    except tornado.options.Error as error:
        raise ConfigError(f"invalid setting: {error}") from None
    except SyntaxError as error:
        raise ConfigError(f"invalid setting file {path!r}: line {error.lineno}: {error.msg}") from None
    values = {s.name: parser[s.name] for s in SETTINGS}
    return validate(values), rest


def setup_logging(level, log_format="text"):
    """log_level sets SEAM's own loggers; the libraries' never go below INFO: at DEBUG, aiosqlite logs every
    statement with its parameters (bcrypt hashes, the JWT secret) and asyncio/tornado/engineio their internals.
    log_format picks readable lines or one JSON object per line, for every logger alike."""
    level = logging.getLevelName(level.upper())
    output = logging.StreamHandler()
    output.setFormatter(logs.formatter(log_format))
    logging.basicConfig(level=max(level, logging.INFO), handlers=[output])
    logging.getLogger("seam").setLevel(level)
    logging.getLogger("tornado.access").setLevel(logging.WARNING)


def tune_gc():
    """Freeze start-up objects and raise gen0's threshold: no periodic GC stalls in fan-out (PERF-NOTES)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


async def check_default_role(services):
    """Open registration needs the role `default_role` was resolved to (by id: SPEC §10)."""
    name, role_id = services.config["default_role"], services.default_role_id
    if role_id is None:
        raise ConfigError(f"invalid setting 'default_role': role {name!r} does not exist")
    if await services.roles.get(role_id) is None:
        raise ConfigError(
            f"invalid setting 'default_role': the role {name!r} named when it was set (id {role_id}) was deleted;"
            " set it to another role's name"
        )


def announce_first_start(services):
    """Whichever command created the database names the admin account it made, and its password if generated.

    Printed, not logged: no log_level may hide the only copy of a generated password. With log_format=json it is
    still one JSON object, so the output stays parseable line by line.
    """
    if not services.first_start:
        return
    email = services.config["admin_email"]
    if services.admin_password:
        message = (
            f"SEAM first start: admin account {email} with password {services.admin_password}"
            " (shown once; change it at first login)"
        )
    else:
        message = f"SEAM first start: admin account {email} with the password in SEAM_ADMIN_PASSWORD"
    if services.config["log_format"] == "json":
        record = logging.makeLogRecord({"name": "seam.firststart", "levelname": "INFO", "msg": message})
        message = logs.JsonFormatter().format(record)
    print(message, flush=True)


# Why a bind fails, and which setting fixes it.
BIND_HINTS = {
    errno.EADDRINUSE: "another program is listening there: stop it or set 'port'",
    errno.EACCES: "ports below 1024 need privileges: set 'port' to 1024 or above (nginx in front serves 80/443)",
    errno.EADDRNOTAVAIL: "this machine has no such address: set 'address'",
}


def bind(config):
    """The listening sockets, bound before anything else starts: a port in use or an address this machine lacks
    is one line and exit 2, and leaves no database behind (it was a traceback, and the open database kept the
    process alive: under systemd it looked running while nothing listened)."""
    address, port = config["address"], config["port"]
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    try:
        return tornado.netutil.bind_sockets(port, address)
    except socket.gaierror as error:
        raise ConfigError(f"cannot listen on {where}: {error.strerror}; set 'address'") from None
    except OSError as error:
        hint = BIND_HINTS.get(error.errno, "check 'address' and 'port'")
        raise ConfigError(f"cannot listen on {where}: {error.strerror}; {hint}") from None


async def start_serving(config):
    """The server's services, started; open registration needs the role `default_role` names."""
    services = Services(config, permission_catalog())
    await services.start(os.environ.get("SEAM_ADMIN_PASSWORD") or None)
    if config["open_registration"]:
        try:
            await check_default_role(services)
        except ConfigError:
            await services.stop()
            raise
    return services


async def serve(config):
    sockets = bind(config)
    try:
        services = await start_serving(config)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    announce_first_start(services)
    raise_descriptor_limit(config["max_connections"])
    listener = make_server(make_app(services), config)
    listener.add_sockets(sockets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    tune_gc()
    log.info("SEAM listening on http://%s:%d", config["address"], config["port"])
    await stop.wait()
    log.info("shutting down")
    listener.stop()
    try:
        await asyncio.wait_for(services.requests.idle.wait(), SHUTDOWN_GRACE_SECONDS)
    except TimeoutError:
        log.warning("%d requests did not finish within %ss", services.requests.count, SHUTDOWN_GRACE_SECONDS)
    await services.hub.close()
    try:
        await asyncio.wait_for(listener.server.close_all_connections(), SHUTDOWN_GRACE_SECONDS)
    except TimeoutError:
        log.warning("some connections did not close within %ss", SHUTDOWN_GRACE_SECONDS)
    await services.stop()
    log.info("stopped")


def print_routes():
    for route in ROUTE_TABLE:
        name = route.permission if route.guard == "rbac" or route.identifies else "-"
        print(f"{route.method:<7}{'/api/v1' + route.pattern:<40}{route.guard:<8}{route.operation:<24}{name}")


async def with_services(config, action=None):
    """Run `action(services)` on the database, as a maintenance command does (without one: just make it ready)."""
    services = Services(config, permission_catalog())
    await services.start(os.environ.get("SEAM_ADMIN_PASSWORD") or None, announce=False)
    announce_first_start(services)
    try:
        return await action(services) if action else None
    finally:
        await services.stop()


def maintenance(operation):
    """A maintenance command's change: no actor, no socket; the running server announces it from the table."""
    resource = operation.split(":", 1)[0]
    return Origin(operation, operation_id_from(None), read_permission=READ_PERMISSIONS.get(resource))


async def create_admin(services, email):
    given = os.environ.get("SEAM_ADMIN_PASSWORD") or None
    if given:
        check_admin_password(services.config, given, email)
    password = given or temporary_password()
    role = await services.roles.by_name(ADMIN_ROLE)
    if role is None:
        raise ConfigError(f"role {ADMIN_ROLE!r} does not exist")
    digest = await services.passwords.hash(password)
    async with services.writes.unit(maintenance("users:create")) as tx:
        user = await services.users.create(tx, "Administrador", email, digest, role.idRole, must_change=int(not given))
        tx.record(msg.USER_CREATED, user.public(), after=user.public(), subject=user.idUser)
    print(f"admin account {email} created" + ("" if given else f" with password {password} (shown once)"))


async def reset_password(services, email):
    user = await services.users.by_email(email)
    if user is None:
        raise ConfigError(f"no account with email {email!r}")
    password = temporary_password()
    digest = await services.passwords.hash(password)
    async with services.writes.unit(maintenance("users:update")) as tx:
        before = await services.users.require(user.idUser, tx)
        after = await services.users.set_password(tx, user.idUser, digest, 1, msg.REVOKED_PASSWORD_RESET)
        tx.record(
            msg.USER_PASSWORD_RESET, after.public(), before=before.public(), after=after.public(), subject=user.idUser
        )
    print(f"new temporary password for {email}: {password} (shown once)")


async def unlock(services, email):
    """Counters live in the database: a running server notices this commit and reloads them."""
    removed = await services.throttle.unlock(email)
    print(f"failed-login count of {email} cleared ({removed} recorded)")


def backup(config, target):
    """SQLite's online backup: a consistent copy even while the server writes. PostgreSQL has its own tools."""
    if config["database_url"]:
        raise ConfigError("backup copies an SQLite database; this one is PostgreSQL (database_url): use pg_dump")
    if not os.path.exists(config["db_path"]):
        raise ConfigError(f"invalid setting 'db_path': {config['db_path']!r} does not exist")
    if os.path.exists(target) and os.path.samefile(target, config["db_path"]):
        raise ConfigError(f"backup target {target!r} is the database itself")
    source = sqlite3.connect(config["db_path"])
    created = False
    try:
        created = create_private(target)  # a copy of the database is as secret as the database
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    except (sqlite3.Error, OSError) as error:
        if created:
            os.unlink(target)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ConfigError(f"backup to {target!r} failed: {reason}") from None
    finally:
        source.close()
    print(f"backup of {config['db_path']} written to {target}")


def migrate_to(config, url):
    """Copy the SQLite database at db_path, everything and the change feed with its seqs, into an empty
    PostgreSQL database (docs/deploy.md); the SQLite file is only read (after its own migrations)."""
    path = config["db_path"]
    if urllib.parse.urlsplit(url).scheme not in DATABASE_SCHEMES:
        raise ConfigError(f"migrate-to: {url!r} is not a postgresql:// URL")
    if not os.path.exists(path):
        raise ConfigError(f"invalid setting 'db_path': {path!r} does not exist")
    from store import migrate_to as copier  # asyncpg only for this command
    from store import postgres

    async def run():
        source = Database(path)
        try:
            await source.open()  # an older SEAM's file gets this version's schema first
        finally:
            await source.close()
        return await copier.copy(path, url)

    name = postgres.redacted(url)
    try:
        copied = asyncio.run(run())
    except copier.TargetNotEmpty as error:
        raise ConfigError(f"migrate-to: {name} is not empty (table {error}): copy into an empty database") from None
    except (sqlite3.Error, *postgres.Database.errors) as error:
        raise ConfigError(f"migrate-to: cannot copy {path!r} to {name}: {error}") from None
    counts = ", ".join(f"{table} {count}" for table, count in copied.items())
    print(f"copied {path} to {name}: {counts}; verified (row counts, every row)")


def run_command(config, args):
    command, operands = args[0], args[1:]
    by_email = {"create-admin": create_admin, "reset-password": reset_password, "unlock": unlock}
    expected = {"routes": 0, "backup": 1, "migrate-to": 1, **dict.fromkeys(by_email, 1)}
    if command not in expected or len(operands) != expected[command]:
        raise ConfigError(f"unknown command or wrong arguments: {' '.join(args)} (see --help)")
    if command == "routes":
        print_routes()
    elif command == "backup":
        backup(config, operands[0])
    elif command == "migrate-to":
        migrate_to(config, operands[0])
    else:
        email = emails.clean(operands[0])  # the API's rule: a trailing newline or a zero-width space is refused
        if email is None:
            raise ConfigError(f"{operands[0]!r} is not an email address")
        action = by_email[command]
        asyncio.run(with_services(config, lambda services: action(services, email)))


def serve_arguments(argv, rest):
    """`serve [--processes N] [--setting value | --setting=value ...]` -> (N, argv with those settings as if
    given before `serve`)."""
    processes, flags = 1, []
    words = list(rest[1:])
    while words:
        word = words.pop(0)
        if not word.startswith("-"):
            raise ConfigError(f"unknown command or wrong arguments: {' '.join(rest)} (see --help)")
        if "=" not in word and words and not words[0].startswith("-"):
            word = f"{word}={words.pop(0)}"  # `--port 3000`, as the issue and systemd units write it
        name, _, value = word.lstrip("-").partition("=")
        if name == "processes":
            if not value.isdigit() or not 1 <= int(value) <= MAX_PROCESSES:
                raise ConfigError(f"invalid option '--processes': {value!r} must be a number from 1 to {MAX_PROCESSES}")
            processes = int(value)
        else:
            flags.append(word)
    return processes, argv[: len(argv) - len(rest)] + flags


def serve_processes(config, argv, processes):
    """Several processes are children of one supervisor, the database made ready first (so the first start's
    admin password is printed once, and migrations run once)."""
    if not config["redis_url"]:
        raise ConfigError("invalid option '--processes': several processes need redis_url (see docs/deploy.md)")
    if config["port"] + processes - 1 > 65535:
        raise ConfigError(f"invalid setting 'port': {config['port']} + {processes} processes passes 65535")
    asyncio.run(with_services(config))  # migrated, seeded and its first start announced, once
    return Supervisor(argv[1:], config["port"], processes, config["address"]).run()


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    if any(a in ("-h", "--help", "help") for a in argv[1:]):
        print(USAGE, end="")
        build_parser().print_help(sys.stdout)
        return 0
    if "--version" in argv[1:]:
        print(f"seam {VERSION} (database schema {len(MIGRATIONS)})")
        return 0
    processes = 1
    try:
        config, rest = load_config(argv, os.environ)
        if rest[:1] == ["serve"]:
            processes, argv = serve_arguments(argv, rest)
            config, rest = load_config(argv, os.environ)
        setup_logging(config["log_level"], config["log_format"])
        if rest:
            run_command(config, rest)
        elif processes > 1:
            return serve_processes(config, argv, processes)
        else:
            asyncio.run(serve(config))
    except (ConfigError, AppError) as error:
        print(f"seam: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

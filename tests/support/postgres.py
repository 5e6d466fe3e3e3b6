# SPDX-License-Identifier: MIT
"""A real PostgreSQL for the tests: Debian's server binaries, a throw-away cluster on a free loopback port.

initdb and postgres refuse to run as root (CI runs as root): then they run as the `postgres` system user, in
a temp directory that user owns. One server per test session; each test gets its own database, copied
from a migrated template (CREATE DATABASE … TEMPLATE is a file copy: milliseconds).
"""

import asyncio
import concurrent.futures
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
import time

import asyncpg

from bench.seam_process import START_SECONDS, free_port
from store.pg_migrations import migrate

TEMPLATE = "seam_template"
# Durability is not what these tests measure; without fsync a test database costs no disk flushes.
TEST_ONLY = (
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=300",
)


def off_loop(coroutine_function):
    """Run it to completion on a loop of its own in another thread: the test's IOLoop stays this thread's."""
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine_function()).result()


def bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL is missing: .ci/system-deps installs it (package postgresql)"
    return os.path.dirname(found[-1])


class PostgresServer:
    """postgres on 127.0.0.1:<port> with trust authentication for the `postgres` role; stop() and start() again."""

    def __init__(self, options=TEST_ONLY, prefix=()):
        """`options`: server settings (the tests' skip durability; bench/ passes none, PostgreSQL's defaults);
        `prefix`: a command the server runs under (bench/: taskset, to pin it to the server core)."""
        self.options = options
        self.prefix = list(prefix)
        self.bin = bin_dir()
        self.root = tempfile.mkdtemp(prefix="seam-pg-")
        self.data = os.path.join(self.root, "data")
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self.port = free_port()
        self.names = itertools.count(1)
        self.run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        off_loop(self._make_template)

    def url(self, database="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, program, *args):
        argv = [os.path.join(self.bin, program), *args]
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        argv = [*self.prefix, *argv]
        done = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{program} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def start(self):
        options = " ".join(("-p", str(self.port), "-c", "listen_addresses=127.0.0.1", "-k", self.root, *self.options))
        log = os.path.join(self.root, "postgres.log")
        self.run("pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "-t", str(START_SECONDS), "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def close(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    async def _make_template(self):
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await conn.close()
        conn = await asyncpg.connect(self.url(TEMPLATE))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    def database(self, migrated=True):
        """A new database (migrated, or empty) → its URL."""
        name = f"seam_{next(self.names)}"
        template = TEMPLATE if migrated else "template0"
        self.sql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def sql(self, statement, database="postgres"):
        async def run():
            conn = await asyncpg.connect(self.url(database))
            try:
                return await conn.fetch(statement)
            finally:
                await conn.close()

        return off_loop(run)

    def wait_until_up(self):
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                self.sql("SELECT 1")
                return
            except (OSError, asyncpg.PostgresError):
                time.sleep(0.05)
        raise RuntimeError("PostgreSQL did not come back")

# SPDX-License-Identifier: MIT
"""`seam serve --processes N --port P`: N SEAM processes on ports P..P+N-1, kept running by one supervisor.

Each child is an ordinary `seam` server (its own port, `instance = p<port>`, the same database and Redis).
A child that dies is started again, sooner the longer it had run; a child that exits with 2 (a setting it
cannot serve with, e.g. its port is taken) stops them all with that status, as restarting would not help.
SIGTERM or SIGINT stop every child (each finishes its requests) and the supervisor exits 0; SIGHUP restarts
them one at a time, each only once the one before answers again, so clients always have a process to
reconnect to (an upgrade without downtime).
"""

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request

log = logging.getLogger("seam.supervisor")
POLL_SECONDS = 0.2
STOP_SECONDS = 20  # a child gets this long to finish after SIGTERM, then SIGKILL
HEALTHY_SECONDS = 30  # during a rolling restart, how long a new child gets to answer /healthz
STEADY_SECONDS = 10  # a child that ran this long before dying is restarted at once
RESTART_MAX_SECONDS = 30
CONFIG_ERROR = 2


def server_command(flags, port):
    """The command that starts one child: this same program (`python seam.py` or the one-file binary)."""
    program = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, os.path.abspath(sys.argv[0])]
    return [*program, *flags, f"--port={port}", f"--instance=p{port}"]


class Child:
    def __init__(self, port, command):
        self.port = port
        self.command = command
        self.process = None
        self.started = 0.0
        self.delay = 0.0  # before the next restart, after a quick death
        self.due = 0.0  # when a restart may happen

    def start(self):
        self.process = subprocess.Popen(self.command)  # noqa: S603 - our own program, our own arguments
        self.started = time.monotonic()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, seconds):
        try:
            return self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            log.warning("process on port %d did not stop within %ss: killed", self.port, seconds)
            self.process.kill()
            return self.process.wait()


class Supervisor:
    def __init__(self, flags, base_port, count, address):
        self.children = [Child(port, server_command(flags, port)) for port in range(base_port, base_port + count)]
        self.address = "127.0.0.1" if address in ("0.0.0.0", "", "::") else address  # noqa: S104 - a check, not a bind
        self.stopping = False
        self.rolling = False

    def run(self):
        """Start every child, keep them running; returns the exit status."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._roll)
        for child in self.children:
            child.start()
        log.info(
            "supervising %d processes on ports %s", len(self.children), ", ".join(str(c.port) for c in self.children)
        )
        status = 0
        while not self.stopping:
            time.sleep(POLL_SECONDS)
            if self.rolling:
                self.rolling = False
                self._rolling_restart()
            status = self._tend()
            if status:
                self.stopping = True
        return self._shutdown(status)

    def _tend(self):
        """Restart children that died; the status to stop with when one cannot run at all."""
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            if code == CONFIG_ERROR:
                log.error("process on port %d cannot run (exit status 2): stopping every process", child.port)
                return CONFIG_ERROR
            if child.due == 0.0:
                ran = now - child.started
                child.delay = 0.0 if ran >= STEADY_SECONDS else min(RESTART_MAX_SECONDS, max(1.0, child.delay * 2))
                child.due = now + child.delay
                log.warning(
                    "process on port %d exited with status %s after %.0fs; starting it again in %.0fs",
                    child.port,
                    code,
                    ran,
                    child.delay,
                )
            if now >= child.due:
                child.due = 0.0
                child.start()
        return 0

    def _rolling_restart(self):
        for child in self.children:
            if self.stopping:
                return
            log.info("restarting the process on port %d", child.port)
            child.stop()
            child.wait(STOP_SECONDS)
            child.start()
            if not self._healthy(child):
                log.error("process on port %d is not answering after its restart; rolling restart stopped", child.port)
                return

    def _healthy(self, child):
        deadline = time.monotonic() + HEALTHY_SECONDS
        url = f"http://{self.address}:{child.port}/healthz"
        while time.monotonic() < deadline and not self.stopping:
            if child.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own loopback child
                    if answer.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(POLL_SECONDS)
        return False

    def _shutdown(self, status):
        for child in self.children:
            child.stop()
        for child in self.children:
            if child.process is not None:
                child.wait(STOP_SECONDS)
        log.info("every process stopped")
        return status

    def _stop(self, signum, frame):
        self.stopping = True

    def _roll(self, signum, frame):
        self.rolling = True

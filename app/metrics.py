# SPDX-License-Identifier: MIT
"""Prometheus metrics of one SEAM process (issue 15), with the official prometheus_client.

Each instance has its own registry: every SEAM process serves its own figures at /metrics (the
scrape config lists each one) and every test's server starts from zero. The hot paths get a
plain callable (`Histogram.observe`) or a cached labelled child, never a label lookup per request.
"""

import bisect
import itertools
import math

import prometheus_client
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from handlers.auth import LOGIN, PASSWORD_CHANGE

# Request latency in seconds: a cached read takes about a millisecond, a login's bcrypt a few hundred.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# One data:changed to every allowed socket: ~5 ms for 100 sockets, ~15 ms for 1000 (bench/RESULTS.md).
BROADCAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# A durable COMMIT is one fsync: sub-millisecond on SSDs, tens of ms on a busy or networked disk.
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# A password check past the throttle's limit is refused (429, per address) or slowed down (per email).
THROTTLE_OUTCOMES = ("refused", "slowed")
# Methods get their own label value; anything else a client sends is `other` (labels must stay bounded).
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"))

# `<name>_created` series double the output and no alert or dashboard here reads them.
prometheus_client.disable_created_metrics()


class RequestCollector(Collector):
    """Requests by route, method and status, and their latency, in plain dicts turned into metric families at
    scrape time: every request is observed on the IOLoop's one thread, so it needs no lock, and counting one
    costs about a microsecond where a labelled Counter plus Histogram cost over ten (bench/RESULTS.md)."""

    def __init__(self, buckets):
        self.bounds = buckets
        self.counts = {}  # (route, method, status) -> requests
        self.latency = {}  # (route, method) -> [requests per bucket, the last one +Inf], and the sum of seconds

    def observe(self, route, method, status, seconds):
        key = (route, method, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        latency = self.latency.get(key[:2])
        if latency is None:
            latency = self.latency[key[:2]] = [[0] * (len(self.bounds) + 1), 0.0]
        latency[0][bisect.bisect_left(self.bounds, seconds)] += 1  # `le`: a value on a bound belongs to it
        latency[1] += seconds

    def collect(self):
        requests = CounterMetricFamily(
            "seam_http_requests", "HTTP requests answered, by route pattern", labels=("route", "method", "status")
        )
        for (route, method, status), count in self.counts.items():
            requests.add_metric((route, method, str(status)), count)
        yield requests
        durations = HistogramMetricFamily(
            "seam_http_request_duration_seconds", "Time to answer an HTTP request, by route pattern",
            labels=("route", "method"),
        )  # fmt: skip
        bounds = [floatToGoString(bound) for bound in (*self.bounds, math.inf)]
        for (route, method), (per_bucket, total) in self.latency.items():
            durations.add_metric(
                (route, method), list(zip(bounds, itertools.accumulate(per_bucket), strict=True)), total
            )
        yield durations


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # RSS, CPU seconds, open fds, start time
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.requests = RequestCollector(REQUEST_BUCKETS)
        registry.register(self.requests)
        self.sockets = Gauge("seam_sockets_connected", "Authenticated Socket.IO connections", registry=registry)
        self.broadcast_seconds = Histogram(
            "seam_broadcast_duration_seconds", "Fan-out of one data:changed to every socket allowed to see it",
            buckets=BROADCAST_BUCKETS, registry=registry,
        )  # fmt: skip
        self.latest_seq = Gauge(
            "seam_change_feed_latest_seq", "Last change-feed seq this process announced", registry=registry
        )
        self.commit_seconds = Histogram(
            "seam_db_commit_duration_seconds", "SQLite COMMIT of one write transaction (fsync included)",
            buckets=COMMIT_BUCKETS, registry=registry,
        )  # fmt: skip
        self.login_failures = Counter(
            "seam_login_failures", "Wrong passwords and unknown emails, by action", ("action",), registry=registry
        )
        self.login_throttled = Counter(
            "seam_login_throttled", "Password checks refused (429) or slowed down by the login throttle",
            ("action", "outcome"), registry=registry,
        )  # fmt: skip
        for action in (LOGIN, PASSWORD_CHANGE):  # at 0 from the start, so the first one shows in rate()
            self.login_failures.labels(action)
            for outcome in THROTTLE_OUTCOMES:
                self.login_throttled.labels(action, outcome)

    def attach(self, services):
        """Hook the database, the hub and the publisher of one Services instance to these metrics."""
        services.db.observe_commit = self.commit_seconds.observe
        services.hub.observe_broadcast = self.broadcast_seconds.observe
        self.sockets.set_function(lambda: len(services.hub.sockets))
        self.latest_seq.set_function(lambda: services.publisher.cursor)

    def request(self, route, method, status, seconds):
        """One answered request (Tornado's log_function calls this for every one)."""
        self.requests.observe(route, method if method in METHODS else "other", status, seconds)

    def exposition(self):
        """The Prometheus text format of everything above."""
        return prometheus_client.generate_latest(self.registry)

"""Failed logins per client address and per email within a sliding window (SPEC §3)."""

import collections
import math
import time

import messages as msg
from store.errors import TooManyRequests


class LoginThrottle:
    """Failed logins per client address and per email within a sliding window (SPEC §3)."""

    def __init__(self, max_failures, window_seconds):
        self.max_failures = max_failures
        self.window = window_seconds
        self.failures = collections.defaultdict(collections.deque)

    def _recent(self, key, now):
        times = self.failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.failures[key]
            return None
        return times

    def check(self, *keys):
        now = time.monotonic()
        for key in keys:
            times = self._recent(key, now)
            if times is not None and len(times) >= self.max_failures:
                retry = max(1, math.ceil(times[0] + self.window - now))
                raise TooManyRequests(msg.RATE_LIMITED, headers={"Retry-After": str(retry)})

    def fail(self, *keys):
        now = time.monotonic()
        for key in keys:
            self.failures[key].append(now)

    def forget(self, key):
        self.failures.pop(key, None)

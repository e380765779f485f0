"""How often a caller may come: a request rate per token, and refused tokens per address.

Both are kept in memory by the one console process that serves the requests; both are
bounded (a bucket per configured token; at most `SignInGuard.max_addresses` addresses).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from dashboard.config import RateLimit, SignInLimit


class TokenBuckets:
    """A token bucket per caller: `burst` requests at once, refilled at `per_minute`."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Take one request; 0 when allowed, else the seconds until one is allowed."""
        now = time.monotonic() if now is None else now
        rate = self.limit.per_minute / 60.0
        with self._lock:
            level, then = self._buckets.get(key, (float(self.limit.burst), now))
            level = min(float(self.limit.burst), level + (now - then) * rate)
            if level < 1.0:
                self._buckets[key] = (level, now)
                return (1.0 - level) / rate
            self._buckets[key] = (level - 1.0, now)
            return 0.0


class SignInGuard:
    """Refused tokens per client address within a sliding window.

    An address with `failures` refusals in the last `window_s` is turned away (before its
    token is even looked at, so that guessing cannot go on behind the 429) until the
    oldest of them leaves the window: at most `failures` guesses per window per address.
    """

    def __init__(self, limit: SignInLimit, max_addresses: int = 10_000) -> None:
        self.limit = limit
        self.max_addresses = max_addresses
        self._refusals: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.refused_total = 0
        self.turned_away_total = 0

    def wait_s(self, client: str, now: float | None = None) -> float:
        """0 when `client` may present a token, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            refusals = self._recent(client, now)
            if len(refusals) < self.limit.failures:
                return 0.0
            return max(refusals[0] + self.limit.window_s - now, 0.001)

    def refused(self, client: str, now: float | None = None) -> bool:
        """Count a refused token; True when this refusal turns the address away."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if client not in self._refusals and len(self._refusals) >= self.max_addresses:
                self._forget_idle(now)
            refusals = self._refusals.setdefault(client, deque())
            refusals.append(now)
            self._recent(client, now)
            self.refused_total += 1
            turned_away = len(refusals) == self.limit.failures
            self.turned_away_total += turned_away
            return turned_away

    def _recent(self, client: str, now: float) -> deque[float]:
        refusals = self._refusals.get(client, deque())
        while refusals and refusals[0] <= now - self.limit.window_s:
            refusals.popleft()
        if not refusals:
            self._refusals.pop(client, None)
        return refusals

    def _forget_idle(self, now: float) -> None:
        for client in list(self._refusals):
            self._recent(client, now)
        # Still full of addresses all refused within the window: the oldest one goes, so
        # that memory stays bounded; its next refusals start it again from one.
        while len(self._refusals) >= self.max_addresses:
            oldest = min(self._refusals, key=lambda c: self._refusals[c][-1])
            del self._refusals[oldest]

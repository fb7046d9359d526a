"""Rate limits: at most N attempts per key (an address, an e-mail) in a sliding window.

The counts live in this process's memory, so with several Function App instances the
effective limit is N per instance; that still stops one client hammering the forms. Keys
are hashed before they are kept, so no e-mail address sits in memory longer than a request.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable

_MAX_KEYS = 100_000


class RateLimiter:
    """A sliding-window counter per key; thread-safe."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be at least 1 and the window positive")
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._hits: dict[bytes, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count an attempt for ``key``; False (not counted) when the limit is reached."""
        digest = hashlib.sha256(key.encode()).digest()
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(digest, deque())
            self._prune(hits, now)
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > _MAX_KEYS:
                self._forget_idle(now)
            return True

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` may try again (0 when it may now)."""
        digest = hashlib.sha256(key.encode()).digest()
        now = self._clock()
        with self._lock:
            hits = self._hits.get(digest)
            if hits is not None:
                self._prune(hits, now)
            if not hits or len(hits) < self.limit:
                return 0
            return max(1, int(hits[0] + self.window - now + 0.999))

    def _prune(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in idle:
            del self._hits[key]

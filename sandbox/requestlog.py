"""A record of every request the sandbox answered, for tests and benchmarks to count."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    duration_ms: float
    at: float
    correlation_id: str | None = None


class RequestLog:
    """Thread-safe list of answered requests with counting helpers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def add(
        self,
        method: str,
        path: str,
        status: int,
        duration_ms: float,
        correlation_id: str | None = None,
    ) -> None:
        """Record one answered request (``correlation_id``: the caller's
        ``x-ms-correlation-request-id``, which ties the requests of one pipeline run)."""
        entry = LoggedRequest(method, path, status, duration_ms, time.time(), correlation_id)
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def count(
        self, method: str | None = None, prefix: str = "", correlation_id: str | None = None
    ) -> int:
        """Requests whose method matches (any when None), whose path starts with prefix and,
        when given, that carried ``correlation_id``."""
        return sum(
            1
            for e in self.entries()
            if (method is None or e.method == method)
            and e.path.startswith(prefix)
            and (correlation_id is None or e.correlation_id == correlation_id)
        )

    def counts(self) -> dict[str, int]:
        """``"GET /api/data/v9.2/contacts": 3``-style totals."""
        return dict(Counter(f"{e.method} {e.path}" for e in self.entries()))

    def as_json(self) -> dict[str, object]:
        entries = self.entries()
        return {
            "total": len(entries),
            "counts": dict(Counter(f"{e.method} {e.path}" for e in entries)),
            "by_method": dict(Counter(e.method for e in entries)),
            "by_status": {str(k): v for k, v in Counter(e.status for e in entries).items()},
        }

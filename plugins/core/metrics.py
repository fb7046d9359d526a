"""In-process counters: decisions by status, retries, throttling.

Any module counts with :func:`count_decision`, :func:`count_retry` or :func:`count_throttled`
(or :data:`counters` directly); tests and the demo read :meth:`Counters.snapshot`. When
telemetry export is on (:func:`plugins.core.logging.configure_logging` with an Application
Insights connection string), every count is also added to an OpenTelemetry counter of the same
name, so it reaches Application Insights as a custom metric.

Pure: no I/O.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

DECISIONS = "member_plugins.decisions"
RETRIES = "member_plugins.retries"
THROTTLED = "member_plugins.throttled"

Labels = tuple[tuple[str, str], ...]


class Counters:
    """Named counters with labels; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[tuple[str, Labels]] = Counter()
        self._meter: Any = None
        self._instruments: dict[str, Any] = {}

    def add(self, name: str, amount: int = 1, **labels: str) -> None:
        """Add ``amount`` to the counter ``name`` with these labels."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._values[key] += amount
            instrument = self._instrument(name)
        if instrument is not None:
            instrument.add(amount, dict(labels))

    def value(self, name: str, **labels: str) -> int:
        """One counter's value (0 when never counted)."""
        with self._lock:
            return self._values.get((name, tuple(sorted(labels.items()))), 0)

    def snapshot(self) -> dict[str, int]:
        """Every counter: ``{"member_plugins.decisions{status=Denied}": 2, ...}``."""
        with self._lock:
            items = list(self._values.items())
        return {_key_text(name, labels): value for (name, labels), value in sorted(items)}

    def reset(self) -> None:
        """Forget every count (tests)."""
        with self._lock:
            self._values.clear()

    def export_to(self, meter: Any) -> None:
        """Also add every later count to OpenTelemetry counters made by ``meter``."""
        with self._lock:
            self._meter = meter
            self._instruments.clear()

    def _instrument(self, name: str) -> Any:
        if self._meter is None:
            return None
        if name not in self._instruments:
            self._instruments[name] = self._meter.create_counter(name)
        return self._instruments[name]


def _key_text(name: str, labels: Labels) -> str:
    if not labels:
        return name
    return name + "{" + ",".join(f"{key}={value}" for key, value in labels) + "}"


counters = Counters()
"""The process's counters."""


def count_decision(status: str) -> None:
    """A registration got ``status`` (the status name, e.g. ``ApprovedAlumnus``)."""
    counters.add(DECISIONS, status=status)


def count_retry(target: str, reason: str) -> None:
    """A call to ``target`` (``dataverse``, a registry name) is retried because of ``reason``."""
    counters.add(RETRIES, target=target, reason=reason)


def count_throttled(target: str) -> None:
    """``target`` answered 429 (service protection)."""
    counters.add(THROTTLED, target=target)

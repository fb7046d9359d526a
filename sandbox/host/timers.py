"""Timer triggers: each on its schedule in a background thread, or on demand.

A timer function never overlaps itself (the host runs timers as singletons): a run on
demand waits for a scheduled run in progress, and the other way round. ``runOnStartup``
runs it once when the host starts. A run that starts more than ``PAST_DUE_TOLERANCE`` after
its scheduled time gets ``past_due`` true; occurrences missed while a run was going on are
skipped, not caught up. There is no storage, so ``useMonitor`` has no effect and
``schedule_status`` is empty, as with the monitor off. Schedules are in UTC.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from azure.functions import meta
from azure.functions.timer import TimerRequest, TimerRequestConverter

from .config import resolve_setting_expression
from .invoker import Invoker, discard_result
from .loader import FunctionEntry
from .ncrontab import parse_schedule

PAST_DUE_TOLERANCE = timedelta(seconds=1)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def timer_request(past_due: bool) -> TimerRequest:
    """The ``func.TimerRequest`` the worker builds from the host's timer payload."""
    payload = {"Schedule": {"AdjustForDST": True}, "ScheduleStatus": None, "IsPastDue": past_due}
    return TimerRequestConverter.decode(meta.Datum(json.dumps(payload), "json"),
                                        trigger_metadata={})


class TimerRunner:
    """One timer function and its schedule."""

    def __init__(
        self,
        entry: FunctionEntry,
        invoker: Invoker,
        clock: Clock = utc_now,
        tolerance: timedelta = PAST_DUE_TOLERANCE,
    ) -> None:
        self.entry = entry
        self.schedule = parse_schedule(resolve_setting_expression(str(entry.binding["schedule"])))
        self.run_on_startup = bool(entry.binding.get("runOnStartup"))
        self._invoker = invoker
        self._clock = clock
        self._tolerance = tolerance
        self._running = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run on the schedule (and once now when ``runOnStartup``) until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name=f"timer-{self.entry.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling; a run in progress finishes first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run(self, past_due: bool = False) -> None:
        """Run the function now and wait for it; its exception, if any, propagates."""
        with self._running:
            self._invoker.invoke(self.entry, timer_request(past_due), discard_result)

    def _loop(self) -> None:
        if self.run_on_startup:
            self.try_run()
        due = self.schedule.next_after(self._clock())
        while due is not None:
            if self._stop.wait(max(0.0, (due - self._clock()).total_seconds())):
                return
            started = self._clock()
            if started < due:
                continue
            self.try_run(past_due=started - due > self._tolerance)
            following = self.schedule.next_after(due)
            if following is not None and following <= self._clock():
                following = self.schedule.next_after(self._clock())
            due = following

    def try_run(self, past_due: bool = False) -> bool:
        """Run now; False when the function failed (the invoker has logged why)."""
        try:
            self.run(past_due)
        except Exception:
            return False
        return True


class Timers:
    """All timer functions of an app, with a small pool for runs asked for over HTTP."""

    def __init__(self, runners: list[TimerRunner]) -> None:
        self._runners = {runner.entry.name: runner for runner in runners}
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start every timer's schedule."""
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="timer-on-demand")
        for runner in self._runners.values():
            runner.start()

    def stop(self) -> None:
        """Stop the schedules and wait for runs on demand to end."""
        for runner in self._runners.values():
            runner.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def run(self, name: str) -> None:
        """Run timer ``name`` now and wait for it (its exception propagates)."""
        self._runner(name).run()

    def submit(self, name: str) -> None:
        """Run timer ``name`` now in the background (what the admin endpoint does)."""
        if self._pool is None:
            raise RuntimeError("the host is not running")
        self._pool.submit(self._runner(name).try_run)

    def _runner(self, name: str) -> TimerRunner:
        if name not in self._runners:
            raise KeyError(f"'{name}' is not a timer function")
        return self._runners[name]

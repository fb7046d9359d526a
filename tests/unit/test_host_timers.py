"""Timer triggers of the local host: past-due runs, startup runs, the TimerRequest built."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.functions.timer import TimerRequest

from sandbox.host.errors import HostError
from sandbox.host.invoker import Invoker
from sandbox.host.loader import TIMER_TRIGGER, FunctionEntry
from sandbox.host.timers import TimerRunner, timer_request

T0 = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


class ScriptedClock:
    """Returns the given times in turn, then the last one for ever."""

    def __init__(self, *times: datetime) -> None:
        self._times = list(times)

    def __call__(self) -> datetime:
        return self._times.pop(0) if len(self._times) > 1 else self._times[0]


class Recorder:
    """A timer function that records ``past_due`` and signals each call."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[bool] = []
        self.called = threading.Event()
        self.fail = fail

    def __call__(self, timer: TimerRequest) -> None:
        self.calls.append(timer.past_due)
        self.called.set()
        if self.fail:
            raise RuntimeError("timer failed")


def entry(function: Callable[..., None], schedule: str, on_startup: bool = False) -> FunctionEntry:
    binding = {"type": TIMER_TRIGGER, "name": "timer", "schedule": schedule,
               "runOnStartup": on_startup}
    return FunctionEntry("tick", TIMER_TRIGGER, binding, function, wants_context=False)


@pytest.fixture
def runners() -> Iterator[list[TimerRunner]]:
    started: list[TimerRunner] = []
    yield started
    for runner in started:
        runner.stop()


def start(runners: list[TimerRunner], runner: TimerRunner) -> TimerRunner:
    runners.append(runner)
    runner.start()
    return runner


def test_timer_request_is_built_by_the_worker_converter() -> None:
    request = timer_request(past_due=True)
    assert isinstance(request, TimerRequest)
    assert request.past_due is True
    assert request.schedule == {"AdjustForDST": True}
    assert request.schedule_status == {}


def test_a_run_on_time_is_not_past_due(runners: list[TimerRunner]) -> None:
    recorder = Recorder()
    due = T0 + timedelta(seconds=1)
    start(runners, TimerRunner(entry(recorder, "* * * * * *"), Invoker(Path(".")),
                               clock=ScriptedClock(T0, due, due, T0)))
    assert recorder.called.wait(5)
    assert recorder.calls == [False]


def test_a_late_run_is_past_due_and_missed_occurrences_are_skipped(
    runners: list[TimerRunner],
) -> None:
    recorder = Recorder()
    late = T0 + timedelta(seconds=10)
    # After the late run the clock stands still before the next occurrence, so a second run
    # could only come from catching up the nine missed ones.
    clock = ScriptedClock(T0, late, late, late, late - timedelta(seconds=1))
    start(runners, TimerRunner(entry(recorder, "* * * * * *"), Invoker(Path(".")), clock=clock))
    assert recorder.called.wait(5)
    recorder.called.clear()
    assert not recorder.called.wait(0.3)
    assert recorder.calls == [True]


def test_run_on_startup_runs_once_at_start(runners: list[TimerRunner]) -> None:
    recorder = Recorder()
    start(runners, TimerRunner(entry(recorder, "0 0 3 * * *", on_startup=True),
                               Invoker(Path("."))))
    assert recorder.called.wait(5)
    assert recorder.calls == [False]


def test_a_failing_timer_keeps_its_schedule(runners: list[TimerRunner]) -> None:
    recorder = Recorder(fail=True)
    runner = TimerRunner(entry(recorder, "00:00:01", on_startup=True), Invoker(Path(".")))
    assert runner.try_run() is False
    with pytest.raises(RuntimeError, match="timer failed"):
        runner.run()
    recorder.called.clear()
    start(runners, runner)
    assert recorder.called.wait(5)
    recorder.called.clear()
    assert recorder.called.wait(5)
    assert recorder.calls[:2] == [False, False] and len(recorder.calls) >= 4


def test_schedule_from_an_app_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICK_SCHEDULE", "0 */10 * * * *")
    runner = TimerRunner(entry(Recorder(), "%TICK_SCHEDULE%"), Invoker(Path(".")))
    assert runner.schedule.next_after(T0) == T0 + timedelta(minutes=10)
    monkeypatch.delenv("TICK_SCHEDULE")
    with pytest.raises(HostError, match="TICK_SCHEDULE"):
        TimerRunner(entry(Recorder(), "%TICK_SCHEDULE%"), Invoker(Path(".")))

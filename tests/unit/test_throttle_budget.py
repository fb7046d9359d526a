"""The per-user service-protection budget: slots, shared pauses, spent windows."""

from __future__ import annotations

import threading
import time

import pytest

from plugins.dataverse.throttle import (
    BURST_REMAINING_HEADER,
    TIME_REMAINING_HEADER,
    ThrottleBudget,
    WaitTooLong,
    shared_budget,
)


def run_concurrently(budget: ThrottleBudget, callers: int, hold: float) -> int:
    """The most callers that held a slot at the same time."""
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def call() -> None:
        with budget.slot(time.monotonic() + 10):
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(hold)
            with lock:
                state["now"] -= 1

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return state["peak"]


def test_no_more_than_the_concurrency_hold_slots_at_once() -> None:
    assert run_concurrently(ThrottleBudget(3), callers=9, hold=0.05) == 3


def test_a_spent_window_lets_one_request_at_a_time_until_an_answer_says_otherwise() -> None:
    budget = ThrottleBudget(4)
    budget.answered({BURST_REMAINING_HEADER: "0", TIME_REMAINING_HEADER: "1,150.00"})
    assert run_concurrently(budget, callers=4, hold=0.02) == 1
    budget.answered({BURST_REMAINING_HEADER: "5999", TIME_REMAINING_HEADER: "1,150.00"})
    assert run_concurrently(budget, callers=4, hold=0.05) == 4


def test_execution_time_spent_also_counts_as_a_spent_window() -> None:
    budget = ThrottleBudget(4)
    budget.answered({BURST_REMAINING_HEADER: "10", TIME_REMAINING_HEADER: "0.00"})
    assert run_concurrently(budget, callers=3, hold=0.02) == 1


def test_after_a_429_every_caller_waits_out_the_retry_after() -> None:
    budget = ThrottleBudget(4)
    started = time.monotonic()
    budget.throttled(0.3)
    with budget.slot(started + 5):
        assert time.monotonic() - started >= 0.29


def test_a_pause_past_the_deadline_is_refused_with_its_length() -> None:
    budget = ThrottleBudget(4)
    budget.throttled(300)
    with pytest.raises(WaitTooLong) as caught, budget.slot(budget.now() + 60):
        pass
    assert 299 < caught.value.seconds <= 300


def test_clients_of_one_user_share_one_budget() -> None:
    first = shared_budget("https://org.crm4.dynamics.com/", "App-Id", 8)
    assert shared_budget("https://ORG.crm4.dynamics.com", "app-id", 8) is first
    assert shared_budget("https://other.crm4.dynamics.com", "app-id", 8) is not first

"""Dataverse's service-protection accounting (sliding window, per user) on a fake clock."""

from __future__ import annotations

import pytest

from sandbox.config import Limits
from sandbox.protection import (
    CONCURRENCY_EXCEEDED,
    EXECUTION_TIME_EXCEEDED,
    REQUESTS_EXCEEDED,
    Remaining,
    UsageLimiter,
    concurrency_exceeded,
    execution_time_exceeded,
    requests_exceeded,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def served(limiter: UsageLimiter, user: str = "app/oid", execution_ms: float = 1.0) -> Remaining:
    """Admit and finish one request, failing the test if it is refused."""
    assert limiter.admit(user) is None
    return limiter.finish(user, execution_ms)


def test_request_limit_is_enforced_after_it_is_reached(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(requests=3, window_seconds=10), clock)
    for _ in range(3):
        served(limiter)
        clock.now += 1

    throttle = limiter.admit("app/oid")

    assert throttle is not None
    assert throttle.code == REQUESTS_EXCEEDED
    # The first request (t=1000) leaves the 10 s window at t=1010; now is 1003.
    assert throttle.retry_after == 7


def test_requests_are_allowed_again_when_the_oldest_leaves_the_window(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(requests=2, window_seconds=10), clock)
    served(limiter)
    clock.now += 4
    served(limiter)
    assert limiter.admit("app/oid") is not None

    clock.now += 6

    assert limiter.admit("app/oid") is None
    assert limiter.admit("app/oid") is not None


def test_refused_requests_do_not_extend_the_window(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(requests=1, window_seconds=5), clock)
    served(limiter)
    for _ in range(4):
        clock.now += 1
        assert limiter.admit("app/oid") is not None

    clock.now += 1

    assert limiter.admit("app/oid") is None


def test_retry_after_is_a_whole_number_of_at_least_one_second(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(requests=1, window_seconds=0.25), clock)
    served(limiter)
    clock.now += 0.1

    throttle = limiter.admit("app/oid")

    assert throttle is not None
    assert throttle.retry_after == 1


def test_execution_time_limit_is_enforced_after_it_is_exceeded(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(execution_ms=100, window_seconds=60), clock)
    served(limiter, execution_ms=60)
    clock.now += 10
    served(limiter, execution_ms=60)  # exceeds the limit, but was admitted before it did
    clock.now += 5

    throttle = limiter.admit("app/oid")

    assert throttle is not None
    assert throttle.code == EXECUTION_TIME_EXCEEDED
    # Dropping the first request (finished at 1000, leaves at 1060) is enough; now is 1015.
    assert throttle.retry_after == 45
    clock.now += 45
    assert limiter.admit("app/oid") is None


def test_concurrency_limit_refuses_immediately_and_frees_on_finish(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(concurrency=2), clock)
    assert limiter.admit("app/oid") is None
    assert limiter.admit("app/oid") is None

    throttle = limiter.admit("app/oid")

    assert throttle is not None
    assert throttle.code == CONCURRENCY_EXCEEDED
    assert throttle.retry_after == 1
    limiter.finish("app/oid", 1.0)
    assert limiter.admit("app/oid") is None


def test_limits_are_kept_per_user(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(requests=1, window_seconds=60), clock)
    served(limiter, "app/alice")

    assert limiter.admit("app/alice") is not None
    assert limiter.admit("app/bob") is None


def test_remaining_budget_after_each_request(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(requests=10, execution_ms=1000, window_seconds=60), clock)
    served(limiter, execution_ms=100)

    remaining = served(limiter, execution_ms=250)

    assert remaining == Remaining(requests=8, execution_ms=650)
    clock.now += 61
    assert served(limiter, execution_ms=5) == Remaining(requests=9, execution_ms=995)


def test_changed_limits_apply_to_the_existing_window(clock: FakeClock) -> None:
    limiter = UsageLimiter(Limits(requests=5, window_seconds=60), clock)
    served(limiter)
    served(limiter)

    limiter.limits = Limits(requests=2, window_seconds=60)

    assert limiter.admit("app/oid") is not None


def test_messages_are_dataverse_s_with_the_configured_numbers() -> None:
    defaults = Limits()

    assert requests_exceeded(defaults, 1).message == (
        "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
    )
    assert execution_time_exceeded(defaults, 1).message.startswith(
        "Combined execution time of incoming requests exceeded limit of 1,200,000 "
        "milliseconds over time window of 300 seconds."
    )
    assert concurrency_exceeded(defaults).message == (
        "Number of concurrent requests exceeded the limit of 52."
    )
    scaled = Limits(requests=20, window_seconds=0.5)
    assert "limit of 20 over time window of 0.5 seconds" in requests_exceeded(scaled, 1).message


def test_throttle_becomes_a_429_with_retry_after() -> None:
    error = requests_exceeded(Limits(), 42).error()

    assert error.status == 429
    assert error.code == REQUESTS_EXCEEDED
    assert error.headers == {"Retry-After": "42"}

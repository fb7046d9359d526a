"""Rate limits: a sliding window per key."""

from __future__ import annotations

import pytest

from plugins.selfservice.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_limit_and_no_more_within_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock)

    assert [limiter.allow("address:1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("address:5.6.7.8")


def test_attempts_leave_the_window_one_by_one() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 60, clock)
    limiter.allow("k")
    clock.now += 30
    limiter.allow("k")

    assert limiter.retry_after("k") == 30
    clock.now += 30
    assert limiter.retry_after("k") == 0
    assert limiter.allow("k")
    assert not limiter.allow("k")


def test_refused_attempts_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 10, clock)
    limiter.allow("k")
    for _ in range(5):
        clock.now += 1
        assert not limiter.allow("k")

    clock.now += 5
    assert limiter.allow("k")


def test_idle_keys_are_forgotten_when_memory_fills(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("plugins.selfservice.ratelimit._MAX_KEYS", 3)
    clock = Clock()
    limiter = RateLimiter(1, 10, clock)
    for key in "abc":
        limiter.allow(key)
    clock.now += 11

    limiter.allow("d")

    assert len(limiter._hits) == 1


def test_limits_must_make_sense() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 10)
    with pytest.raises(ValueError):
        RateLimiter(1, 0)

"""One service-protection budget per Dataverse user, shared by every call in the process.

Dataverse counts requests, execution time and concurrency per user (6,000 requests and
20 minutes of execution time per sliding 300 s, 52 at once). Left alone, every concurrent
call discovers an exhausted window on its own and draws its own 429. The budget keeps what
Dataverse last said instead:

- at most ``concurrency`` requests in flight (the deployment bounds the fleet: instances x
  ``concurrency`` stays below the user's 52);
- after a 429 every caller waits until its ``Retry-After`` has passed, instead of trying;
- when ``x-ms-ratelimit-burst-remaining-xrm-requests`` or
  ``x-ms-ratelimit-time-remaining-xrm-requests`` reports the window spent, one request at a
  time goes ahead (the one that learns the ``Retry-After``) until an answer says otherwise.

The headers reflect the user's state on the server, wherever the user's other requests came
from (other instances, other jobs), so the budget follows them rather than counting itself.

A caller that would have to wait past its own deadline is not made to wait:
:meth:`ThrottleBudget.slot` raises :class:`WaitTooLong` with the seconds Dataverse asked for,
so a queued message can be put back for later instead of holding a worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

BURST_REMAINING_HEADER = "x-ms-ratelimit-burst-remaining-xrm-requests"
TIME_REMAINING_HEADER = "x-ms-ratelimit-time-remaining-xrm-requests"

Clock = Callable[[], float]


class WaitTooLong(Exception):
    """Dataverse asked for a pause longer than the caller may wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Dataverse asked to wait {seconds:.0f} s")
        self.seconds = seconds


class ThrottleBudget:
    """Admission of requests for one Dataverse user (thread-safe)."""

    def __init__(self, concurrency: int, clock: Clock = time.monotonic) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self._clock = clock
        self._cond = threading.Condition()
        self._in_flight = 0
        self._resume_at = 0.0
        self._spent = False

    def now(self) -> float:
        """The budget's clock (deadlines given to :meth:`slot` are on it)."""
        return self._clock()

    @property
    def pause_seconds(self) -> float:
        """How long Dataverse still wants the user to wait (0 when it may go on)."""
        with self._cond:
            return max(0.0, self._resume_at - self._clock())

    @contextmanager
    def slot(self, deadline: float) -> Iterator[None]:
        """Hold one of the user's request slots for the block; wait for it until ``deadline``
        (a :func:`time.monotonic`-like value of this budget's clock)."""
        with self._cond:
            while True:
                now = self._clock()
                pause = self._resume_at - now
                if pause > 0:
                    if now + pause > deadline:
                        raise WaitTooLong(pause)
                    self._cond.wait(pause)
                    continue
                limit = 1 if self._spent else self.concurrency
                if self._in_flight < limit:
                    break
                if now >= deadline:
                    raise WaitTooLong(max(pause, 1.0))
                self._cond.wait(deadline - now)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def throttled(self, retry_after: float) -> None:
        """A 429 asked for ``retry_after`` seconds: everyone waits that long."""
        with self._cond:
            self._resume_at = max(self._resume_at, self._clock() + max(retry_after, 0.0))
            self._spent = True
            self._cond.notify_all()

    def answered(self, headers: Mapping[str, str]) -> None:
        """An admitted answer: take in what its rate-limit headers say is left."""
        burst = _number(headers.get(BURST_REMAINING_HEADER))
        seconds = _number(headers.get(TIME_REMAINING_HEADER))
        if burst is None and seconds is None:
            return
        spent = (burst is not None and burst <= 0) or (seconds is not None and seconds <= 0)
        with self._cond:
            if spent != self._spent:
                self._spent = spent
                self._cond.notify_all()


_budgets: dict[tuple[str, str], ThrottleBudget] = {}
_budgets_lock = threading.Lock()


def shared_budget(environment: str, user: str, concurrency: int) -> ThrottleBudget:
    """The process's budget for ``user`` on ``environment`` (created on first use).

    Clients for the same user share it, so a timer job and the queue trigger running side by
    side draw on one budget, as Dataverse counts them.
    """
    key = (environment.rstrip("/").lower(), user.lower())
    with _budgets_lock:
        budget = _budgets.get(key)
        if budget is None or budget.concurrency != concurrency:
            budget = _budgets[key] = ThrottleBudget(concurrency)
        return budget


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None

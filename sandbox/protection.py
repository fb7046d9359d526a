"""Service protection limits, injected latency and injected faults for the sandbox's Web API.

:class:`Protection` wraps the Web API (outermost, before authentication) and, per request:

1. sleeps ``latency_ms``;
2. with probability ``fault_rate`` answers one of ``fault_kinds`` instead of the Web API
   (:class:`FaultInjector`): ``"429"``, ``"503"`` or ``"drop"`` (the TCP connection is closed
   with no response at all);
3. applies Dataverse's service-protection limits per user (:class:`UsageLimiter`): too many
   requests (``0x80072322``) or too much combined execution time (``0x80072321``) in the
   sliding window are refused once exceeded, until the window allows again; too many
   concurrent requests (``0x80072326``) are refused immediately. Refusals are 429 with an
   integer ``Retry-After``; admitted answers carry ``x-ms-ratelimit-*`` headers.

Everything is changed at run time with :meth:`Protection.configure`; counters of injected
faults and refusals are read with :meth:`Protection.counters`. :meth:`Protection.spend_window`
makes Dataverse refuse every user's requests for a given time (the window spent by work
elsewhere, e.g. a 300 s ``Retry-After``), and :meth:`Protection.advance_clock` lets a test
move the limits' clock forward instead of waiting that long in real time.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jwt
from werkzeug.wrappers import Request, Response

from .config import Limits
from .errors import ODataError
from .http import error_response

if TYPE_CHECKING:
    from .core import Handler, Host

Clock = Callable[[], float]
Answer = Callable[[], Response]

REQUESTS_EXCEEDED = "0x80072322"
EXECUTION_TIME_EXCEEDED = "0x80072321"
CONCURRENCY_EXCEEDED = "0x80072326"
DROP = "drop"
BURST_REMAINING_HEADER = "x-ms-ratelimit-burst-remaining-xrm-requests"
TIME_REMAINING_HEADER = "x-ms-ratelimit-time-remaining-xrm-requests"


# ------------------------------------------------------------------ fault injection


def _plain(status: int, headers: dict[str, str] | None = None) -> Answer:
    def answer() -> Response:
        response = Response(f"{status}\n", status=status, content_type="text/plain")
        response.headers.extend(headers or {})
        return response

    return answer


GENERIC_ANSWERS: Mapping[str, Answer] = {
    "429": _plain(429, {"Retry-After": "1"}),
    "503": _plain(503),
}


class FaultInjector:
    """Decides, at random, to answer a request with a fault instead of the real response.

    ``kinds`` may hold ``"drop"`` (close the connection without answering) and any kind named
    in ``answers``; the default answers are bare ``429`` (``Retry-After: 1``) and ``503``, and an
    emulator passes its own (Dataverse's envelope, a registry's error format). A ``seed`` makes
    the sequence of decisions reproducible.
    """

    def __init__(
        self,
        rate: float,
        kinds: Sequence[str],
        seed: int | None = None,
        *,
        answers: Mapping[str, Answer] = GENERIC_ANSWERS,
    ) -> None:
        self._answers = dict(answers)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._injected: Counter[str] = Counter()
        self.rate = 0.0
        self.kinds: tuple[str, ...] = ()
        self.configure(rate, kinds)

    def configure(self, rate: float, kinds: Sequence[str]) -> None:
        """Change the probability and the kinds of fault."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {rate}")
        unknown = [k for k in kinds if k != DROP and k not in self._answers]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; use {[DROP, *self._answers]}")
        if rate > 0 and not kinds:
            raise ValueError("a fault rate above 0 needs at least one fault kind")
        with self._lock:
            self.rate = rate
            self.kinds = tuple(kinds)

    @property
    def injected(self) -> dict[str, int]:
        """How many faults of each kind were injected so far."""
        with self._lock:
            return dict(self._injected)

    def maybe_fault(self, request: Request) -> Response | None:
        """The fault to answer ``request`` with, or None to serve it normally."""
        kind = self._draw()
        if kind is None:
            return None
        if kind == DROP:
            return _drop_connection(request)
        return self._answers[kind]()

    def _draw(self) -> str | None:
        with self._lock:
            if self.rate <= 0 or self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self._injected[kind] += 1
            return kind


def _drop_connection(request: Request) -> Response:
    """Shut the client's connection down so it sees no response at all.

    The server still writes the returned response, which then fails with a broken pipe that
    werkzeug treats as a client disconnect (no traceback). Without a socket (a WSGI test
    client) there is nothing to drop, so the caller gets a 503 instead.
    """
    sock: socket.socket | None = request.environ.get("werkzeug.socket")
    if sock is None:
        return _plain(503)()
    # An OSError means the client already went away, which is the outcome wanted anyway.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return Response(status=503)


# ------------------------------------------------------------ limits (pure logic)


@dataclass(frozen=True)
class Throttle:
    """A refusal under the service-protection limits."""

    code: str
    message: str
    retry_after: int

    def error(self) -> ODataError:
        """The 429 answer, in Dataverse's envelope."""
        return ODataError(429, self.code, self.message, {"Retry-After": str(self.retry_after)})


def requests_exceeded(limits: Limits, retry_after: int) -> Throttle:
    """Too many requests by one user in the window."""
    return Throttle(
        REQUESTS_EXCEEDED,
        f"Number of requests exceeded the limit of {limits.requests} over time window of "
        f"{limits.window_seconds:g} seconds.",
        retry_after,
    )


def execution_time_exceeded(limits: Limits, retry_after: int) -> Throttle:
    """Too much combined execution time for one user in the window."""
    return Throttle(
        EXECUTION_TIME_EXCEEDED,
        f"Combined execution time of incoming requests exceeded limit of "
        f"{limits.execution_ms:,} milliseconds over time window of {limits.window_seconds:g} "
        "seconds. Decrease number of concurrent requests or reduce the duration of requests "
        "and try again later.",
        retry_after,
    )


def concurrency_exceeded(limits: Limits) -> Throttle:
    """Too many requests by one user at the same time."""
    return Throttle(
        CONCURRENCY_EXCEEDED,
        f"Number of concurrent requests exceeded the limit of {limits.concurrency}.",
        1,
    )


@dataclass(frozen=True)
class Remaining:
    """What is left in the window after a request (the informational headers)."""

    requests: int
    execution_ms: float


@dataclass
class _Usage:
    admitted: deque[float] = field(default_factory=deque)
    executions: deque[tuple[float, float]] = field(default_factory=deque)
    execution_ms: float = 0.0
    in_flight: int = 0
    spent_until: float = 0.0


class UsageLimiter:
    """Dataverse's per-user service-protection accounting over a sliding window.

    Pure bookkeeping with an injected clock: :meth:`admit` before serving a request (a
    :class:`Throttle` means refuse it), :meth:`finish` after it, with its execution time.
    """

    def __init__(self, limits: Limits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._users: dict[str, _Usage] = {}
        self._spent_until = 0.0

    def admit(self, user: str) -> Throttle | None:
        """Count a request by ``user`` as started, or say why it is refused."""
        with self._lock:
            now = self._clock()
            usage = self._users.setdefault(user, _Usage())
            self._expire(usage, now)
            throttle = self._check(usage, now)
            if throttle is None:
                usage.admitted.append(now)
                usage.in_flight += 1
            return throttle

    def spend(self, seconds: float) -> None:
        """Every user's request budget is used up for ``seconds`` from now, as if requests
        sent elsewhere had spent it: requests are refused with a ``Retry-After`` counting
        down to that moment."""
        with self._lock:
            self._spent_until = self._clock() + seconds

    def finish(self, user: str, execution_ms: float) -> Remaining:
        """Record the end of an admitted request and what it cost."""
        with self._lock:
            now = self._clock()
            usage = self._users[user]
            usage.in_flight -= 1
            usage.executions.append((now, execution_ms))
            usage.execution_ms += execution_ms
            self._expire(usage, now)
            if now < self._spent_until:
                return Remaining(0, max(self.limits.execution_ms - usage.execution_ms, 0.0))
            return Remaining(
                max(self.limits.requests - len(usage.admitted), 0),
                max(self.limits.execution_ms - usage.execution_ms, 0.0),
            )

    def _check(self, usage: _Usage, now: float) -> Throttle | None:
        limits = self.limits
        if now < self._spent_until:
            return requests_exceeded(limits, self._seconds_until(self._spent_until, now))
        if len(usage.admitted) >= limits.requests:
            # Allowed again once the oldest counted request leaves the window.
            moment = usage.admitted[0] + limits.window_seconds
            return requests_exceeded(limits, self._seconds_until(moment, now))
        if usage.execution_ms > limits.execution_ms:
            moment = self._execution_allowed_at(usage)
            return execution_time_exceeded(limits, self._seconds_until(moment, now))
        if usage.in_flight >= limits.concurrency:
            return concurrency_exceeded(limits)
        return None

    def _execution_allowed_at(self, usage: _Usage) -> float:
        """When enough execution time has left the window to be back within the limit."""
        total = usage.execution_ms
        for finished, cost in usage.executions:
            total -= cost
            if total <= self.limits.execution_ms:
                return finished + self.limits.window_seconds
        return usage.executions[-1][0] + self.limits.window_seconds

    def _expire(self, usage: _Usage, now: float) -> None:
        horizon = now - self.limits.window_seconds
        while usage.admitted and usage.admitted[0] <= horizon:
            usage.admitted.popleft()
        while usage.executions and usage.executions[0][0] <= horizon:
            usage.execution_ms -= usage.executions.popleft()[1]

    @staticmethod
    def _seconds_until(moment: float, now: float) -> int:
        return max(1, math.ceil(moment - now))


# --------------------------------------------------------------- the middleware


@dataclass(frozen=True)
class Counters:
    """What the protection layer did so far."""

    faults: dict[str, int]
    throttled: dict[str, int]


class Protection:
    """Latency, faults and service-protection limits in front of the sandbox's Web API."""

    def __init__(self, sandbox: Host) -> None:
        config = sandbox.config
        self.latency_ms: float = config.latency_ms
        self._offset = 0.0
        self.limiter = UsageLimiter(config.limits, clock=lambda: time.monotonic() + self._offset)
        self.faults = FaultInjector(
            config.fault_rate, config.fault_kinds, config.fault_seed,
            answers=self._dataverse_answers(),
        )
        self._throttled: Counter[str] = Counter()
        self._lock = threading.Lock()
        sandbox.add_api_middleware(self._protect)

    def configure(
        self,
        *,
        latency_ms: float | None = None,
        fault_rate: float | None = None,
        fault_kinds: Sequence[str] | None = None,
        limits: Limits | None = None,
    ) -> None:
        """Change latency, faults or limits while the sandbox runs (None keeps a setting)."""
        if latency_ms is not None:
            self.latency_ms = latency_ms
        if fault_rate is not None or fault_kinds is not None:
            self.faults.configure(
                self.faults.rate if fault_rate is None else fault_rate,
                self.faults.kinds if fault_kinds is None else fault_kinds,
            )
        if limits is not None:
            self.limiter.limits = limits

    def spend_window(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (``Retry-After`` up to that), as Dataverse
        does once a user's requests elsewhere have spent the window."""
        if seconds <= 0:
            raise ValueError("the time must be positive")
        self.limiter.spend(seconds)

    def advance_clock(self, seconds: float) -> None:
        """Move the limits' clock ``seconds`` forward (tests skip a long ``Retry-After``)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds

    def counters(self) -> Counters:
        """Faults injected by kind and requests refused by Dataverse error code."""
        with self._lock:
            throttled = dict(self._throttled)
        return Counters(self.faults.injected, throttled)

    def _protect(self, request: Request, nxt: Handler) -> Response:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        fault = self.faults.maybe_fault(request)
        if fault is not None:
            return fault
        user = _user_key(request.headers.get("Authorization", ""))
        throttle = self.limiter.admit(user)
        if throttle is not None:
            with self._lock:
                self._throttled[throttle.code] += 1
            raise throttle.error()
        started = time.perf_counter()
        try:
            response = nxt(request)
        finally:
            remaining = self.limiter.finish(user, (time.perf_counter() - started) * 1000)
        response.headers[BURST_REMAINING_HEADER] = str(remaining.requests)
        response.headers[TIME_REMAINING_HEADER] = f"{remaining.execution_ms / 1000:,.2f}"
        return response

    def _dataverse_answers(self) -> dict[str, Answer]:
        def too_many_requests() -> Response:
            return error_response(requests_exceeded(self.limiter.limits, 1).error())

        def unavailable() -> Response:
            return error_response(
                ODataError(503, "", "The service is temporarily unavailable. Try again later.")
            )

        return {"429": too_many_requests, "503": unavailable}


@functools.lru_cache(maxsize=256)
def _user_key(authorization: str) -> str:
    """Whom a request counts against: the token's application and object id, if readable.

    Signature and expiry are the authentication layer's business (it runs after this one);
    an unreadable token counts against the raw header, so garbage cannot dodge the limits.
    """
    _, _, token = authorization.partition(" ")
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return authorization
    return f"{claims.get('appid')}/{claims.get('oid')}"

"""Service-protection limits, injected latency and injected faults, over real HTTP."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig
from sandbox.core import Handler
from sandbox.protection import (
    BURST_REMAINING_HEADER,
    CONCURRENCY_EXCEEDED,
    EXECUTION_TIME_EXCEEDED,
    REQUESTS_EXCEEDED,
    TIME_REMAINING_HEADER,
    FaultInjector,
)

if TYPE_CHECKING:
    from conftest import WebApiSession

HOLD_HEADER = "x-test-hold"


def _assert_throttled(response: requests.Response, code: str) -> None:
    assert response.status_code == 429
    assert response.json()["error"]["code"] == code
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1


def _get_contacts(sandbox: Sandbox) -> requests.Response:
    return requests.get(
        f"{sandbox.base_url}/api/data/v9.2/contacts",
        headers={"Authorization": f"Bearer {sandbox.auth.issue_token()}"},
        verify=sandbox.ca_file or True,
        timeout=10,
    )


# ----------------------------------------------------------------------- latency


def test_latency_is_added_to_every_web_api_request(dv: WebApiSession) -> None:
    dv.sandbox.protection.configure(latency_ms=150)
    started = time.perf_counter()
    assert dv.get("contacts").status_code == 200
    slowed = time.perf_counter() - started

    dv.sandbox.protection.configure(latency_ms=0)
    started = time.perf_counter()
    assert dv.get("contacts").status_code == 200
    normal = time.perf_counter() - started

    assert slowed >= 0.15
    assert normal < 0.15


def test_latency_from_config_applies_from_the_start() -> None:
    with Sandbox(SandboxConfig(latency_ms=100)) as sandbox:
        started = time.perf_counter()
        response = _get_contacts(sandbox)
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.1


# ------------------------------------------------------------------------ faults


def test_injected_429_is_dataverse_s_throttling_answer(dv: WebApiSession) -> None:
    dv.sandbox.protection.configure(fault_rate=1.0, fault_kinds=["429"])

    response = dv.get("contacts")

    _assert_throttled(response, REQUESTS_EXCEEDED)
    assert response.headers["Retry-After"] == "1"
    assert dv.sandbox.protection.counters().faults == {"429": 1}


def test_injected_503_uses_dataverse_s_envelope(dv: WebApiSession) -> None:
    dv.sandbox.protection.configure(fault_rate=1.0, fault_kinds=["503"])

    response = dv.get("contacts")

    assert response.status_code == 503
    assert set(response.json()["error"]) == {"code", "message"}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_dropped_connection_is_a_connection_error_and_the_server_survives(
    scheme: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    config = SandboxConfig(https=scheme == "https", state_dir=str(tmp_path))
    with Sandbox(config) as sandbox, caplog.at_level(logging.DEBUG):
        sandbox.protection.configure(fault_rate=1.0, fault_kinds=["drop"])
        with pytest.raises(requests.exceptions.ConnectionError):
            _get_contacts(sandbox)

        sandbox.protection.configure(fault_rate=0.0)
        assert _get_contacts(sandbox).status_code == 200
        assert sandbox.protection.counters().faults == {"drop": 1}

    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in capfd.readouterr().err


def test_seeded_faults_repeat_the_same_sequence() -> None:
    request = Request(EnvironBuilder(path="/api/data/v9.2/contacts").get_environ())

    def statuses(seed: int) -> list[int | None]:
        injector = FaultInjector(0.5, ["429", "503"], seed=seed)
        return [getattr(injector.maybe_fault(request), "status_code", None) for _ in range(40)]

    first = statuses(7)

    assert first == statuses(7)
    assert {429, 503, None} == set(first)


def test_fault_injector_is_usable_outside_the_web_api() -> None:
    request = Request(EnvironBuilder(path="/navet").get_environ())
    answers = {"soap-fault": lambda: Response("<Fault/>", status=500)}
    injector = FaultInjector(1.0, ["soap-fault", "drop"], seed=1, answers=answers)

    statuses = {injector.maybe_fault(request).status_code for _ in range(20)}  # type: ignore[union-attr]

    # Without a socket to drop (a WSGI test client) the drop degrades to a 503.
    assert statuses == {500, 503}
    assert sum(injector.injected.values()) == 20
    assert FaultInjector(0.0, ["429"]).maybe_fault(request) is None


def test_unknown_fault_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultInjector(0.5, ["500"])
    with pytest.raises(ValueError, match="within"):
        FaultInjector(1.5, ["429"])


# ------------------------------------------------------------- service protection


def test_request_limit_throttles_then_recovers_after_the_window(dv: WebApiSession) -> None:
    protection = dv.sandbox.protection
    protection.configure(limits=Limits(requests=3, window_seconds=0.4))

    statuses = [dv.get("contacts").status_code for _ in range(3)]
    throttled = dv.get("contacts")

    assert statuses == [200, 200, 200]
    _assert_throttled(throttled, REQUESTS_EXCEEDED)
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json()["error"]["message"] == (
        "Number of requests exceeded the limit of 3 over time window of 0.4 seconds."
    )
    time.sleep(0.45)
    assert dv.get("contacts").status_code == 200
    assert protection.counters().throttled == {REQUESTS_EXCEEDED: 1}


def test_execution_time_limit_throttles_once_exceeded(dv: WebApiSession) -> None:
    dv.sandbox.protection.configure(limits=Limits(execution_ms=0, window_seconds=0.3))

    first = dv.get("contacts")
    second = dv.get("contacts")

    assert first.status_code == 200
    _assert_throttled(second, EXECUTION_TIME_EXCEEDED)
    assert "exceeded limit of 0 milliseconds" in second.json()["error"]["message"]
    time.sleep(0.35)
    assert dv.get("contacts").status_code == 200


@pytest.fixture
def holding(sandbox: Sandbox) -> Iterator[threading.Event]:
    """Web API requests carrying ``x-test-hold`` wait inside the server until released."""
    release = threading.Event()
    entered = threading.Event()

    def hold(request: Request, nxt: Handler) -> Response:
        if HOLD_HEADER in request.headers:
            entered.set()
            release.wait(10)
        return nxt(request)

    sandbox.add_api_middleware(hold)
    release.entered = entered  # type: ignore[attr-defined]
    try:
        yield release
    finally:
        release.set()


def test_concurrency_limit_refuses_immediately(
    dv: WebApiSession, holding: threading.Event
) -> None:
    dv.sandbox.protection.configure(limits=Limits(concurrency=1))
    slow: list[requests.Response] = []
    worker = threading.Thread(
        target=lambda: slow.append(dv.get("contacts", headers={HOLD_HEADER: "1"}))
    )
    worker.start()
    assert holding.entered.wait(5)  # type: ignore[attr-defined]

    refused = requests.get(dv.url("contacts"), headers=dict(dv.http.headers), timeout=10)
    holding.set()
    worker.join(10)

    _assert_throttled(refused, CONCURRENCY_EXCEEDED)
    assert refused.json()["error"]["message"] == (
        "Number of concurrent requests exceeded the limit of 1."
    )
    assert slow[0].status_code == 200
    assert dv.get("contacts").status_code == 200


def test_limits_are_per_user(dv: WebApiSession) -> None:
    dv.sandbox.protection.configure(limits=Limits(requests=1, window_seconds=30))
    assert dv.get("contacts").status_code == 200
    _assert_throttled(dv.get("contacts"), REQUESTS_EXCEEDED)

    other = dv.sandbox.auth.issue_token(client_id="00000000-0000-4000-8000-00000000beef")
    response = requests.get(
        dv.url("contacts"), headers={"Authorization": f"Bearer {other}"}, timeout=10
    )

    # Another identity is not throttled; it then fails authorisation on its own merits.
    assert response.status_code == 403


def test_admitted_responses_report_the_remaining_budget(dv: WebApiSession) -> None:
    dv.sandbox.protection.configure(
        limits=Limits(requests=100, execution_ms=60_000, window_seconds=30)
    )

    first = dv.get("contacts")
    second = dv.get("contacts")

    assert first.headers[BURST_REMAINING_HEADER] == "99"
    assert second.headers[BURST_REMAINING_HEADER] == "98"
    seconds_left = second.headers[TIME_REMAINING_HEADER]
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d", seconds_left)
    assert 59.0 < float(seconds_left.replace(",", "")) <= 60.0


def test_a_spent_window_refuses_with_a_long_retry_after_until_the_clock_passes_it(
    dv: WebApiSession,
) -> None:
    protection = dv.sandbox.protection
    protection.spend_window(300)

    refused = dv.get("contacts")
    protection.advance_clock(120)
    later = dv.get("contacts")
    protection.advance_clock(181)

    _assert_throttled(refused, REQUESTS_EXCEEDED)
    assert refused.headers["Retry-After"] == "300"
    assert later.headers["Retry-After"] == "180"
    assert dv.get("contacts").status_code == 200

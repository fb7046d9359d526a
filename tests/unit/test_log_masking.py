"""Log masking, log context, configure_logging, telemetry switch and the counters."""

from __future__ import annotations

import io
import logging
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from plugins.core import logging as product_logging
from plugins.core.logging import (
    CONSOLE_FORMAT,
    ContextFilter,
    MaskingFilter,
    configure_logging,
    current_log_context,
    install_filters,
    log_context,
    mask_personal_data,
    update_log_context,
)
from plugins.core.metrics import (
    DECISIONS,
    RETRIES,
    THROTTLED,
    Counters,
    count_decision,
    count_retry,
    count_throttled,
    counters,
)
from plugins.identity import mask_email, mask_national_id, parse_national_id

TODAY = date(2026, 11, 22)
# Valid numbers of every country, in the forms people type them.
NATIONAL_IDS = [
    ("SE", "198112189876"),
    ("SE", "19811218-9876"),
    ("SE", "811218-9876"),
    ("SE", "8112189876"),
    ("SE", "121212+1212"),
    ("NO", "01010750160"),
    ("NO", "010107 50160"),
    ("FI", "131052-308T"),
    ("FI", "010594Y123W"),
    ("FI", "150301A4562"),
    ("DK", "070761-4285"),
    ("DK", "0707614285"),
]
EMAILS = ["anna.svensson@example.se", "Ola.Nordmann+alumni@uni.no", "jörg@exämple.fi"]


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose only handler formats with the product's filters into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    install_filters(handler)
    logger = logging.getLogger("tests.masking")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.DEBUG
    try:
        yield logger, buffer
    finally:
        logger.handlers, logger.propagate = [], True


@contextmanager
def bare_root() -> Iterator[logging.Logger]:
    """The root logger without handlers (pytest's are added per phase, so this runs inside
    the test); everything configure_logging touches is restored."""
    root = logging.getLogger()
    names = ["urllib3", *product_logging.URL_LOGGERS]
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in names})
    root.handlers = []
    try:
        yield root
    finally:
        root.handlers, root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def test_the_fixtures_are_valid_identity_numbers() -> None:
    for country, number in NATIONAL_IDS:
        assert parse_national_id(number, country, today=TODAY).valid, number


@pytest.mark.parametrize(("country", "number"), NATIONAL_IDS)
def test_identity_numbers_are_masked_in_messages_and_args(
    capture: tuple[logging.Logger, io.StringIO], country: str, number: str
) -> None:
    logger, buffer = capture
    logger.info(f"matched person {number} by national id")
    logger.info("matched person %s (%s)", number, country)
    logger.info("key %(key)s", {"key": f"mp_nationalid='{number}'"})
    logger.info("url contacts(mp_nationalid=%%27%s%%27)", number)
    text = buffer.getvalue()
    assert number not in text
    assert text.count(mask_national_id(number)) == 4


@pytest.mark.parametrize("email", EMAILS)
def test_emails_are_masked_in_messages_and_args(
    capture: tuple[logging.Logger, io.StringIO], email: str
) -> None:
    logger, buffer = capture
    logger.warning("no contact with %s", email)
    logger.warning(f"no contact with <{email}>")
    logger.warning("filter emailaddress1 eq '%s'", email.replace("@", "%40"))
    text = buffer.getvalue()
    assert email not in text and email.replace("@", "%40") not in text
    assert text.count(mask_email(email)) == 2


def test_exceptions_are_masked_once(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = capture
    number, email = "19811218-9876", "anna.svensson@example.se"
    try:
        try:
            raise KeyError(email)
        except KeyError as exc:
            raise ValueError(f"no registry entry for {number}") from exc
    except ValueError:
        logger.exception("lookup failed")
    text = buffer.getvalue()
    assert number not in text and email not in text
    assert text.count("Traceback (most recent call last)") == 2
    assert f"ValueError: no registry entry for {mask_national_id(number)}" in text
    assert f"KeyError: '{mask_email(email)}'" in text


def test_exceptions_without_personal_data_keep_their_object() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise RuntimeError("timeout after 30 s")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    MaskingFilter().filter(record)
    assert record.exc_info is not None and record.msg == "failed"


def test_stack_info_is_masked() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.stack_info = "Stack (most recent call last):\n  lookup('0707614285')"
    MaskingFilter().filter(record)
    assert record.stack_info.endswith("lookup('********85')")


def test_what_is_not_personal_data_is_left_alone() -> None:
    text = (
        "row 8f14e45f-ceea-467a-9af6-123456789012 etag W/\"1000123\" at 2026-11-22T08:42:57Z "
        "port 7071 took 1234 ms; 3 of 52 requests; correlation 12345678-1234-1234-1234-123456789012"
    )
    assert mask_personal_data(text) == text


def test_a_broken_format_string_does_not_lose_the_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("anna@x.se",), None)
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "%d items ('a***@***.se',)"


# ------------------------------------------------------------------- context


def test_log_context_goes_into_records_and_lines(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = capture
    records: list[logging.LogRecord] = []
    logger.handlers[0].addFilter(lambda record: records.append(record) or True)
    with log_context(correlation_id="c-1", operation_id="op-7"):
        with log_context(registration_id="r-42"):
            update_log_context(outcome="ApprovedAlumnus")
            logger.info("decided")
        logger.info("after", extra={"outcome": "retried"})
    logger.info("outside")
    decided, after, outside = buffer.getvalue().splitlines()
    assert decided.endswith(
        "decided [correlation_id=c-1 operation_id=op-7 registration_id=r-42 "
        "outcome=ApprovedAlumnus]"
    )
    assert after.endswith("after [correlation_id=c-1 operation_id=op-7 outcome=retried]")
    assert outside.endswith("outside")
    assert (records[0].registration_id, records[0].outcome) == ("r-42", "ApprovedAlumnus")
    assert records[2].correlation_id is None
    assert current_log_context() == {}


def test_log_context_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown log context fields"), log_context(email="x"):
        pass


# --------------------------------------------------------- configure_logging


def test_configure_logging_adds_a_masked_stderr_handler_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with bare_root() as root:
        configure_logging(logging.DEBUG)
        configure_logging(logging.DEBUG)
        [handler] = root.handlers
        filters = sorted(type(f).__name__ for f in handler.filters)
        assert filters == ["ContextFilter", "MaskingFilter"]
        assert logging.getLogger("urllib3").level == logging.INFO
        with log_context(operation_id="op-1"):
            logging.getLogger("plugins.test").info("saw %s", "anna@example.se")
    err = capsys.readouterr().err
    assert "INFO plugins.test: saw a***@***.se [operation_id=op-1]" in err
    assert "anna@example.se" not in err


def test_configure_logging_keeps_the_hosts_handler() -> None:
    buffer = io.StringIO()
    host = logging.StreamHandler(buffer)
    with bare_root() as root:
        root.addHandler(host)
        configure_logging("WARNING")
        assert root.handlers == [host]
        assert {type(f) for f in host.filters} == {ContextFilter, MaskingFilter}
        logging.getLogger("plugins.test").warning("id 811218-9876")
    assert buffer.getvalue() == "id *********76\n"


def test_missing_telemetry_package_is_one_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=k")
    monkeypatch.setitem(sys.modules, "azure.monitor.opentelemetry", None)
    monkeypatch.setattr(product_logging, "_telemetry_configured", False)
    with bare_root():
        configure_logging(logging.INFO)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "WARNING" in lines[0] and "telemetry export is off" in lines[0]


def test_telemetry_is_configured_lazily_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monitor = types.ModuleType("azure.monitor.opentelemetry")
    monitor.configure_azure_monitor = lambda **kwargs: calls.append(kwargs)  # type: ignore[attr-defined]
    meter = FakeMeter()
    otel = types.ModuleType("opentelemetry")
    otel_metrics = types.ModuleType("opentelemetry.metrics")
    otel_metrics.get_meter = lambda name: meter  # type: ignore[attr-defined]
    otel.metrics = otel_metrics  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.monitor.opentelemetry", monitor)
    monkeypatch.setitem(sys.modules, "opentelemetry", otel)
    monkeypatch.setitem(sys.modules, "opentelemetry.metrics", otel_metrics)
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=k")
    monkeypatch.setattr(product_logging, "_telemetry_configured", False)
    monkeypatch.setattr(counters, "_meter", None)
    try:
        with bare_root():
            configure_logging()
            configure_logging()
        assert calls == [{"connection_string": "InstrumentationKey=k"}]
        count_decision("Denied")
        assert meter.added == [(DECISIONS, 1, {"status": "Denied"})]
    finally:
        counters.export_to(None)


# ------------------------------------------------------------------- metrics


class FakeMeter:
    """Records what OpenTelemetry counters would be given."""

    def __init__(self) -> None:
        self.added: list[tuple[str, int, dict[str, str]]] = []

    def create_counter(self, name: str) -> Any:
        meter = self

        class Instrument:
            def add(self, amount: int, attributes: dict[str, str]) -> None:
                meter.added.append((name, amount, attributes))

        return Instrument()


def test_counters_by_label() -> None:
    local = Counters()
    local.add(DECISIONS, status="Denied")
    local.add(DECISIONS, 2, status="Denied")
    local.add(RETRIES, target="dataverse", reason="429")
    assert local.value(DECISIONS, status="Denied") == 3
    assert local.value(DECISIONS, status="ApprovedAlumnus") == 0
    assert local.snapshot() == {
        "member_plugins.decisions{status=Denied}": 3,
        "member_plugins.retries{reason=429,target=dataverse}": 1,
    }
    local.reset()
    assert local.snapshot() == {}


def test_module_helpers_count_into_the_process_counters() -> None:
    before = counters.value(THROTTLED, target="dataverse")
    count_throttled("dataverse")
    count_retry("ladok", "503")
    assert counters.value(THROTTLED, target="dataverse") == before + 1
    assert counters.value(RETRIES, target="ladok", reason="503") >= 1

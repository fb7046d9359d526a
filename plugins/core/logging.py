"""Logging for the Functions process and the CLI: masked, with run context, optionally
exported to Application Insights.

:func:`configure_logging` installs two filters on every handler of the root logger (the
Functions worker's, the console's, OpenTelemetry's):

- :class:`MaskingFilter`, a safety net behind the rule "log personal data only through
  ``plugins.identity``'s masking helpers": whatever looks like an identity number (Swedish
  10/12 digits, Norwegian 11, Finnish HETU, Danish CPR, with or without separator) or an
  e-mail address is masked in the final message, its arguments and any exception text. It
  errs on the side of masking: a 10-digit phone number is masked too.
- :class:`ContextFilter`, which adds the values of :func:`log_context` (correlation id,
  operation id, registration id, outcome) to every record as attributes and as a
  `` [name=value ...]`` suffix (``%(log_context)s``) for formatters.

With ``APPLICATIONINSIGHTS_CONNECTION_STRING`` set, ``azure-monitor-opentelemetry`` (an
optional dependency, imported only then) exports logs, requests and dependency calls, and
:mod:`plugins.core.metrics` counts become custom metrics.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TextIO

from .lazy import LazyModule
from .metrics import counters

# The identity package loads its pydantic models and number validators; the first record
# that needs masking pays for them, not the start of every process that logs.
identity = LazyModule("plugins.identity")

CONTEXT_FIELDS = ("correlation_id", "operation_id", "registration_id", "outcome")
CONNECTION_STRING_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(log_context)s"
# Loggers whose DEBUG/INFO lines carry full URLs, and URLs can carry identity numbers.
URL_LOGGERS = {
    "urllib3": logging.INFO,
    "azure.core.pipeline.policies.http_logging_policy": logging.WARNING,
}

_NATIONAL_ID = re.compile(
    r"(?:(?<![\w-])|(?<=%[0-9A-Fa-f]{2}))(?:"
    r"\d{8}[-+]?\d{4}"  # Swedish, with the century
    r"|\d{6}[-+]?\d{4}"  # Swedish without the century; Danish CPR
    r"|\d{6} ?\d{5}"  # Norwegian fødselsnummer / D-number
    r"|\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-FHJ-NPR-Ya-fhj-npr-y]"  # Finnish HETU
    r")(?![\w-])"
)
_EMAIL = re.compile(r"(?<![\w.!#$&*+^`{|}~-])[\w.!#$&*+^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "member_plugins_log_context", default=MappingProxyType({})
)
_telemetry_configured = False


def mask_personal_data(text: str) -> str:
    """``text`` with identity numbers and e-mail addresses masked."""
    text = _EMAIL.sub(lambda match: identity.mask_email(match.group()), text)
    return _NATIONAL_ID.sub(lambda match: identity.mask_national_id(match.group()), text)


@contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    """Add these values to every record logged in the block (None leaves a value as is)."""
    token = _context.set(_merged(values))
    try:
        yield
    finally:
        _context.reset(token)


def update_log_context(**values: str | None) -> None:
    """Set values for the rest of the enclosing :func:`log_context` (e.g. the outcome).

    Outside any :func:`log_context` they stay for the rest of the current context (thread,
    task), so call it only inside one.
    """
    _context.set(_merged(values))


def current_log_context() -> dict[str, str]:
    """The values records get now."""
    return dict(_context.get())


def _merged(values: Mapping[str, str | None]) -> Mapping[str, str]:
    unknown = sorted(set(values) - set(CONTEXT_FIELDS))
    if unknown:
        raise ValueError(f"unknown log context fields {unknown}; use {list(CONTEXT_FIELDS)}")
    merged = dict(_context.get())
    merged.update({name: str(value) for name, value in values.items() if value is not None})
    return MappingProxyType(merged)


class MaskingFilter(logging.Filter):
    """Masks identity numbers and e-mail addresses in the record (message, args, exception).

    The message is rendered with its arguments, masked, and stored without arguments, so
    every handler after this one sees only the masked text. An exception whose traceback
    needed masking is folded into the message as masked text (its live object is dropped:
    a handler would otherwise render the unmasked one).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A bad format string: keep what there is rather than lose the record.
            message = f"{record.msg} {record.args}"
        record.msg, record.args = mask_personal_data(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
            masked = mask_personal_data(text.rstrip("\n"))
            if masked != text.rstrip("\n"):
                record.msg = f"{record.msg}\n{masked}"
                record.exc_info, record.exc_text = None, None
        elif record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Adds the :func:`log_context` values to the record (never overriding ``extra``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``correlation_id`` ... ``outcome`` and the ``log_context`` suffix."""
        values = _context.get()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, values.get(name))
        shown = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS
                 if getattr(record, name) is not None]
        record.log_context = f" [{' '.join(shown)}]" if shown else ""
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests and tools swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """The stream is always the current ``sys.stderr``."""


def configure_logging(level: int | str = logging.INFO) -> None:
    """Set up logging for this process; safe to call again.

    Without handlers on the root logger (the CLI), one is added that writes to the current
    ``sys.stderr``; in the Functions worker its own handler is kept. Every root handler gets
    the masking and context filters, and a handler without a formatter gets
    ``%(message)s%(log_context)s``.
    """
    root = logging.getLogger()
    root.setLevel(level)
    numeric = root.getEffectiveLevel()
    for name, floor in URL_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    if not root.handlers:
        console = _StderrHandler()
        console.setFormatter(_formatter(CONSOLE_FORMAT))
        root.addHandler(console)
    for handler in root.handlers:
        install_filters(handler)
    _configure_telemetry()
    # configure_azure_monitor adds its own handler, which needs the filters as much.
    for handler in root.handlers:
        install_filters(handler)


def install_filters(handler: logging.Handler) -> None:
    """Give ``handler`` the masking and context filters (once)."""
    kinds = {type(existing) for existing in handler.filters}
    for kind in (ContextFilter, MaskingFilter):
        if kind not in kinds:
            handler.addFilter(kind())
    if handler.formatter is None:
        handler.setFormatter(_formatter("%(message)s%(log_context)s"))


def _formatter(fmt: str) -> logging.Formatter:
    # The default keeps a record that bypassed ContextFilter (another handler's) formattable.
    return logging.Formatter(fmt, defaults={"log_context": ""})


def _configure_telemetry() -> None:
    """Export to Application Insights when a connection string is set (once per process)."""
    global _telemetry_configured
    connection_string = os.environ.get(CONNECTION_STRING_SETTING)
    if not connection_string or _telemetry_configured:
        return
    log = logging.getLogger(__name__)
    try:
        from azure.monitor.opentelemetry import configure_azure_monitor
        from opentelemetry import metrics as otel_metrics
    except ImportError as exc:
        log.warning(
            "telemetry export is off: %s is set but azure-monitor-opentelemetry cannot be "
            "imported (%s); install it to export to Application Insights",
            CONNECTION_STRING_SETTING, exc,
        )
        return
    configure_azure_monitor(connection_string=connection_string)
    counters.export_to(otel_metrics.get_meter("member-plugins"))
    _telemetry_configured = True
    log.info("telemetry export to Application Insights is on")


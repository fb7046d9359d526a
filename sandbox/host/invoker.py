"""Call a user function the way the Python worker does, and log one line per invocation."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .context import InvocationContext, TraceContext, new_trace_parent
from .loader import CONTEXT_PARAMETER, FunctionEntry

log = logging.getLogger("sandbox.host.invocations")

T = TypeVar("T")


class Invoker:
    """Runs functions of one app: trigger value as the trigger's parameter, plus ``context``.

    Each invocation gets a fresh id and one log line, in the shape the Functions host writes
    (``Executed 'Functions.<name>' (Succeeded, ...)``), with trigger, outcome, duration and
    id; never the payload. A failure is logged with its traceback and raised again, so the
    caller can answer 500, abandon the message or just record a failed timer run.
    """

    def __init__(self, function_directory: Path) -> None:
        self._function_directory = str(function_directory)

    def invoke(
        self,
        entry: FunctionEntry,
        trigger_value: Any,
        convert: Callable[[Any], T],
        trace_parent: str | None = None,
        trace_state: str = "",
    ) -> T:
        """Call ``entry`` and pass its return value through ``convert`` (part of the run)."""
        invocation_id = str(uuid.uuid4())
        arguments: dict[str, Any] = {entry.arg_name: trigger_value}
        if entry.wants_context:
            context = InvocationContext(
                invocation_id, entry.name, self._function_directory,
                TraceContext(trace_parent or new_trace_parent(), trace_state),
            )
            context.thread_local_storage.invocation_id = invocation_id
            arguments[CONTEXT_PARAMETER] = context
        started = time.perf_counter()
        try:
            result = entry.user_function(**arguments)
            if inspect.iscoroutine(result):
                result = asyncio.run(result)
            converted = convert(result)
        except Exception:
            log.error(
                "Executed 'Functions.%s' (Failed, Trigger=%s, Id=%s, Duration=%dms)",
                entry.name, entry.trigger, invocation_id, _elapsed_ms(started), exc_info=True,
            )
            raise
        log.info(
            "Executed 'Functions.%s' (Succeeded, Trigger=%s, Id=%s, Duration=%dms)",
            entry.name, entry.trigger, invocation_id, _elapsed_ms(started),
        )
        return converted


def discard_result(result: object) -> None:
    """For triggers without a ``$return`` binding: the host drops what the function returns."""


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)

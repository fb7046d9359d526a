"""The ``context`` argument the Python worker passes to a function that declares one."""

from __future__ import annotations

import secrets
import threading

import azure.functions as func
from azure.functions import _abc as func_abc

_thread_local = threading.local()


def new_trace_parent() -> str:
    """A fresh W3C ``traceparent`` (version 00, not sampled), as the host makes one."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


class RpcException(func_abc.RpcException):
    """The exception of the previous try; empty because the local host has no retry policy."""

    @property
    def source(self) -> str:
        return ""

    @property
    def stack_trace(self) -> str:
        return ""

    @property
    def message(self) -> str:
        return ""


class TraceContext(func_abc.TraceContext):
    """W3C trace context of one invocation."""

    def __init__(self, trace_parent: str, trace_state: str = "") -> None:
        self._trace_parent = trace_parent
        self._trace_state = trace_state

    @property
    def trace_state(self) -> str:
        return self._trace_state

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class RetryContext(func_abc.RetryContext):
    """First try, no retry policy: the values the host sends when none is configured."""

    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> func_abc.RpcException:
        return RpcException()


class InvocationContext(func.Context):
    """Invocation id, function name and folder, trace and retry context of one call."""

    def __init__(
        self, invocation_id: str, function_name: str, function_directory: str,
        trace_context: TraceContext,
    ) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace_context = trace_context

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> threading.local:  # type: ignore[override]
        return _thread_local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> RetryContext:
        return RetryContext()

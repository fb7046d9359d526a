"""The ``$management`` node of a queue: the request/response operations Service Bus serves.

A request carries ``operation`` in its application properties and its arguments as an AMQP
map body; the answer goes back with ``correlation-id`` = the request's ``message-id`` and
``statusCode`` / ``statusDescription`` (plus ``errorCondition`` on failure) as application
properties, as Service Bus answers.

Served: ``com.microsoft:peek-message`` (browse from a sequence number, locked messages
included; 204 when nothing is left) and ``com.microsoft:update-disposition`` (complete,
abandon or dead-letter by lock token: ``completed`` / ``abandoned`` / ``suspended``).
Everything else (renew-lock, schedule, deferral, sessions, rules) answers 501 with
``amqp:not-implemented``, so the SDK raises at once instead of waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from proton import Message, symbol

from ..servicebus.queue import LockLostError, Queue
from .messages import to_amqp

PEEK = "com.microsoft:peek-message"
UPDATE_DISPOSITION = "com.microsoft:update-disposition"
LOCK_LOST = symbol("com.microsoft:message-lock-lost")
NOT_IMPLEMENTED = symbol("amqp:not-implemented")
BAD_REQUEST = symbol("amqp:invalid-field")

Locks = Mapping[str, tuple[Queue, int]]
"""Lock token -> (queue, sequence number) of every message this peer has handed out."""


class _Failure(Exception):
    """A request answered with an error status."""

    def __init__(self, status: int, condition: symbol, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.condition = condition
        self.description = description


def answer(request: Message, queue: Queue, locks: Locks) -> Message:
    """The response to one management request against ``queue``."""
    operation = str((request.properties or {}).get("operation") or "")
    arguments = request.body if isinstance(request.body, dict) else {}
    try:
        if operation == PEEK:
            status, body = _peek(queue, arguments)
        elif operation == UPDATE_DISPOSITION:
            status, body = _update_disposition(queue, arguments, locks)
        else:
            raise _Failure(
                501,
                NOT_IMPLEMENTED,
                f"'{operation}' is not supported by the sandbox's AMQP peer "
                f"(it serves {PEEK} and {UPDATE_DISPOSITION})",
            )
        properties: dict[str, Any] = {"statusCode": status, "statusDescription": "OK"}
    except _Failure as failure:
        body = None
        properties = {
            "statusCode": failure.status,
            "statusDescription": failure.description,
            "errorCondition": failure.condition,
        }
    response = Message(body=body, correlation_id=request.id)
    response.properties = properties
    return response


def _peek(queue: Queue, arguments: dict[Any, Any]) -> tuple[int, dict[str, Any] | None]:
    start = int(arguments.get("from-sequence-number") or 1)
    count = int(arguments.get("message-count") or 1)
    found = [m for m in queue.peek_all() if m.sequence_number >= start][:count]
    if not found:
        return 204, None
    return 200, {"messages": [{"message": to_amqp(m).encode()} for m in found]}


def _update_disposition(
    queue: Queue, arguments: dict[Any, Any], locks: Locks
) -> tuple[int, dict[str, Any]]:
    status = str(arguments.get("disposition-status") or "")
    tokens = [str(t) for t in _elements(arguments.get("lock-tokens"))]
    if status not in ("completed", "abandoned", "suspended"):
        raise _Failure(
            501, NOT_IMPLEMENTED, f"disposition '{status}' is not supported by the sandbox"
        )
    for token in tokens:
        held = locks.get(token)
        if held is None or held[0] is not queue:
            raise _Failure(410, LOCK_LOST, f"The lock supplied is invalid ({token}).")
        try:
            if status == "completed":
                queue.complete(held[1], token)
            elif status == "abandoned":
                queue.abandon(held[1], token)
            else:
                queue.dead_letter(
                    held[1],
                    token,
                    str(arguments.get("deadletter-reason") or ""),
                    str(arguments.get("deadletter-description") or ""),
                )
        except LockLostError as exc:
            raise _Failure(410, LOCK_LOST, str(exc)) from exc
    return 200, {}


def _elements(value: Any) -> Iterable[Any]:
    """The items of an AMQP list or array (proton decodes arrays as ``proton.Array``)."""
    if value is None:
        return ()
    return getattr(value, "elements", value)

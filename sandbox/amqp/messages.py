"""Brokered messages between the sandbox's queues and AMQP 1.0, as Service Bus encodes them.

Outgoing (queue -> receiver): the body is one data section; ``message-id``,
``correlation-id``, ``content-type`` and ``subject`` are AMQP properties; application
properties travel as they are; the broker state goes into the message annotations Service
Bus uses (``x-opt-sequence-number``, ``x-opt-enqueued-time``, ``x-opt-locked-until``) and the
header's ``delivery-count`` (deliveries before this one, so 0 on the first).

Incoming (sender -> queue): one message, or a batch (what ``send_messages([...])`` sends:
message format ``0x80013700``, an envelope with at most a header and properties, whose data
sections each hold one encoded message). Proton does not expose the transfer's message
format, so a batch is recognised by that shape: no application properties, and every data
section decodes as a whole message with a body.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from proton import Data, Described, Message, symbol, timestamp, ulong

from ..servicebus.queue import Message as QueueMessage

SEQUENCE_NUMBER = symbol("x-opt-sequence-number")
ENQUEUED_TIME = symbol("x-opt-enqueued-time")
LOCKED_UNTIL = symbol("x-opt-locked-until")
_HEADER = ulong(0x70)
_PROPERTIES = ulong(0x73)
_APPLICATION_PROPERTIES = ulong(0x74)
_DATA_SECTION = ulong(0x75)
_VALUE_SECTION = ulong(0x77)
_ENVELOPE_SECTIONS = frozenset({_HEADER, _PROPERTIES})
_MESSAGE_SECTIONS = frozenset(ulong(code) for code in range(0x70, 0x79))
_BODY_SECTIONS = frozenset({_DATA_SECTION, ulong(0x76), _VALUE_SECTION})
# Positions in the header and properties lists (AMQP 1.0, part 3.2).
_TTL = 2
_MESSAGE_ID, _SUBJECT, _CORRELATION_ID, _CONTENT_TYPE = 0, 3, 5, 6


class UndecodableMessage(ValueError):
    """A transfer whose body the sandbox cannot store (not data, text or a batch of them)."""


@dataclass(frozen=True)
class IncomingMessage:
    """What a sender asked to enqueue."""

    body: bytes
    message_id: str | None = None
    correlation_id: str | None = None
    content_type: str | None = None
    subject: str | None = None
    time_to_live: float | None = None
    application_properties: dict[str, Any] = field(default_factory=dict)


def to_amqp(message: QueueMessage) -> Message:
    """The AMQP message a receiver (or a peek) gets for a stored message."""
    amqp = Message()
    amqp.inferred = True  # bytes go out as a data section, as Service Bus sends them
    amqp.body = message.body
    amqp.id = message.message_id
    amqp.correlation_id = message.correlation_id
    if message.content_type:
        amqp.content_type = symbol(message.content_type)
    amqp.subject = message.label
    amqp.durable = True
    amqp.delivery_count = max(0, message.delivery_count - 1)
    if message.time_to_live is not None:
        amqp.ttl = message.time_to_live
    amqp.properties = dict(message.application_properties)
    annotations: dict[symbol, Any] = {
        SEQUENCE_NUMBER: message.sequence_number,
        ENQUEUED_TIME: timestamp(int(message.enqueued_time_utc.timestamp() * 1000)),
    }
    if message.locked_until_utc is not None:
        annotations[LOCKED_UNTIL] = timestamp(int(message.locked_until_utc.timestamp() * 1000))
    amqp.annotations = annotations
    return amqp


def decode_transfer(raw: bytes) -> list[IncomingMessage]:
    """The messages one transfer carries (several for a batch)."""
    sections = _sections(raw)
    data = [s.value for s in sections if s.descriptor == _DATA_SECTION]
    envelope = [s for s in sections if s.descriptor != _DATA_SECTION]
    if (
        data
        and all(s.descriptor in _ENVELOPE_SECTIONS for s in envelope)
        and all(_is_encoded_message(item) for item in data)
    ):
        return [_incoming(item) for item in data]
    return [_incoming(raw)]


def _sections(raw: bytes) -> list[Described]:
    sections: list[Described] = []
    offset = 0
    while offset < len(raw):
        data = Data()
        try:
            offset += data.decode(raw[offset:])
        except Exception as exc:  # proton raises its own DataException subclasses
            raise UndecodableMessage(f"the transfer is not AMQP: {exc}") from exc
        data.rewind()
        data.next()
        value = data.get_object()
        if not isinstance(value, Described):
            raise UndecodableMessage("the transfer holds a value outside any message section")
        if isinstance(value.value, memoryview):
            # The view points into the Data object, which is freed with it.
            value = Described(value.descriptor, bytes(value.value))
        sections.append(value)
    return sections


def _is_encoded_message(item: bytes) -> bool:
    try:
        sections = _sections(item)
    except UndecodableMessage:
        return False
    descriptors = {s.descriptor for s in sections}
    return descriptors <= _MESSAGE_SECTIONS and bool(descriptors & _BODY_SECTIONS)


def _incoming(raw: bytes) -> IncomingMessage:
    sections = {s.descriptor: s.value for s in _sections(raw)}
    header = sections.get(_HEADER) or []
    properties = sections.get(_PROPERTIES) or []
    body = sections.get(_DATA_SECTION, sections.get(_VALUE_SECTION))
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes):
        raise UndecodableMessage(
            "the sandbox stores data and text bodies only, not "
            f"{type(body).__name__} (amqp-value / amqp-sequence)"
        )
    ttl = _item(header, _TTL)
    return IncomingMessage(
        body=body,
        message_id=_text(_item(properties, _MESSAGE_ID)),
        correlation_id=_text(_item(properties, _CORRELATION_ID)),
        content_type=_text(_item(properties, _CONTENT_TYPE)),
        subject=_text(_item(properties, _SUBJECT)),
        time_to_live=ttl / 1000 if ttl else None,
        application_properties={
            str(k): _plain(v) for k, v in (sections.get(_APPLICATION_PROPERTIES) or {}).items()
        },
    )


def _item(values: list[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _plain(value: Any) -> Any:
    """An application property as the queue stores it (JSON-friendly scalars)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)

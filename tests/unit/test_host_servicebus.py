"""Service Bus queue triggers of the local host, without a broker: connection strings, the
message the worker's converter builds, and the consumer's settling and concurrency."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from azure.functions.servicebus import ServiceBusMessage

from sandbox.host.errors import HostError
from sandbox.host.invoker import Invoker
from sandbox.host.loader import SERVICEBUS_TRIGGER, FunctionEntry
from sandbox.host.queue_consumer import QueueConsumer
from sandbox.host.servicebus import (
    ConnectionInfo,
    ReceivedMessage,
    to_function_message,
    to_function_messages,
)

EMULATOR = (
    "Endpoint=sb://127.0.0.1:8080/servicebus/;SharedAccessKeyName=sandbox;"
    "SharedAccessKey=sandbox;UseDevelopmentEmulator=true"
)


def received(sequence: int = 7, body: bytes = b'{"a": 1}', **broker: object) -> ReceivedMessage:
    properties = {
        "MessageId": f"m-{sequence}", "SequenceNumber": sequence, "LockToken": f"lock-{sequence}",
        "DeliveryCount": 1, **broker,
    }
    return ReceivedMessage(body, "application/json", properties, {"tenant": "t1", "n": 2})


def test_emulator_connection_string_maps_to_http() -> None:
    info = ConnectionInfo.parse(EMULATOR)
    assert info.base_url == "http://127.0.0.1:8080/servicebus"
    assert (info.key_name, info.key) == ("sandbox", "sandbox")


def test_other_connection_strings_map_to_https_and_keep_padding() -> None:
    info = ConnectionInfo.parse(
        "endpoint=sb://ns.servicebus.windows.net/;sharedaccesskeyname=listen;"
        "sharedaccesskey=abc==;UseDevelopmentEmulator=false"
    )
    assert info.base_url == "https://ns.servicebus.windows.net"
    assert info.key == "abc=="


@pytest.mark.parametrize("text", ["", "SharedAccessKey=x", "Endpoint=http://127.0.0.1/"])
def test_connection_string_needs_an_sb_endpoint(text: str) -> None:
    with pytest.raises(HostError):
        ConnectionInfo.parse(text)


def test_sas_token_names_resource_expiry_and_key() -> None:
    token = ConnectionInfo.parse(EMULATOR).sas_token("http://127.0.0.1:8080/servicebus/q", now=100)
    scheme, _, fields = token.partition(" ")
    values = {k: v[0] for k, v in parse_qs(fields).items()}
    assert scheme == "SharedAccessSignature"
    assert values["sr"] == "http://127.0.0.1:8080/servicebus/q"
    assert values["se"] == "3700" and values["skn"] == "sandbox" and values["sig"]


def test_message_built_like_the_worker_builds_it() -> None:
    message = to_function_message(received(
        CorrelationId="c-1", Label="subj", State="Active", TimeToLive=60,
        EnqueuedTimeUtc="Sun, 22 Nov 2026 08:00:00 GMT",
        LockedUntilUtc="Sun, 22 Nov 2026 08:00:30 GMT",
    ))
    assert isinstance(message, ServiceBusMessage)
    assert message.get_body() == b'{"a": 1}'
    assert (message.message_id, message.correlation_id) == ("m-7", "c-1")
    assert (message.sequence_number, message.delivery_count, message.lock_token) == (
        7, 1, "lock-7"
    )
    assert message.content_type == "application/json"
    assert message.label == message.subject == "subj"
    assert message.state == 0
    assert message.enqueued_time_utc == datetime(2026, 11, 22, 8, tzinfo=UTC)
    assert message.locked_until == datetime(2026, 11, 22, 8, 0, 30, tzinfo=UTC)
    assert message.time_to_live == timedelta(seconds=60)
    assert message.expires_at_utc == datetime(2026, 11, 22, 8, 1, tzinfo=UTC)
    assert message.application_properties == {"tenant": "t1", "n": 2}
    assert message.user_properties == {"tenant": "t1", "n": 2}
    assert message.metadata is not None and message.metadata["MessageId"] == "m-7"


@pytest.mark.parametrize("body", [b"\xff\x00binary", b"plain text", b"", b"[1, 2", b'["x"]'])
def test_any_body_arrives_byte_for_byte(body: bytes) -> None:
    assert to_function_message(received(body=body)).get_body() == body


class FakeQueue:
    """An in-memory queue client: abandoned messages come back with a higher count."""

    queue = "fake"

    def __init__(self, messages: list[ReceivedMessage]) -> None:
        self._lock = threading.Lock()
        self.pending = list(messages)
        self.completed: list[str] = []
        self.abandoned: list[str] = []

    def receive(self, timeout_seconds: int = 0) -> ReceivedMessage | None:
        with self._lock:
            return self.pending.pop(0) if self.pending else None

    def complete(self, message: ReceivedMessage) -> bool:
        with self._lock:
            self.completed.append(message.message_id)
        return True

    def abandon(self, message: ReceivedMessage) -> bool:
        with self._lock:
            self.abandoned.append(message.message_id)
            count = int(message.broker_properties["DeliveryCount"]) + 1
            again = {**message.broker_properties, "DeliveryCount": count}
            self.pending.append(ReceivedMessage(message.body, message.content_type, again,
                                                message.application_properties))
        return True

    def close(self) -> None:
        """Nothing to close."""


def consumer_for(function: object, client: FakeQueue, max_calls: int = 16) -> QueueConsumer:
    binding = {"type": SERVICEBUS_TRIGGER, "name": "msg", "queueName": "fake"}
    entry = FunctionEntry("consume", SERVICEBUS_TRIGGER, binding, function,  # type: ignore[arg-type]
                          wants_context=False)
    return QueueConsumer(entry, Invoker(Path(".")), client, max_calls, 0.01)  # type: ignore[arg-type]


def test_success_completes_and_failure_abandons() -> None:
    def fail_first_delivery(msg: ServiceBusMessage) -> None:
        if msg.delivery_count == 1:
            raise RuntimeError("first try fails")

    client = FakeQueue([received(1), received(2)])
    consumer = consumer_for(fail_first_delivery, client)
    consumer.start()
    try:
        assert consumer.wait_idle(5)
    finally:
        consumer.stop()
    assert sorted(client.abandoned) == ["m-1", "m-2"]
    assert sorted(client.completed) == ["m-1", "m-2"]


def test_at_most_max_concurrent_calls_run_at_once() -> None:
    running = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(msg: ServiceBusMessage) -> None:
        with lock:
            running["now"] += 1
            running["max"] = max(running["max"], running["now"])
        time.sleep(0.05)
        with lock:
            running["now"] -= 1

    client = FakeQueue([received(n) for n in range(1, 9)])
    consumer = consumer_for(slow, client, max_calls=3)
    consumer.start()
    try:
        assert consumer.wait_idle(5)
    finally:
        consumer.stop()
    assert len(client.completed) == 8
    assert running["max"] == 3


def test_wait_idle_times_out_while_a_message_is_running() -> None:
    release = threading.Event()
    client = FakeQueue([received(1)])
    consumer = consumer_for(lambda msg: release.wait(5), client)
    consumer.start()
    try:
        assert not consumer.wait_idle(0.2)
        release.set()
        assert consumer.wait_idle(5)
    finally:
        consumer.stop()
    assert client.completed == ["m-1"]


def test_a_batch_is_built_like_the_worker_builds_it() -> None:
    messages = to_function_messages([
        received(1, b'{"a": 1}', DeliveryCount=3),
        received(2, b"\xff\x00 not text", Label="second"),
    ])
    assert [m.get_body() for m in messages] == [b'{"a": 1}', b"\xff\x00 not text"]
    assert [m.message_id for m in messages] == ["m-1", "m-2"]
    assert [m.delivery_count for m in messages] == [3, 1]
    assert [m.sequence_number for m in messages] == [1, 2]
    assert [m.label for m in messages] == [None, "second"]
    assert messages[1].application_properties == {"tenant": "t1", "n": 2}


def test_a_batch_trigger_gets_what_is_there_and_settles_the_batch_as_one() -> None:
    calls: list[list[str]] = []

    def consume(msgs: list[ServiceBusMessage]) -> None:
        calls.append([m.message_id for m in msgs])
        if len(calls) == 1:
            raise RuntimeError("the first batch fails")

    client = FakeQueue([received(n) for n in range(1, 6)])
    binding = {"type": SERVICEBUS_TRIGGER, "name": "msgs", "queueName": "fake",
               "cardinality": "many"}
    entry = FunctionEntry("consume", SERVICEBUS_TRIGGER, binding, consume,  # type: ignore[arg-type]
                          wants_context=False)
    consumer = QueueConsumer(entry, Invoker(Path(".")), client, 1, 0.01,  # type: ignore[arg-type]
                             batch_size=3)
    consumer.start()
    try:
        assert consumer.wait_idle(5)
    finally:
        consumer.stop()
    assert calls[0] == ["m-1", "m-2", "m-3"]
    assert sorted(client.abandoned) == ["m-1", "m-2", "m-3"]
    assert sorted(client.completed) == [f"m-{n}" for n in range(1, 6)]
    assert all(len(batch) <= 3 for batch in calls)

"""Queue semantics of the sandbox's Service Bus: locks, expiry, delivery count, dead letters."""

from __future__ import annotations

import threading
import time

import pytest

from sandbox.servicebus.queue import MAX_DELIVERY_COUNT_EXCEEDED, LockLostError, Queue


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_queue(clock: FakeClock, max_delivery_count: int = 10) -> Queue:
    dead_letters = Queue("q/$deadletterqueue", max_delivery_count=None, clock=clock)
    return Queue(
        "q",
        lock_duration=30.0,
        max_delivery_count=max_delivery_count,
        clock=clock,
        dead_letter_queue=dead_letters,
    )


def test_send_assigns_increasing_sequence_numbers_and_keeps_properties(clock: FakeClock) -> None:
    queue = make_queue(clock)
    first = queue.send(b"a", content_type="application/json", application_properties={"k": 1})
    second = queue.send(b"b", message_id="given", correlation_id="c", label="L")

    assert (first.sequence_number, second.sequence_number) == (1, 2)
    assert second.message_id == "given"
    received = queue.receive()
    assert received is not None
    assert received.body == b"a"
    assert received.content_type == "application/json"
    assert received.application_properties == {"k": 1}
    assert received.delivery_count == 1
    assert received.lock_token


def test_receive_on_empty_queue_returns_none(clock: FakeClock) -> None:
    assert make_queue(clock).receive() is None


def test_locked_message_is_not_delivered_twice(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"only")
    assert queue.receive() is not None
    assert queue.receive() is None
    assert queue.active_count() == 1


def test_complete_removes_the_message(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"x")
    message = queue.receive()
    assert message is not None and message.lock_token
    queue.complete(message.sequence_number, message.lock_token)
    assert queue.active_count() == 0
    assert queue.receive() is None


def test_complete_with_wrong_token_is_lock_lost(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"x")
    message = queue.receive()
    assert message is not None
    with pytest.raises(LockLostError):
        queue.complete(message.sequence_number, "not-the-token")


def test_abandon_redelivers_with_higher_delivery_count(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"x")
    first = queue.receive()
    assert first is not None and first.lock_token
    queue.abandon(first.sequence_number, first.lock_token)
    second = queue.receive()
    assert second is not None
    assert second.delivery_count == 2
    assert second.lock_token != first.lock_token


def test_expired_lock_returns_the_message_and_loses_the_old_lock(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"x")
    first = queue.receive()
    assert first is not None and first.lock_token
    clock.advance(29.9)
    assert queue.receive() is None
    clock.advance(0.2)
    with pytest.raises(LockLostError):
        queue.complete(first.sequence_number, first.lock_token)
    again = queue.receive()
    assert again is not None
    assert again.delivery_count == 2


def test_lock_duration_is_configurable(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.lock_duration = 5.0
    queue.send(b"x")
    assert queue.receive() is not None
    clock.advance(5.0)
    assert queue.receive() is not None


def test_abandon_at_max_delivery_count_dead_letters(clock: FakeClock) -> None:
    queue = make_queue(clock, max_delivery_count=3)
    queue.send(b"poison", application_properties={"p": "v"})
    for _ in range(3):
        message = queue.receive()
        assert message is not None and message.lock_token
        queue.abandon(message.sequence_number, message.lock_token)

    assert queue.receive() is None
    assert queue.active_count() == 0
    assert queue.dead_letter_queue is not None
    [dead] = queue.dead_letter_queue.peek_all()
    assert dead.body == b"poison"
    assert dead.delivery_count == 3
    assert dead.dead_letter_reason == MAX_DELIVERY_COUNT_EXCEEDED
    assert dead.application_properties["p"] == "v"


def test_lock_expiry_at_max_delivery_count_dead_letters(clock: FakeClock) -> None:
    queue = make_queue(clock, max_delivery_count=1)
    queue.send(b"x")
    assert queue.receive() is not None
    clock.advance(31)
    assert queue.receive() is None
    assert queue.dead_letter_queue is not None
    assert [m.dead_letter_reason for m in queue.dead_letter_queue.peek_all()] == [
        MAX_DELIVERY_COUNT_EXCEEDED
    ]


def test_explicit_dead_letter_keeps_reason_and_description(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"x")
    message = queue.receive()
    assert message is not None and message.lock_token
    queue.dead_letter(message.sequence_number, message.lock_token, "BadPayload", "not JSON")
    assert queue.dead_letter_queue is not None
    [dead] = queue.dead_letter_queue.peek_all()
    assert (dead.dead_letter_reason, dead.dead_letter_description) == ("BadPayload", "not JSON")
    assert dead.sequence_number == message.sequence_number


def test_dead_letter_queue_is_received_and_completed_like_a_queue(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"x")
    message = queue.receive()
    assert message is not None and message.lock_token
    queue.dead_letter(message.sequence_number, message.lock_token, "r", "d")
    dead_letters = queue.dead_letter_queue
    assert dead_letters is not None
    dead = dead_letters.receive()
    assert dead is not None and dead.lock_token
    dead_letters.complete(dead.sequence_number, dead.lock_token)
    assert dead_letters.active_count() == 0


def test_messages_are_delivered_in_sequence_order_after_abandon(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"1")
    queue.send(b"2")
    first = queue.receive()
    assert first is not None and first.lock_token
    queue.abandon(first.sequence_number, first.lock_token)
    again = queue.receive()
    assert again is not None and again.body == b"1"


def test_expired_time_to_live_drops_the_message(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"short", time_to_live=10)
    clock.advance(11)
    assert queue.active_count() == 0
    assert queue.receive() is None


def test_receiver_copy_cannot_change_the_stored_message(clock: FakeClock) -> None:
    queue = make_queue(clock)
    queue.send(b"x", application_properties={"a": 1})
    message = queue.receive()
    assert message is not None and message.lock_token
    message.application_properties["a"] = 2
    queue.abandon(message.sequence_number, message.lock_token)
    again = queue.receive()
    assert again is not None and again.application_properties == {"a": 1}


def test_long_poll_wakes_when_a_message_arrives() -> None:
    queue = Queue("real-clock")
    received: list[bytes] = []

    def wait() -> None:
        message = queue.receive(timeout=5)
        received.append(message.body if message else b"")

    waiter = threading.Thread(target=wait)
    started = time.perf_counter()
    waiter.start()
    time.sleep(0.1)
    queue.send(b"late")
    waiter.join(timeout=5)
    assert received == [b"late"]
    assert time.perf_counter() - started < 2


def test_long_poll_hands_out_a_message_whose_lock_expires_meanwhile() -> None:
    queue = Queue("real-clock", lock_duration=0.2)
    queue.send(b"x")
    assert queue.receive() is not None
    started = time.perf_counter()
    again = queue.receive(timeout=3)
    assert again is not None and again.delivery_count == 2
    assert time.perf_counter() - started < 1.5


def test_long_poll_does_not_spin_while_waiting() -> None:
    queue = Queue("idle")
    cpu_before = time.process_time()
    assert queue.receive(timeout=0.5) is None
    assert time.process_time() - cpu_before < 0.1

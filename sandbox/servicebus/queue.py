"""One Service Bus queue: peek-lock delivery, lock expiry, delivery counts and dead-lettering.

Semantics follow Azure Service Bus queues:

- a receive locks the first available message (lowest sequence number) for the queue's lock
  duration and raises its delivery count (1 on the first delivery);
- complete removes a locked message; abandon unlocks it; a lock that expires unlocks it too;
- an unlocked message whose delivery count has reached the queue's max delivery count moves
  to the dead-letter queue with ``DeadLetterReason`` ``MaxDeliveryCountExceeded``;
- an explicit dead-letter moves a locked message there with the caller's reason;
- a message whose time to live has passed is dropped (Azure's default: no dead-lettering on
  expiration);
- a message sent with a scheduled enqueue time is held back (``State`` Scheduled, not
  counted as active) until that time, then delivered like any other.

Dead-lettered messages carry ``DeadLetterReason`` and ``DeadLetterErrorDescription`` as
application properties, as Azure stamps them. The dead-letter queue is a :class:`Queue` of its
own (no max delivery count) so it is received from in the same way.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_DELIVERY_COUNT_EXCEEDED = "MaxDeliveryCountExceeded"


class LockLostError(Exception):
    """The lock token is unknown, belongs to another delivery or has expired (Azure: 410)."""


@dataclass
class Message:
    """A brokered message and its broker state. Receivers get copies, never the stored one."""

    body: bytes
    sequence_number: int
    message_id: str
    enqueued_time_utc: datetime
    content_type: str | None = None
    correlation_id: str | None = None
    label: str | None = None
    application_properties: dict[str, Any] = field(default_factory=dict)
    time_to_live: float | None = None
    delivery_count: int = 0
    lock_token: str | None = None
    locked_until_utc: datetime | None = None
    expires_at: float | None = None
    locked_until: float | None = None
    scheduled_enqueue_time_utc: datetime | None = None
    available_at: float | None = None

    @property
    def dead_letter_reason(self) -> str | None:
        return self.application_properties.get("DeadLetterReason")

    @property
    def dead_letter_description(self) -> str | None:
        return self.application_properties.get("DeadLetterErrorDescription")


class Queue:
    """A thread-safe queue; long polls wait on a condition instead of spinning."""

    def __init__(
        self,
        name: str,
        *,
        lock_duration: float = 30.0,
        max_delivery_count: int | None = 10,
        clock: Callable[[], float] = time.monotonic,
        dead_letter_queue: Queue | None = None,
    ) -> None:
        self.name = name
        self.lock_duration = lock_duration
        self.max_delivery_count = max_delivery_count
        self.dead_letter_queue = dead_letter_queue
        self._clock = clock
        self._cond = threading.Condition()
        self._messages: dict[int, Message] = {}
        self._available: list[int] = []
        self._locked: dict[int, Message] = {}
        self._scheduled: list[tuple[float, int]] = []
        self._sequence = itertools.count(1)

    # ----------------------------------------------------------------- sending

    def send(
        self,
        body: bytes,
        *,
        content_type: str | None = None,
        application_properties: dict[str, Any] | None = None,
        message_id: str | None = None,
        correlation_id: str | None = None,
        label: str | None = None,
        time_to_live: float | None = None,
        scheduled_enqueue_time_utc: datetime | None = None,
    ) -> Message:
        """Enqueue a message; the broker assigns the sequence number (and a missing id).

        With ``scheduled_enqueue_time_utc`` in the future the message becomes available then.
        """
        with self._cond:
            now = self._clock()
            available_at = None
            if scheduled_enqueue_time_utc is not None:
                delay = (scheduled_enqueue_time_utc - datetime.now(UTC)).total_seconds()
                available_at = now + delay if delay > 0 else None
            message = Message(
                body=bytes(body),
                sequence_number=next(self._sequence),
                message_id=message_id or uuid.uuid4().hex,
                enqueued_time_utc=datetime.now(UTC),
                content_type=content_type,
                correlation_id=correlation_id,
                label=label,
                application_properties=dict(application_properties or {}),
                time_to_live=time_to_live,
                expires_at=None if time_to_live is None else now + time_to_live,
                scheduled_enqueue_time_utc=scheduled_enqueue_time_utc,
                available_at=available_at,
            )
            if available_at is None:
                self._put(message)
            else:
                self._messages[message.sequence_number] = message
                heapq.heappush(self._scheduled, (available_at, message.sequence_number))
            return dataclasses.replace(message)

    def scheduled_count(self) -> int:
        """Messages whose scheduled enqueue time has not come yet."""
        with self._cond:
            self._release_scheduled(self._clock())
            return len(self._scheduled)

    def wake(self) -> None:
        """Look again at scheduled messages and lock expiries (the clock moved)."""
        with self._cond:
            self._cond.notify_all()

    def _release_scheduled(self, now: float) -> None:
        while self._scheduled and self._scheduled[0][0] <= now:
            _, sequence = heapq.heappop(self._scheduled)
            message = self._messages.get(sequence)
            if message is not None:
                message.available_at = None
                self._put(message)

    def _accept_dead_letter(self, message: Message) -> None:
        """Take a message moved here from the main queue, keeping its sequence number."""
        with self._cond:
            self._put(message)

    def _put(self, message: Message) -> None:
        self._messages[message.sequence_number] = message
        heapq.heappush(self._available, message.sequence_number)
        self._cond.notify()

    # --------------------------------------------------------------- receiving

    def receive(self, timeout: float = 0.0) -> Message | None:
        """Peek-lock the next message, waiting up to ``timeout`` seconds for one."""
        with self._cond:
            deadline = self._clock() + max(0.0, timeout)
            while True:
                now = self._clock()
                self._reclaim(now)
                self._release_scheduled(now)
                message = self._next_available(now)
                if message is not None:
                    message.delivery_count += 1
                    message.lock_token = str(uuid.uuid4())
                    message.locked_until = now + self.lock_duration
                    message.locked_until_utc = datetime.now(UTC) + timedelta(
                        seconds=self.lock_duration
                    )
                    self._locked[message.sequence_number] = message
                    return dataclasses.replace(
                        message, application_properties=dict(message.application_properties)
                    )
                remaining = deadline - now
                if remaining <= 0:
                    return None
                # Wake up in time to hand out a message whose lock is about to expire.
                self._cond.wait(min(remaining, self._next_lock_expiry(now)))

    def _next_available(self, now: float) -> Message | None:
        while self._available:
            sequence = heapq.heappop(self._available)
            message = self._messages.get(sequence)
            if message is None or sequence in self._locked:
                continue
            if message.expires_at is not None and message.expires_at <= now:
                del self._messages[sequence]
                continue
            return message
        return None

    def _next_lock_expiry(self, now: float) -> float:
        expiries = [m.locked_until for m in self._locked.values() if m.locked_until is not None]
        if self._scheduled:
            expiries.append(self._scheduled[0][0])
        return max(0.0, min(expiries) - now) if expiries else float("inf")

    # ---------------------------------------------------------------- settling

    def complete(self, sequence_number: int, lock_token: str) -> None:
        """Remove a locked message for good."""
        with self._cond:
            self._holding(sequence_number, lock_token)
            del self._locked[sequence_number]
            del self._messages[sequence_number]

    def abandon(self, sequence_number: int, lock_token: str) -> None:
        """Unlock a message so it is delivered again (or dead-lettered past the limit)."""
        with self._cond:
            message = self._holding(sequence_number, lock_token)
            self._unlock(message)

    def dead_letter(
        self, sequence_number: int, lock_token: str, reason: str, description: str = ""
    ) -> None:
        """Move a locked message to the dead-letter queue with the receiver's reason."""
        with self._cond:
            message = self._holding(sequence_number, lock_token)
            del self._locked[sequence_number]
            self._move_to_dead_letters(message, reason, description)

    def _holding(self, sequence_number: int, lock_token: str) -> Message:
        now = self._clock()
        self._reclaim(now)
        message = self._locked.get(sequence_number)
        if message is None or message.lock_token != lock_token:
            raise LockLostError(
                f"The lock supplied is invalid. Either the lock expired, or the message has "
                f"already been removed from the queue '{self.name}'."
            )
        return message

    def _reclaim(self, now: float) -> None:
        expired = [
            m for m in self._locked.values() if m.locked_until is not None and m.locked_until <= now
        ]
        for message in expired:
            self._unlock(message)

    def _unlock(self, message: Message) -> None:
        del self._locked[message.sequence_number]
        message.lock_token = None
        message.locked_until = None
        message.locked_until_utc = None
        limit = self.max_delivery_count
        if limit is not None and message.delivery_count >= limit:
            self._move_to_dead_letters(
                message,
                MAX_DELIVERY_COUNT_EXCEEDED,
                f"Message could not be consumed after {limit} delivery attempts.",
            )
            return
        heapq.heappush(self._available, message.sequence_number)
        self._cond.notify()

    def _move_to_dead_letters(self, message: Message, reason: str, description: str) -> None:
        del self._messages[message.sequence_number]
        if self.dead_letter_queue is None:
            return
        moved = dataclasses.replace(
            message,
            lock_token=None,
            locked_until=None,
            locked_until_utc=None,
            expires_at=None,
            application_properties={
                **message.application_properties,
                "DeadLetterReason": reason,
                "DeadLetterErrorDescription": description,
            },
        )
        self.dead_letter_queue._accept_dead_letter(moved)

    # ----------------------------------------------------------------- reading

    def active_count(self) -> int:
        """Messages neither settled nor dead-lettered (locked ones included, as in Azure)."""
        with self._cond:
            now = self._clock()
            self._release_scheduled(now)
            return sum(
                1 for m in self._messages.values()
                if (m.expires_at is None or m.expires_at > now) and m.available_at is None
            )

    def peek_all(self) -> list[Message]:
        """Copies of every message in sequence order, without locking any."""
        with self._cond:
            return [
                dataclasses.replace(m, application_properties=dict(m.application_properties))
                for _, m in sorted(self._messages.items())
            ]

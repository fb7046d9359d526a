"""The sandbox's Service Bus namespace: named queues, created on first use."""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any

from . import rest
from .queue import Message, Queue
from .rest import MOUNT_PATH

if TYPE_CHECKING:
    from ..core import Host

DEFAULT_LOCK_DURATION = 30.0
DEFAULT_MAX_DELIVERY_COUNT = 10
# Azure's rule for entity names, less the '/' of nested paths (one URL segment per queue).
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,258}[A-Za-z0-9])?$")


class Namespace:
    """A local stand-in for one Azure Service Bus namespace, served under ``/servicebus/``.

    The HTTP contract (modelled on the Service Bus REST API) is described in
    :mod:`sandbox.servicebus.rest`; the Python methods below do the same without HTTP.
    """

    def __init__(self, sandbox: Host) -> None:
        self.sandbox = sandbox
        self.default_lock_duration = DEFAULT_LOCK_DURATION
        self._queues: dict[str, Queue] = {}
        self._lock = threading.Lock()
        self._offset = 0.0
        sandbox.mount(MOUNT_PATH, lambda request: rest.handle(self, request))

    def queue(self, name: str) -> Queue:
        """The queue called ``name``, created (with its dead-letter queue) on first use."""
        if not _QUEUE_NAME.match(name):
            raise ValueError(f"invalid queue name {name!r}")
        with self._lock:
            existing = self._queues.get(name)
            if existing is not None:
                return existing
            dead_letters = Queue(
                f"{name}/$deadletterqueue", max_delivery_count=None, clock=self._clock
            )
            created = Queue(
                name,
                lock_duration=self.default_lock_duration,
                max_delivery_count=DEFAULT_MAX_DELIVERY_COUNT,
                clock=self._clock,
                dead_letter_queue=dead_letters,
            )
            self._queues[name] = created
            return created

    def advance_clock(self, seconds: float) -> None:
        """Move every queue's clock ``seconds`` forward: scheduled messages, locks and time to
        live come due as if that time had passed (tests skip a long schedule)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        for queue in self.queues():
            queue.wake()

    def _clock(self) -> float:
        return time.monotonic() + self._offset

    def queues(self) -> list[Queue]:
        """Every queue created so far, by name."""
        with self._lock:
            return [self._queues[name] for name in sorted(self._queues)]

    def send(
        self,
        queue: str,
        body: bytes,
        *,
        content_type: str | None = None,
        application_properties: dict[str, Any] | None = None,
        message_id: str | None = None,
        correlation_id: str | None = None,
        subject: str | None = None,
    ) -> Message:
        """Put a message on ``queue`` (``subject`` is the REST API's ``Label``)."""
        return self.queue(queue).send(
            body,
            content_type=content_type,
            application_properties=application_properties,
            message_id=message_id,
            correlation_id=correlation_id,
            label=subject,
        )

    def receive(self, queue: str, timeout: float = 0.0) -> Message | None:
        """Peek-lock the next message of ``queue``, waiting up to ``timeout`` seconds."""
        return self.queue(queue).receive(timeout)

    def active_count(self, queue: str) -> int:
        """Messages in ``queue`` that are neither settled nor dead-lettered."""
        return self.queue(queue).active_count()

    def dead_letters(self, queue: str) -> list[Message]:
        """The messages in ``queue``'s dead-letter queue, oldest first."""
        dead_letter_queue = self.queue(queue).dead_letter_queue
        return dead_letter_queue.peek_all() if dead_letter_queue else []

    def set_max_delivery_count(self, queue: str, count: int) -> None:
        """Deliveries after which an unsettled message is dead-lettered (Azure's default 10)."""
        if count < 1:
            raise ValueError("max delivery count must be at least 1")
        self.queue(queue).max_delivery_count = count

    def set_lock_duration(self, queue: str, seconds: float) -> None:
        """How long a peek-lock holds (Azure's default 30 s); applies to later receives."""
        if seconds <= 0:
            raise ValueError("lock duration must be positive")
        self.queue(queue).lock_duration = seconds

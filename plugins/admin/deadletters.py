"""Dead letters of the product's Service Bus queue: list, show and replay them.

Talks AMQP through the ``azure-servicebus`` SDK, to Azure or to the sandbox's AMQP peer,
with the connection string the Function App's trigger uses.

- list / show *peek* the dead-letter queue (``<queue>/$DeadLetterQueue``): nothing is locked
  or changed;
- replay receives the chosen dead letters with peek-lock, sends each one's copy to the
  original queue and only then completes the dead letter; dead letters not chosen are
  abandoned (left where they were) at the end. A failure between the send and the complete
  leaves the dead letter in place, so a replay is at least once: the product's handlers treat
  every event as a nudge to re-read and decide again, so a duplicate changes nothing.

A copy keeps the body, content type, message id, correlation id, subject and application
properties, without the broker's ``DeadLetterReason`` / ``DeadLetterErrorDescription`` and
with ``mp-replay-count`` raised by one, so a message that keeps failing is recognisable.

The SDK can wait forever on a peer that stops answering (a hung AMQP handshake, say), so
every SDK call runs in a daemon thread with a deadline: past it :class:`DeadLetterError`
names the call that did not answer, and the abandoned thread dies with the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from azure.servicebus import (
    ServiceBusClient,
    ServiceBusMessage,
    ServiceBusReceivedMessage,
    ServiceBusReceiver,
    ServiceBusSender,
    ServiceBusSubQueue,
)
from azure.servicebus.amqp import AmqpMessageBodyType
from azure.servicebus.exceptions import (
    ServiceBusAuthenticationError,
    ServiceBusAuthorizationError,
    ServiceBusConnectionError,
    ServiceBusError,
)

T = TypeVar("T")

REPLAY_COUNT = "mp-replay-count"
DEAD_LETTER_PROPERTIES = frozenset({"DeadLetterReason", "DeadLetterErrorDescription"})
PEEK_PAGE = 100
RECEIVE_BATCH = 50
RECEIVE_WAIT_SECONDS = 5.0


class DeadLetterError(Exception):
    """A dead-letter operation failed or did not answer in time; ``str()`` says which."""


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message, as peeked (application properties with ``str`` keys)."""

    sequence_number: int
    message_id: str | None
    enqueued_time: datetime | None
    delivery_count: int | None
    reason: str | None
    description: str | None
    subject: str | None
    content_type: str | None
    correlation_id: str | None
    body: bytes = field(repr=False)
    application_properties: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ReplayResult:
    """What a replay did: the sequence numbers replayed, and those asked for but not found."""

    replayed: tuple[int, ...]
    missing: tuple[int, ...] = ()


class DeadLetterQueue:
    """The dead-letter queue of ``queue`` in the namespace of ``connection_string``.

    ``timeout_seconds`` bounds every SDK call (the SDK's own ``timeout`` and the outer
    deadline); use it as a context manager so the AMQP connection is closed.
    """

    def __init__(self, connection_string: str, queue: str, timeout_seconds: float = 30.0) -> None:
        self.queue = queue
        self.timeout = timeout_seconds
        # A receive waits for messages a peek has just seen; it must end before the deadline.
        self._wait = min(RECEIVE_WAIT_SECONDS, timeout_seconds / 2)
        try:
            self._client = ServiceBusClient.from_connection_string(
                connection_string, retry_total=1, retry_backoff_factor=0.5
            )
        except ValueError as exc:
            raise DeadLetterError(
                f"the Service Bus connection string is not usable ({exc}): copy it from the "
                "namespace's shared access policy (Endpoint=sb://...;SharedAccessKeyName=...)"
            ) from exc

    def __enter__(self) -> DeadLetterQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (bounded like every other call)."""
        self._bounded(self._client.close, "closing the connection")

    # ---------------------------------------------------------------- reading

    def list_all(self, limit: int = 100) -> list[DeadLetter]:
        """Up to ``limit`` dead letters, oldest first, without locking them."""
        found: list[DeadLetter] = []
        with self._receiver() as receiver:
            start = 1
            while len(found) < limit:
                page = self._peek(receiver, min(PEEK_PAGE, limit - len(found)), start)
                if not page:
                    break
                found.extend(page)
                start = page[-1].sequence_number + 1
        return found

    def show(self, sequence_number: int) -> DeadLetter | None:
        """The dead letter with this sequence number, if it is there."""
        with self._receiver() as receiver:
            page = self._peek(receiver, 1, sequence_number)
        return page[0] if page and page[0].sequence_number == sequence_number else None

    def _peek(self, receiver: ServiceBusReceiver, count: int, start: int) -> list[DeadLetter]:
        messages = self._bounded(
            lambda: receiver.peek_messages(count, sequence_number=start, timeout=self.timeout),
            "peeking the dead-letter queue",
        )
        return [dead_letter(m) for m in messages]

    # --------------------------------------------------------------- replaying

    def replay(self, sequence_numbers: Collection[int] | None, limit: int = 1000) -> ReplayResult:
        """Replay the dead letters with these sequence numbers (None: all, up to ``limit``).

        A peek first finds which of them are there, so the receive loop ends as soon as they
        are all replayed instead of waiting for messages that do not exist.
        """
        wanted = None if sequence_numbers is None else set(sequence_numbers)
        replayed: list[int] = []
        held: list[ServiceBusReceivedMessage] = []
        with self._receiver(peek=False) as receiver:
            targets = self._present(receiver, wanted, limit)
            if targets:
                with self._sender() as sender:
                    try:
                        self._replay_targets(receiver, sender, targets, replayed, held)
                    finally:
                        for message in held:
                            self._leave(receiver, message)
        missing = (wanted or set()) - set(replayed)
        return ReplayResult(tuple(replayed), tuple(sorted(missing)))

    def _present(
        self, receiver: ServiceBusReceiver, wanted: set[int] | None, limit: int
    ) -> set[int]:
        """The sequence numbers to replay that are in the dead-letter queue now."""
        found: list[int] = []
        start = 1
        while len(found) < limit and (wanted is None or start <= max(wanted, default=0)):
            page = self._peek(receiver, PEEK_PAGE, start)
            if not page:
                break
            found.extend(
                d.sequence_number for d in page if wanted is None or d.sequence_number in wanted
            )
            start = page[-1].sequence_number + 1
        return set(found[:limit])

    def _replay_targets(
        self,
        receiver: ServiceBusReceiver,
        sender: ServiceBusSender,
        targets: set[int],
        replayed: list[int],
        held: list[ServiceBusReceivedMessage],
    ) -> None:
        """Receive until every target is replayed; others received meanwhile are held."""
        remaining = set(targets)
        while remaining:
            batch = self._bounded(
                lambda: receiver.receive_messages(RECEIVE_BATCH, max_wait_time=self._wait),
                "receiving from the dead-letter queue",
            )
            if not batch:
                return  # the rest went away meanwhile (another replay): reported as missing
            for message in batch:
                sequence = int(message.sequence_number or 0)
                if sequence not in remaining:
                    held.append(message)
                    continue
                self._replay_one(receiver, sender, message)
                replayed.append(sequence)
                remaining.discard(sequence)

    def _leave(self, receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage) -> None:
        """Abandon a dead letter that was not chosen, so it stays in the dead-letter queue."""
        try:
            self._bounded(
                lambda: receiver.abandon_message(message), "leaving a dead letter in place"
            )
        except DeadLetterError:
            # Its lock is gone (expired or the link dropped): it is back in the queue anyway.
            return

    def _replay_one(
        self,
        receiver: ServiceBusReceiver,
        sender: ServiceBusSender,
        message: ServiceBusReceivedMessage,
    ) -> None:
        copy = replay_copy(message)
        self._bounded(
            lambda: sender.send_messages(copy, timeout=self.timeout),
            f"sending the copy of dead letter {message.sequence_number} to {self.queue}",
        )
        self._bounded(
            lambda: receiver.complete_message(message),
            f"removing dead letter {message.sequence_number} after its replay",
        )

    # ---------------------------------------------------------------- plumbing

    @contextmanager
    def _receiver(self, *, peek: bool = True) -> Iterator[ServiceBusReceiver]:
        receiver = self._client.get_queue_receiver(
            self.queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER, max_wait_time=self._wait
        )
        purpose = "the dead-letter queue" if peek else "the dead-letter queue for a replay"
        with self._opened(receiver, f"opening {purpose} of {self.queue}"):
            yield receiver

    @contextmanager
    def _sender(self) -> Iterator[ServiceBusSender]:
        sender = self._client.get_queue_sender(self.queue)
        with self._opened(sender, f"opening a sender to {self.queue}"):
            yield sender

    @contextmanager
    def _opened(self, handler: Any, what: str) -> Iterator[None]:
        self._bounded(handler.__enter__, what)
        try:
            yield
        finally:
            self._bounded(handler.close, f"closing ({what.removeprefix('opening ')})")

    def _bounded(self, call: Callable[[], T], what: str) -> T:
        """``call()`` within the deadline; SDK errors become :class:`DeadLetterError`."""
        try:
            return bounded(call, self.timeout, what)
        except (ServiceBusError, ValueError) as exc:  # the SDK's errors, and its state errors
            raise DeadLetterError(f"{what} failed: {_first_line(exc)}{_hint(exc)}") from exc


def bounded(call: Callable[[], T], seconds: float, what: str) -> T:
    """Run ``call`` in a daemon thread and wait at most ``seconds`` for it.

    Past the deadline :class:`DeadLetterError` is raised and the thread is left to end (or
    die with the process); exceptions of ``call`` are re-raised here.
    """
    outcome: list[Any] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="servicebus-call", daemon=True).start()
    if not done.wait(seconds):
        raise DeadLetterError(f"{what} did not answer within {seconds:g} s")
    if failure:
        raise failure[0]
    return outcome[0]  # type: ignore[no-any-return]


def dead_letter(message: ServiceBusReceivedMessage) -> DeadLetter:
    """A received (or peeked) message as a :class:`DeadLetter`."""
    return DeadLetter(
        sequence_number=int(message.sequence_number or 0),
        message_id=_text(message.message_id),
        enqueued_time=message.enqueued_time_utc,
        delivery_count=message.delivery_count,
        reason=message.dead_letter_reason,
        description=message.dead_letter_error_description,
        subject=_text(message.subject),
        content_type=_text(message.content_type),
        correlation_id=_text(message.correlation_id),
        body=body_bytes(message),
        application_properties=_properties(message.application_properties),
    )


def replay_copy(message: ServiceBusReceivedMessage) -> ServiceBusMessage:
    """The message a replay sends to the original queue (see the module docstring)."""
    properties = {
        name: value
        for name, value in _properties(message.application_properties).items()
        if name not in DEAD_LETTER_PROPERTIES
    }
    properties[REPLAY_COUNT] = int(properties.get(REPLAY_COUNT) or 0) + 1
    return ServiceBusMessage(
        body_bytes(message),
        application_properties=properties,
        message_id=_text(message.message_id),
        content_type=_text(message.content_type),
        correlation_id=_text(message.correlation_id),
        subject=_text(message.subject),
    )


def body_bytes(message: ServiceBusReceivedMessage) -> bytes:
    """The body of a data-section message; other bodies cannot be replayed as they were."""
    if message.body_type != AmqpMessageBodyType.DATA:
        raise DeadLetterError(
            f"dead letter {message.sequence_number} has a {message.body_type.value} body; only "
            "data bodies (what Dataverse and the product send) are handled"
        )
    body = message.body
    return body if isinstance(body, bytes) else b"".join(body)


def _properties(values: Mapping[Any, Any] | None) -> dict[str, Any]:
    """Application properties with text keys and values (the SDK hands back ``bytes``)."""
    return {_text(name) or "": _decoded(value) for name, value in (values or {}).items()}


def _decoded(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _hint(exc: BaseException) -> str:
    if isinstance(exc, ServiceBusAuthenticationError | ServiceBusAuthorizationError):
        return " (check the shared access policy: it needs Listen and Send)"
    if isinstance(exc, ServiceBusConnectionError):
        return " (check the namespace in the connection string, and the network)"
    return ""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]

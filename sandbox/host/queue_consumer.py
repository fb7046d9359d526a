"""One Service Bus queue trigger: receive with peek-lock, call the function, settle.

Like the Functions host with ``autoCompleteMessages`` on: a function that returns completes
its message, one that raises abandons it, so the queue delivers it again (with a higher
DeliveryCount) until its max delivery count dead-letters it. At most
``maxConcurrentCalls`` messages are locked and running at once; the receive loop takes a
slot before it locks a message, so no message waits locked behind busy workers.

A ``cardinality="many"`` trigger (``batch_size`` set) gets a list of up to
``maxMessageBatchSize`` messages per call, as many as are there when the first arrives, one
batch at a time; the whole batch is completed when the function returns and abandoned when
it raises, as the host does with ``autoCompleteMessages``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

from .invoker import Invoker, discard_result
from .loader import FunctionEntry
from .servicebus import (
    QueueClient,
    ReceivedMessage,
    ServiceBusError,
    to_function_message,
    to_function_messages,
)

log = logging.getLogger(__name__)


class QueueConsumer:
    """Drives one ``serviceBusTrigger`` function from its queue."""

    def __init__(
        self,
        entry: FunctionEntry,
        invoker: Invoker,
        client: QueueClient,
        max_concurrent_calls: int,
        poll_seconds: float,
        *,
        batch_size: int | None = None,
    ) -> None:
        self.entry = entry
        self.batch_size = batch_size
        self._invoker = invoker
        self._client = client
        self._poll_seconds = poll_seconds
        self._max_calls = max_concurrent_calls
        self._slots = threading.Semaphore(max_concurrent_calls)
        self._stop = threading.Event()
        self._state = threading.Condition()
        self._in_flight = 0
        self._activity = 0
        self._polls = 0
        self._last_idle_poll = 0
        self._receive_failing = False
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the receive loop and its worker pool."""
        self._stop.clear()
        self._pool = ThreadPoolExecutor(
            self._max_calls, thread_name_prefix=f"servicebus-{self.entry.name}"
        )
        self._thread = threading.Thread(
            target=self._receive_loop, args=(self._pool,), name=f"servicebus-{self.entry.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop receiving, let running invocations finish and settle, close the client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._client.close()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until a receive begun after this call finds the queue empty, nothing running.

        Only a poll that starts after the call counts, so a message sent just before it is
        never missed. True when idle, False on timeout.
        """
        with self._state:
            since = self._polls
            return self._state.wait_for(lambda: self._last_idle_poll > since, timeout)

    def _receive_loop(self, pool: ThreadPoolExecutor) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=self._poll_seconds):
                continue
            with self._state:
                self._polls += 1
                poll, activity, in_flight = self._polls, self._activity, self._in_flight
            message = self._receive()
            if message is None:
                self._slots.release()
                with self._state:
                    quiet = in_flight == 0 and self._in_flight == 0 and self._activity == activity
                    if quiet and not self._receive_failing:
                        self._last_idle_poll = poll
                        self._state.notify_all()
                self._stop.wait(self._poll_seconds)
                continue
            with self._state:
                self._in_flight += 1
                self._activity += 1
            batch = [message]
            while len(batch) < (self.batch_size or 1) and (more := self._receive()) is not None:
                batch.append(more)
            pool.submit(self._process, batch)

    def _receive(self) -> ReceivedMessage | None:
        try:
            message = self._client.receive()
        except (requests.RequestException, ServiceBusError, ValueError) as exc:
            # One warning per outage, not one per poll.
            if not self._receive_failing:
                log.warning("receive from queue '%s' failed: %s", self._client.queue, exc)
            self._receive_failing = True
            return None
        if self._receive_failing:
            log.info("receiving from queue '%s' again", self._client.queue)
            self._receive_failing = False
        return message

    def _process(self, messages: list[ReceivedMessage]) -> None:
        """Invoke the function with ``messages`` (one, or a batch for a ``many`` trigger) and
        settle them all by its outcome, as the host does."""
        try:
            try:
                argument: object = (
                    to_function_message(messages[0]) if self.batch_size is None
                    else to_function_messages(messages)
                )
            except (ValueError, TypeError):
                log.exception(
                    "%d message(s) on '%s' cannot be converted for the function",
                    len(messages), self._client.queue,
                )
                self._settle_all(self._client.abandon, "abandon", messages)
                return
            try:
                self._invoker.invoke(self.entry, argument, discard_result)
            except Exception:
                self._settle_all(self._client.abandon, "abandon", messages)
            else:
                self._settle_all(self._client.complete, "complete", messages)
        finally:
            with self._state:
                self._in_flight -= 1
                self._activity += 1
                self._state.notify_all()
            self._slots.release()

    def _settle_all(
        self,
        settle: Callable[[ReceivedMessage], bool],
        action: str,
        messages: list[ReceivedMessage],
    ) -> None:
        for message in messages:
            self._settle(settle, action, message)

    def _settle(
        self, settle: Callable[[ReceivedMessage], bool], action: str, message: ReceivedMessage
    ) -> None:
        try:
            if not settle(message):
                log.warning(
                    "could not %s message %s on '%s': its lock was lost",
                    action, message.message_id, self._client.queue,
                )
        except (requests.RequestException, ServiceBusError) as exc:
            log.warning(
                "could not %s message %s on '%s': %s",
                action, message.message_id, self._client.queue, exc,
            )

"""Putting a queued event back for later, instead of abandoning it into an immediate retry.

A message the queue trigger could not process (Dataverse throttling, a registry down) is
sent again to the same queue with a scheduled enqueue time, and the delivery in hand is
completed. An abandoned message would come back at once, draw the same refusal, and after
the queue's max delivery count land in the dead-letter queue: a 300 s ``Retry-After`` would
burn ten deliveries in a second.

Why a scheduled re-send and not deferral: the Python worker's Service Bus trigger completes
a message when the function returns and abandons it when it raises (``autoCompleteMessages``);
it cannot defer, and a deferred message can only be received again by its sequence number,
which no trigger does. Sending is something the function can do itself, with the Service
Bus REST API and the key of the trigger's own connection (``ServiceBusConnection``, which the
deployment gives Listen and Send rights).

The re-sent message carries the body, content type and correlation id, Dataverse's
``MessageMaxSizeExceeded`` marker, and the number of deliveries so far in the application
property ``MP-Delivery-Count`` (the broker's DeliveryCount starts again at 1 for the new
message). Dataverse's claim-URI properties are not valid HTTP header names and are not
carried; the pipeline reads nothing from them but the organisation's host, for the log.

Throttled messages are always put back, for when Dataverse said it will accept requests
again, so throttling never dead-letters. Other technical failures are put back with a
growing delay until ``max_deliveries``; after that the message is settled with an error log
and the registration, still Received, is left to the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from plugins.core.events import SIZE_EXCEEDED_PROPERTY
from plugins.servicebus.sender import TopicSender, from_connection_string

log = logging.getLogger(__name__)

DELIVERY_COUNT_PROPERTY = "MP-Delivery-Count"
# Dataverse's Retry-After is whole seconds; a little more lets the window really reopen.
THROTTLE_MARGIN_SECONDS = 1.0
FIRST_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 600.0


@dataclass(frozen=True)
class Delivery:
    """What the trigger received, as plain values."""

    body: bytes
    content_type: str | None
    message_id: str
    correlation_id: str | None
    application_properties: Mapping[str, Any]
    delivery_count: int

    @property
    def deliveries(self) -> int:
        """Deliveries of this event so far, earlier re-sent messages included."""
        for name, value in self.application_properties.items():
            if _text(name).lower() == DELIVERY_COUNT_PROPERTY.lower():
                try:
                    return int(_text(value).strip('"')) + max(self.delivery_count, 1)
                except ValueError:
                    break
        return max(self.delivery_count, 1)


def retry_delay(retry_after: float | None, deliveries: int) -> float:
    """Seconds until the event is tried again: Dataverse's wait when it throttled, otherwise
    5 s doubling per delivery, at most 10 minutes."""
    if retry_after is not None:
        return retry_after + THROTTLE_MARGIN_SECONDS
    return min(FIRST_DELAY_SECONDS * 2 ** max(deliveries - 1, 0), MAX_DELAY_SECONDS)


class Rescheduler:
    """Re-sends deliveries to the queue they came from, for later."""

    def __init__(self, sender: TopicSender, max_deliveries: int) -> None:
        self._sender = sender
        self.max_deliveries = max_deliveries

    @classmethod
    def for_queue(
        cls, connection_string: str, queue: str, max_deliveries: int
    ) -> Rescheduler:
        """A rescheduler on ``queue`` of the namespace ``connection_string`` names."""
        return cls(from_connection_string(connection_string, queue), max_deliveries)

    def close(self) -> None:
        """Close the sender's connections."""
        self._sender.close()

    def put_back(self, delivery: Delivery, retry_after: float | None) -> bool:
        """Send the event again for later; False when it has failed too often (not sent).

        Raises :class:`SendError` when the queue cannot be reached (the trigger then lets
        the host abandon the delivery, the one path left).
        """
        deliveries = delivery.deliveries
        if retry_after is None and deliveries >= self.max_deliveries:
            return False
        delay = retry_delay(retry_after, deliveries)
        properties: dict[str, str | int | bool] = {DELIVERY_COUNT_PROPERTY: deliveries}
        if any(SIZE_EXCEEDED_PROPERTY in _text(name) for name in delivery.application_properties):
            properties[SIZE_EXCEEDED_PROPERTY] = True
        self._sender.send_bytes(
            delivery.body,
            content_type=delivery.content_type,
            message_id=f"{delivery.message_id}.{deliveries}",
            correlation_id=delivery.correlation_id,
            scheduled_enqueue_time=datetime.now(UTC) + timedelta(seconds=delay),
            properties=properties,
        )
        log.info("event %s put back for %.0f s (delivery %d)", delivery.message_id, delay,
                 deliveries)
        return True


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


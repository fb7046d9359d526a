"""The namespace's HTTP API, modelled on the Azure Service Bus REST API.

Routes (under ``/servicebus/``; queues are created on first use):

- ``GET /servicebus/`` -> 200, JSON list of ``{"name", "activeMessageCount",
  "deadLetterMessageCount", "maxDeliveryCount", "lockDurationSeconds"}``.
- ``POST <queue>/messages`` -> 201, send. Body = message body; ``Content-Type`` kept;
  ``BrokerProperties`` header (JSON: ``MessageId``, ``CorrelationId``, ``Label``,
  ``TimeToLive`` seconds, ``ScheduledEnqueueTimeUtc`` as an RFC 1123 date); application
  properties as one JSON object in ``X-Application-Properties`` (Dataverse's property names
  are claim URIs, which are not valid HTTP header names) and, as Azure takes them, one header
  per property whose value is a JSON string, number or boolean (``MP-Delivery-Count: 3``).
- ``POST <queue>/messages/head?timeout=<seconds>`` -> peek-lock receive, long-polling up to
  ``timeout`` (default 0): 204 when nothing arrived, else 201 with the body, its
  ``Content-Type``, ``BrokerProperties`` (``MessageId``, ``CorrelationId`` and ``Label``
  (``null`` when not set), ``LockToken``, ``SequenceNumber``, ``DeliveryCount``,
  ``EnqueuedTimeUtc`` and ``LockedUntilUtc`` as RFC 1123 dates like Azure's, ``State``,
  ``TimeToLive`` when set),
  ``X-Application-Properties`` and ``Location`` (the message's lock URL).
- ``DELETE <queue>/messages/<sequence>/<locktoken>`` -> 200 complete.
- ``PUT <queue>/messages/<sequence>/<locktoken>`` -> 200 abandon (unlock).
- ``POST <queue>/messages/<sequence>/<locktoken>/deadletter`` with JSON
  ``{"reason": ..., "description": ...}`` -> 200 explicit dead-letter.
- ``GET <queue>/$deadletterqueue/messages`` -> 200, JSON list of dead letters
  (see :func:`dead_letter_json`); ``POST <queue>/$deadletterqueue/messages/head`` and the
  complete/abandon URLs work on the dead-letter queue as on the queue itself.

A lock that is unknown or expired answers 410 (Azure's lock-lost). Errors carry Azure's XML
body ``<Error><Code>..</Code><Detail>..</Detail></Error>``.
"""

from __future__ import annotations

import base64
import json
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from .queue import LockLostError, Message, Queue

if TYPE_CHECKING:
    from .namespace import Namespace

MOUNT_PATH = "/servicebus/"
DEAD_LETTER_SEGMENT = "$deadletterqueue"


class _HttpError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def handle(namespace: Namespace, request: Request) -> Response:
    """Answer one request under the namespace's mount path."""
    try:
        return _route(namespace, request)
    except _HttpError as exc:
        return _error(exc.status, exc.detail)
    except LockLostError as exc:
        return _error(410, str(exc))


def _route(namespace: Namespace, request: Request) -> Response:
    path = request.path[len(MOUNT_PATH) :].strip("/")
    if not path:
        _allow(request, "GET")
        return _json([_queue_json(q) for q in namespace.queues()])
    segments = path.split("/")
    try:
        queue = namespace.queue(segments[0])
    except ValueError as exc:
        raise _HttpError(400, str(exc)) from exc
    rest = segments[1:]
    dead_letters = bool(rest) and rest[0].lower() == DEAD_LETTER_SEGMENT
    if dead_letters and queue.dead_letter_queue is not None:
        queue = queue.dead_letter_queue
        rest = rest[1:]
    if not rest or rest[0] != "messages":
        raise _HttpError(404, f"No resource at '{request.path}'.")
    rest = rest[1:]
    if not rest:
        if dead_letters:
            _allow(request, "GET")
            return _json([dead_letter_json(m) for m in queue.peek_all()])
        _allow(request, "POST")
        return _send(queue, request)
    if rest == ["head"]:
        _allow(request, "POST")
        return _receive(queue, request)
    if len(rest) == 2:
        return _settle(queue, request, _sequence(rest[0]), rest[1])
    if len(rest) == 3 and rest[2] == "deadletter" and not dead_letters:
        _allow(request, "POST")
        reason, description = _dead_letter_body(request)
        queue.dead_letter(_sequence(rest[0]), rest[1], reason, description)
        return Response(status=200)
    raise _HttpError(404, f"No resource at '{request.path}'.")


def _send(queue: Queue, request: Request) -> Response:
    broker = _json_header(request, "BrokerProperties")
    ttl = broker.get("TimeToLive")
    if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0):
        raise _HttpError(400, "BrokerProperties.TimeToLive must be a positive number of seconds.")
    scheduled = _optional_text(broker, "ScheduledEnqueueTimeUtc")
    try:
        scheduled_at = parsedate_to_datetime(scheduled) if scheduled else None
    except (TypeError, ValueError) as exc:
        raise _HttpError(
            400, "BrokerProperties.ScheduledEnqueueTimeUtc must be an RFC 1123 date."
        ) from exc
    queue.send(
        request.get_data(),
        content_type=request.headers.get("Content-Type"),
        application_properties={
            **_header_properties(request),
            **_json_header(request, "X-Application-Properties"),
        },
        message_id=_optional_text(broker, "MessageId"),
        correlation_id=_optional_text(broker, "CorrelationId"),
        label=_optional_text(broker, "Label"),
        time_to_live=ttl,
        scheduled_enqueue_time_utc=scheduled_at,
    )
    return Response(status=201)


# Headers of the request itself; any other header with a JSON scalar value is a property.
_REQUEST_HEADERS = frozenset({
    "accept", "accept-encoding", "authorization", "brokerproperties", "connection",
    "content-length", "content-type", "expect", "host", "transfer-encoding", "user-agent",
    "x-application-properties",
})


def _header_properties(request: Request) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, raw in request.headers.items():
        if name.lower() in _REQUEST_HEADERS:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, str | int | float | bool):
            properties[name] = value
    return properties


def _receive(queue: Queue, request: Request) -> Response:
    raw = request.args.get("timeout", "0")
    try:
        timeout = float(raw)
    except ValueError as exc:
        raise _HttpError(400, f"The timeout '{raw}' is not a number of seconds.") from exc
    if timeout < 0:
        raise _HttpError(400, "The timeout must not be negative.")
    message = queue.receive(timeout)
    if message is None:
        return Response(status=204)
    response = Response(message.body, status=201)
    if message.content_type:
        response.headers["Content-Type"] = message.content_type
    else:
        del response.headers["Content-Type"]
    response.headers["BrokerProperties"] = json.dumps(broker_properties(message))
    response.headers["X-Application-Properties"] = json.dumps(message.application_properties)
    response.headers["Location"] = (
        f"{request.base_url.rsplit('/head', 1)[0]}/{message.sequence_number}/"
        f"{message.lock_token}"
    )
    return response


def _settle(queue: Queue, request: Request, sequence: int, lock_token: str) -> Response:
    if request.method == "DELETE":
        queue.complete(sequence, lock_token)
    elif request.method == "PUT":
        queue.abandon(sequence, lock_token)
    else:
        raise _HttpError(405, f"The method '{request.method}' is not allowed here.")
    return Response(status=200)


def broker_properties(message: Message) -> dict[str, Any]:
    """The ``BrokerProperties`` of a received message, in the REST API's form."""
    properties: dict[str, Any] = {
        "CorrelationId": message.correlation_id,
        "DeliveryCount": message.delivery_count,
        "EnqueuedSequenceNumber": message.sequence_number,
        "EnqueuedTimeUtc": format_datetime(message.enqueued_time_utc, usegmt=True),
        "Label": message.label,
        "MessageId": message.message_id,
        "SequenceNumber": message.sequence_number,
        "State": "Active",
    }
    if message.scheduled_enqueue_time_utc is not None:
        properties["ScheduledEnqueueTimeUtc"] = format_datetime(
            message.scheduled_enqueue_time_utc, usegmt=True
        )
    if message.lock_token is not None and message.locked_until_utc is not None:
        properties["LockToken"] = message.lock_token
        properties["LockedUntilUtc"] = format_datetime(message.locked_until_utc, usegmt=True)
    if message.time_to_live is not None:
        properties["TimeToLive"] = message.time_to_live
    return properties


def dead_letter_json(message: Message) -> dict[str, Any]:
    """One dead letter as listed by ``GET <queue>/$deadletterqueue/messages``.

    ``body`` is the UTF-8 text of the body; a body that is not UTF-8 comes as ``bodyBase64``.
    """
    item: dict[str, Any] = {
        "sequenceNumber": message.sequence_number,
        "messageId": message.message_id,
        "correlationId": message.correlation_id,
        "label": message.label,
        "contentType": message.content_type,
        "enqueuedTimeUtc": message.enqueued_time_utc.isoformat().replace("+00:00", "Z"),
        "deliveryCount": message.delivery_count,
        "deadLetterReason": message.dead_letter_reason,
        "deadLetterErrorDescription": message.dead_letter_description,
        "applicationProperties": message.application_properties,
    }
    try:
        item["body"] = message.body.decode("utf-8")
    except UnicodeDecodeError:
        item["bodyBase64"] = base64.b64encode(message.body).decode("ascii")
    return item


def _queue_json(queue: Queue) -> dict[str, Any]:
    dead_letter_queue = queue.dead_letter_queue
    return {
        "name": queue.name,
        "activeMessageCount": queue.active_count(),
        "deadLetterMessageCount": dead_letter_queue.active_count() if dead_letter_queue else 0,
        "maxDeliveryCount": queue.max_delivery_count,
        "lockDurationSeconds": queue.lock_duration,
    }


def _dead_letter_body(request: Request) -> tuple[str, str]:
    raw = request.get_data()
    try:
        body = json.loads(raw) if raw else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _HttpError(400, "The dead-letter body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise _HttpError(400, "The dead-letter body must be a JSON object.")
    reason = body.get("reason") or "DeadLetteredByReceiver"
    description = body.get("description") or ""
    if not isinstance(reason, str) or not isinstance(description, str):
        raise _HttpError(400, "'reason' and 'description' must be strings.")
    return reason, description


def _json_header(request: Request, name: str) -> dict[str, Any]:
    raw = request.headers.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _HttpError(400, f"The {name} header is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise _HttpError(400, f"The {name} header must be a JSON object.")
    return value


def _optional_text(properties: dict[str, Any], name: str) -> str | None:
    value = properties.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _HttpError(400, f"BrokerProperties.{name} must be a string.")
    return value


def _sequence(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise _HttpError(400, f"'{text}' is not a sequence number.") from exc


def _allow(request: Request, method: str) -> None:
    if request.method != method:
        raise _HttpError(405, f"The method '{request.method}' is not allowed here.")


def _json(body: Any) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/json")


def _error(status: int, detail: str) -> Response:
    xml = f"<Error><Code>{status}</Code><Detail>{escape(detail)}</Detail></Error>"
    return Response(xml, status=status, content_type="application/xml; charset=utf-8")

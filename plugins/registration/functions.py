"""The registration pipeline's triggers: a webhook, a Service Bus queue and the sweep timer.

Each trigger parses what it was given, hands the event to the dispatcher
(:mod:`plugins.dispatch`: the registration table's events go to
:class:`RegistrationService`, the tables the event-started lifecycle messages watch to
:class:`~plugins.sync.follow_ups.FollowUps`, since every step is registered on this one
endpoint) and maps the outcome onto what its transport understands:

- webhook (``POST /api/registration/events``, function key): 200 when handled, skipped or
  settled (a registration that no longer exists), 400 for a body that is not a Dataverse
  event (with the reason), 413 for a body larger than Dataverse ever sends (checked before
  it is parsed), 503 for a technical failure (Dataverse retries once; the sweep catches the rest)
  and 503 with a JSON body naming the setting when a setting the pipeline reads is bad;
- Service Bus queue ``%REGISTRATION_QUEUE%`` (connection ``ServiceBusConnection``), in
  batches of up to host.json's ``maxMessageBatchSize`` (decided together, see
  :mod:`plugins.registration.batches`; the host completes the batch when the function
  returns, so each message is settled by what the function does with it): a technical
  failure of one event puts that event back on the queue for later (after Dataverse's
  ``Retry-After`` when it throttled; see :mod:`plugins.registration.redelivery`) and settles
  the delivery; only when the queue cannot be written to, or a setting the pipeline reads is
  bad, does the function raise, so the host abandons the messages; a message that is not a
  Dataverse event, or one for a registration that is gone, is settled with a log line;
- timer ``%REGISTRATION_SWEEP_SCHEDULE%``: the sweep of registrations left Received.

The services are built once per process, on first use, by
:mod:`plugins.registration.runtime`; this module imports it (and the event parser) on the
first invocation (:class:`plugins.core.lazy.LazyModule`), so a cold start pays only for
``azure.functions``.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

from plugins.core.body_limits import WEBHOOK_MAX_BYTES, body_too_large
from plugins.core.lazy import LazyModule

from .errors import TransientFailure

dispatch = LazyModule("plugins.dispatch")
events = LazyModule("plugins.core.events")
redelivery = LazyModule("plugins.registration.redelivery")
runtime = LazyModule("plugins.registration.runtime")
sender = LazyModule("plugins.servicebus.sender")
settings_groups = LazyModule("plugins.core.settings_groups")

log = logging.getLogger(__name__)

blueprint = func.Blueprint()
CONNECTION_SETTING = "ServiceBusConnection"


@blueprint.route(
    route="registration/events", methods=["POST"], auth_level=func.AuthLevel.FUNCTION
)
def registration_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Dataverse's webhook: registrations created and changed, and the follow-ups' events."""
    body = req.get_body()
    if body_too_large(req.headers, len(body), WEBHOOK_MAX_BYTES):
        log.warning("registration webhook: body of %d bytes refused (413)", len(body))
        return func.HttpResponse(
            f"The body is larger than {WEBHOOK_MAX_BYTES // 1024} KB; Dataverse sends at most "
            "256 KB.",
            status_code=413,
        )
    try:
        event = events.parse_webhook(body, req.headers)
    except events.EventParseError as exc:
        log.warning("registration webhook: not a Dataverse event: %s", exc)
        return func.HttpResponse(str(exc), status_code=400)
    try:
        outcome = runtime.dispatcher().handle(event)
    except settings_groups.SettingsError as exc:
        body = json.dumps({"error": "configuration", **exc.as_dict()})
        return func.HttpResponse(body, status_code=503, mimetype="application/json")
    except dispatch.RETRYABLE:
        return func.HttpResponse("Try again later.", status_code=503)
    body = outcome.model_dump_json(include={"registration_id", "result", "status", "reason"})
    return func.HttpResponse(body, status_code=200, mimetype="application/json")


@blueprint.service_bus_queue_trigger(
    arg_name="messages", queue_name="%REGISTRATION_QUEUE%", connection=CONNECTION_SETTING,
    cardinality=func.Cardinality.MANY,
)
def registration_queue(messages: list[func.ServiceBusMessage]) -> None:
    """Dataverse's Service Bus messages, in batches: the same events as the webhook's."""
    received: list[tuple[func.ServiceBusMessage, events.DataverseEvent]] = []
    for msg in messages:
        try:
            received.append(
                (msg, events.parse_servicebus(msg.get_body(), msg.application_properties))
            )
        except events.EventParseError as exc:
            log.error("registration queue: message %s is not a Dataverse event, settled: %s",
                      msg.message_id, exc)
    if not received:
        return
    results = runtime.dispatcher().handle_batch([event for _, event in received])
    failures = [
        (msg, result) for (msg, _), result in zip(received, results, strict=True)
        if isinstance(result, Exception)
    ]
    unsent: list[Exception] = []
    for msg, failure in failures:
        try:
            _put_back(msg, failure)
        except dispatch.RETRYABLE as exc:
            unsent.append(exc)
    if unsent:
        # Abandoning the batch is the one way left to have these come again; the others
        # were decided and will find nothing to do.
        raise unsent[0]


def _put_back(msg: func.ServiceBusMessage, failure: Exception) -> None:
    """Send the event again for later and let this delivery complete; re-raise ``failure``
    (the host abandons the message) when that is not possible."""
    rescheduler = runtime.rescheduler()
    if rescheduler is None:
        raise failure
    delivery = redelivery.Delivery(
        body=msg.get_body(),
        content_type=msg.content_type,
        message_id=msg.message_id or "",
        correlation_id=msg.correlation_id,
        application_properties=msg.application_properties or {},
        delivery_count=msg.delivery_count or 1,
    )
    retry_after = failure.retry_after if isinstance(failure, TransientFailure) else None
    try:
        sent = rescheduler.put_back(delivery, retry_after)
    except sender.SendError as exc:
        log.error("registration queue: message %s could not be put back: %s", msg.message_id,
                  exc)
        raise failure from exc
    if not sent:
        log.error("registration queue: message %s failed %d times, settled; the sweep takes "
                  "the registration on: %s", msg.message_id, delivery.deliveries, failure)


@blueprint.timer_trigger(arg_name="timer", schedule="%REGISTRATION_SWEEP_SCHEDULE%")
def registration_sweep(timer: func.TimerRequest) -> None:
    """Process again the registrations a technical error left Received."""
    runtime.dispatcher().registration.sweep()

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

The client and the registry adapters are built once per process, on first use, from the
registration plugin's settings groups only (:mod:`plugins.core.settings_groups`); the
follow-ups' ``SYNC__*`` settings are optional: when they are bad, registrations go on
without follow-ups.
"""

from __future__ import annotations

import json
import logging
import os
import threading

import azure.functions as func

from plugins.core.body_limits import WEBHOOK_MAX_BYTES, body_too_large
from plugins.core.events import (
    DataverseEvent,
    EventParseError,
    parse_servicebus,
    parse_webhook,
)
from plugins.core.settings import Settings
from plugins.core.settings_groups import (
    PLUGIN_GROUPS,
    SettingsError,
    group_environment,
    load_group,
    load_plugin,
)
from plugins.dataverse.client import DataverseClient
from plugins.dispatch import RETRYABLE, EventDispatcher
from plugins.registries.factory import build_adapters
from plugins.servicebus.sender import SendError
from plugins.sync.jobs import ConfigurationError, SyncJobs, build_follow_ups

from .errors import TransientFailure
from .redelivery import Delivery, Rescheduler
from .registry_facts import Registries
from .service import RegistrationService

log = logging.getLogger(__name__)

blueprint = func.Blueprint()
CONNECTION_SETTING = "ServiceBusConnection"


class _Runtime:
    """The process's services, built on first use.

    It is built again only when the app settings the product reads have changed: in Azure
    that is never, while a local host started again in the same process with other settings
    (tests, the demo) gets a client for its own environment.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._environment: dict[str, str] = {}
        self._dispatcher: EventDispatcher | None = None
        self._rescheduler: Rescheduler | None = None

    def dispatcher(self) -> EventDispatcher:
        """The dispatcher (and its services) for the current settings."""
        return self._current()[0]

    def rescheduler(self) -> Rescheduler | None:
        """What puts queued events back for later (None: no key to send with)."""
        return self._current()[1]

    def _current(self) -> tuple[EventDispatcher, Rescheduler | None]:
        environment = _settings_environment()
        with self._lock:
            if self._dispatcher is None or environment != self._environment:
                settings = _settings()
                previous = (self._dispatcher, self._rescheduler)
                self._dispatcher = _build(settings)
                self._rescheduler = _rescheduler(settings)
                self._environment = environment
                for part in previous:
                    if part is not None:
                        part.close()
            return self._dispatcher, self._rescheduler


def _settings_environment() -> dict[str, str]:
    """The app settings the pipeline reads (its groups and the follow-ups'), and the
    trigger's Service Bus connection."""
    found: dict[str, str] = {}
    for group in (*PLUGIN_GROUPS["registration"], "sync"):
        found.update(group_environment(group))
    found.update((name, value) for name, value in os.environ.items()
                 if name.upper().startswith(CONNECTION_SETTING.upper()))
    return found


def _settings() -> Settings:
    settings = load_plugin("registration")
    try:
        sync = load_group("sync")
    except SettingsError:
        # Logged by the loader; registrations go on without the follow-ups.
        return settings
    return settings.model_copy(update={"sync": sync})


def _rescheduler(settings: Settings) -> Rescheduler | None:
    connection = os.environ.get(CONNECTION_SETTING, "")
    try:
        return Rescheduler.for_queue(
            connection, settings.registration.queue, settings.registration.max_deliveries
        )
    except ValueError:
        # An identity-based connection has no key for the REST API: failures are abandoned.
        log.warning("registration queue: %s has no shared access key; failed events are "
                    "abandoned for redelivery instead of put back for later", CONNECTION_SETTING)
        return None


def _build(settings: Settings) -> EventDispatcher:
    registries = Registries.from_adapters(
        build_adapters(settings.registries), settings.registration
    )
    tagged = settings.dataverse.model_copy(update={"write_tag": settings.registration.write_tag})
    key = settings.sync.tombstone_key
    registration = RegistrationService(
        DataverseClient(tagged),
        settings.registration,
        settings.schema_map,
        registries=registries,
        tombstone_key=key.get_secret_value() if key else None,
    )
    try:
        follow_ups = build_follow_ups(settings, registration.client)
    except ConfigurationError as exc:
        # A broken follow-up setting must not stop registrations; the follow-ups wait.
        log.error("follow-ups are off until their settings are fixed: %s", exc)
        follow_ups = None
    erasure = None
    if settings.sync.erasure.enabled:
        try:
            erasure = SyncJobs(settings, registration.client).erasure_requests()
        except ConfigurationError as exc:
            log.error("erasure requests are off until their settings are fixed: %s", exc)
    if follow_ups is None:
        return EventDispatcher(registration, erasure=erasure)
    return EventDispatcher(registration, *follow_ups, erasure=erasure)


_runtime = _Runtime()


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
        event = parse_webhook(body, req.headers)
    except EventParseError as exc:
        log.warning("registration webhook: not a Dataverse event: %s", exc)
        return func.HttpResponse(str(exc), status_code=400)
    try:
        outcome = _runtime.dispatcher().handle(event)
    except SettingsError as exc:
        body = json.dumps({"error": "configuration", **exc.as_dict()})
        return func.HttpResponse(body, status_code=503, mimetype="application/json")
    except RETRYABLE:
        return func.HttpResponse("Try again later.", status_code=503)
    body = outcome.model_dump_json(include={"registration_id", "result", "status", "reason"})
    return func.HttpResponse(body, status_code=200, mimetype="application/json")


@blueprint.service_bus_queue_trigger(
    arg_name="messages", queue_name="%REGISTRATION_QUEUE%", connection=CONNECTION_SETTING,
    cardinality=func.Cardinality.MANY,
)
def registration_queue(messages: list[func.ServiceBusMessage]) -> None:
    """Dataverse's Service Bus messages, in batches: the same events as the webhook's."""
    received: list[tuple[func.ServiceBusMessage, DataverseEvent]] = []
    for msg in messages:
        try:
            received.append((msg, parse_servicebus(msg.get_body(), msg.application_properties)))
        except EventParseError as exc:
            log.error("registration queue: message %s is not a Dataverse event, settled: %s",
                      msg.message_id, exc)
    if not received:
        return
    results = _runtime.dispatcher().handle_batch([event for _, event in received])
    failures = [
        (msg, result) for (msg, _), result in zip(received, results, strict=True)
        if isinstance(result, Exception)
    ]
    unsent: list[Exception] = []
    for msg, failure in failures:
        try:
            _put_back(msg, failure)
        except RETRYABLE as exc:
            unsent.append(exc)
    if unsent:
        # Abandoning the batch is the one way left to have these come again; the others
        # were decided and will find nothing to do.
        raise unsent[0]


def _put_back(msg: func.ServiceBusMessage, failure: Exception) -> None:
    """Send the event again for later and let this delivery complete; re-raise ``failure``
    (the host abandons the message) when that is not possible."""
    rescheduler = _runtime.rescheduler()
    if rescheduler is None:
        raise failure
    delivery = Delivery(
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
    except SendError as exc:
        log.error("registration queue: message %s could not be put back: %s", msg.message_id,
                  exc)
        raise failure from exc
    if not sent:
        log.error("registration queue: message %s failed %d times, settled; the sweep takes "
                  "the registration on: %s", msg.message_id, delivery.deliveries, failure)


@blueprint.timer_trigger(arg_name="timer", schedule="%REGISTRATION_SWEEP_SCHEDULE%")
def registration_sweep(timer: func.TimerRequest) -> None:
    """Process again the registrations a technical error left Received."""
    _runtime.dispatcher().registration.sweep()

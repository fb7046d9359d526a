"""The registration pipeline's services for its triggers, built once per process on first use.

The client and the registry adapters are built from the registration plugin's settings
groups only (:mod:`plugins.core.settings_groups`); the follow-ups' ``SYNC__*`` settings are
optional: when they are bad, registrations go on without follow-ups. The triggers in
:mod:`plugins.registration.functions` import this module on their first invocation
(:class:`plugins.core.lazy.LazyModule`), so a cold start does not pay for it.
"""

from __future__ import annotations

import logging
import os
import threading

from plugins.core.settings import Settings
from plugins.core.settings_groups import (
    PLUGIN_GROUPS,
    SettingsError,
    group_environment,
    load_group,
    load_plugin,
)
from plugins.dataverse.client import DataverseClient
from plugins.dispatch import EventDispatcher
from plugins.registries.factory import build_adapters
from plugins.sync.event_services import (
    ConfigurationError,
    build_erasure_requests,
    build_follow_ups,
)

from .functions import CONNECTION_SETTING
from .redelivery import Rescheduler
from .registry_facts import Registries
from .service import RegistrationService

log = logging.getLogger(__name__)


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
            erasure = build_erasure_requests(settings, registration.client)
        except ConfigurationError as exc:
            log.error("erasure requests are off until their settings are fixed: %s", exc)
    if follow_ups is None:
        return EventDispatcher(registration, erasure=erasure)
    return EventDispatcher(registration, *follow_ups, erasure=erasure)


_runtime = _Runtime()


def dispatcher() -> EventDispatcher:
    """The process's dispatcher for the current settings (built on first use)."""
    return _runtime.dispatcher()


def rescheduler() -> Rescheduler | None:
    """The process's rescheduler for the current settings (None: no key to send with)."""
    return _runtime.rescheduler()

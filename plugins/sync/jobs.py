"""The sync jobs built from settings, for the timers (and the admin CLI).

:class:`SyncJobs` opens one Dataverse client (and the registry adapter or Service Bus sender
a job needs) and closes them again; each job returns its report, or None when it is not
enabled in :class:`~plugins.core.settings.SyncSettings`. What the event triggers build
(follow-ups, erasure requests) is in :mod:`plugins.sync.event_services`.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from zoneinfo import ZoneInfo

from plugins.core.settings import Settings
from plugins.dataverse.client import DataverseClient
from plugins.registries.factory import build_adapters
from plugins.registries.ladok_feed import LadokFeedReader
from plugins.registries.models import RegistryName
from plugins.registries.protocol import RegistryAdapter

from .address_requests import AddressRequests
from .bounces import BounceScan
from .data_checks import DataChecks
from .degree_feed import DegreeFeed, DegreeFeedReport
from .delivery import Delivery
from .erasure_requests import ErasureRequests, ErasureRunReport
from .event_services import ConfigurationError, build_delivery, build_erasure_requests
from .graduates import GraduatesReport, NewGraduates
from .greetings import BirthdayGreetings
from .ledger import EventLedger
from .lifecycle import catch_up_window
from .repository import Checkpoints, Tombstones
from .service import CHECKPOINT as LIFECYCLE
from .service import LifecycleReport, LifecycleRun
from .upkeep import RegisterUpkeep, UpkeepReport


class SyncJobs:
    """Runs the sync jobs against the configured environment."""

    def __init__(self, settings: Settings, client: DataverseClient | None = None) -> None:
        self.settings = settings
        self.client = client or DataverseClient(settings.dataverse)
        self._owns_client = client is None
        self._key = (
            settings.sync.tombstone_key.get_secret_value() if settings.sync.tombstone_key else None
        )

    def __enter__(self) -> SyncJobs:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owns_client:
            self.client.close()

    def upkeep(self, now: datetime) -> UpkeepReport | None:
        """Register upkeep, when enabled."""
        upkeep = self.settings.sync.upkeep
        if not upkeep.enabled:
            return None
        registry = self._registry(RegistryName(upkeep.population_registry))
        try:
            schema = self.settings.schema_map
            return RegisterUpkeep(
                self.client, schema.contact, Tombstones(self.client, schema.tombstone),
                registry, upkeep, self._key,
            ).run(now)
        finally:
            registry.close()

    def erasure_requests(self) -> ErasureRequests:
        """The erasure requests service (see :func:`build_erasure_requests`)."""
        return build_erasure_requests(self.settings, self.client)

    def erasure(self, now: datetime) -> ErasureRunReport | None:
        """The erasure requests still waiting, when enabled."""
        settings = self.settings.sync.erasure
        if not settings.enabled:
            return None
        return self.erasure_requests().run(now, settings.max_requests_per_run)

    def graduates(self, now: datetime) -> GraduatesReport | None:
        """New graduates, when enabled."""
        graduates = self.settings.sync.graduates
        if not graduates.enabled:
            return None
        registry = self._registry(RegistryName(graduates.student_registry))
        schema = self.settings.schema_map
        try:
            return NewGraduates(
                self.client, schema.contact, Checkpoints(self.client, schema.checkpoint),
                Tombstones(self.client, schema.tombstone), registry, graduates, self._key,
            ).run(now)
        finally:
            registry.close()

    def degree_feed(self, now: datetime) -> DegreeFeedReport | None:
        """The Ladok degree feed, when enabled."""
        feed = self.settings.sync.degree_feed
        if not feed.enabled:
            return None
        registries = self.settings.registries
        if not registries.ladok.enabled:
            raise ConfigurationError("the degree feed reads Ladok: REGISTRIES__LADOK__ENABLED")
        reader = LadokFeedReader.from_settings(registries.ladok, registries.http)
        try:
            return DegreeFeed(
                self.client, self.settings.schema_map, reader, feed, self._key
            ).run(now)
        finally:
            reader.close()

    def lifecycle(self, now: datetime) -> LifecycleReport | None:
        """The lifecycle run, when enabled."""
        lifecycle = self.settings.sync.lifecycle
        if not lifecycle.enabled:
            return None
        schema = self.settings.schema_map
        delivery, sender = build_delivery(self.settings, self.client)
        try:
            self._outreach(now, delivery)
            return LifecycleRun(self.client, schema, lifecycle, delivery).run(now)
        finally:
            if sender is not None:
                sender.close()

    def _outreach(self, now: datetime, delivery: Delivery) -> None:
        """What the lifecycle run delivers besides the membership messages, recorded first:
        bounces marked (nothing goes to an address that failed since the last run), address
        requests, the day's data checks, birthday greetings the plans extend."""
        sync, schema = self.settings.sync, self.settings.schema_map
        lifecycle = sync.lifecycle
        checkpoints = Checkpoints(self.client, schema.checkpoint)
        BounceScan(self.client, schema, checkpoints).run(now)
        ledger = EventLedger(self.client, schema, lifecycle, delivery)
        zone = ZoneInfo(lifecycle.timezone)
        today = now.astimezone(zone).date()
        if sync.address_requests.enabled:
            AddressRequests(self.client, schema, sync.address_requests, ledger).run(today)
        if sync.data_check.enabled:
            DataChecks(self.client, schema, sync.data_check, lifecycle, ledger).run(today)
        if any(plan.birthdays for plan in lifecycle.plans.plans):
            last = checkpoints.read(LIFECYCLE).last_successful_run
            window = catch_up_window(
                last.astimezone(zone).date() if last else None, today, lifecycle.rules
            )
            BirthdayGreetings(self.client, schema, lifecycle, ledger).run(window)

    def _registry(self, name: RegistryName) -> RegistryAdapter:
        adapters = build_adapters(self.settings.registries)
        registry = adapters.pop(name, None)
        for other in adapters.values():
            other.close()
        if registry is None:
            raise ConfigurationError(f"registry '{name}' is not enabled (REGISTRIES__...)")
        return registry

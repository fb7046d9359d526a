"""The sync jobs built from settings, for the timers (and the admin CLI), and the
event-started lifecycle messages for the event triggers.

:class:`SyncJobs` opens one Dataverse client (and the registry adapter or Service Bus sender
a job needs) and closes them again; each job returns its report, or None when it is not
enabled in :class:`~plugins.core.settings.SyncSettings`. :func:`build_follow_ups` builds
:class:`~plugins.sync.follow_ups.FollowUps` on a client the caller keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import TracebackType
from zoneinfo import ZoneInfo

from plugins.core.settings import Settings
from plugins.dataverse.client import DataverseClient
from plugins.registries.factory import build_adapters
from plugins.registries.ladok_feed import LadokFeedReader
from plugins.registries.models import RegistryName
from plugins.registries.protocol import RegistryAdapter
from plugins.selfservice.signing import KeyRing
from plugins.servicebus.sender import TopicSender
from plugins.sms.acs import AcsSmsSender, SmsError

from .address_requests import AddressRequests
from .bounces import BounceScan
from .channels import ChannelDeliveries, LetterDelivery, SmsDelivery
from .data_checks import DataChecks
from .degree_feed import DegreeFeed, DegreeFeedReport
from .delivery import Delivery, EmailDelivery, TopicDelivery
from .erasure import Erasure
from .erasure_requests import ErasureRequests, ErasureRunReport
from .follow_ups import FollowUps
from .graduates import GraduatesReport, NewGraduates
from .greetings import BirthdayGreetings
from .ledger import EventLedger
from .lifecycle import catch_up_window
from .links import UpdateLinks
from .repository import Checkpoints, Tombstones
from .service import CHECKPOINT as LIFECYCLE
from .service import LifecycleReport, LifecycleRun
from .upkeep import RegisterUpkeep, UpkeepReport


class ConfigurationError(Exception):
    """A job is enabled but something it needs is not configured."""


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
        """The erasure requests service (ConfigurationError without a tombstone key: an
        erasure that leaves no tombstone would let the person come back)."""
        if not self._key:
            raise ConfigurationError("erasure needs SYNC__TOMBSTONE_KEY (32+ characters)")
        schema = self.settings.schema_map
        erasure = Erasure(self.client, schema, self._key, self.settings.sync.erasure.mode)
        return ErasureRequests(
            self.client, schema.erasure_request, erasure,
            self.settings.registration.national_id_country,
        )

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


def build_delivery(
    settings: Settings, client: DataverseClient
) -> tuple[Delivery, TopicSender | AcsSmsSender | None]:
    """The configured delivery, and the sender it uses (to close) if any.

    With ``delivery=email`` each event goes by its channel: e-mail from a Dataverse
    template, SMS through Azure Communication Services (when ``SYNC__SMS__ENDPOINT`` is
    set), a letter as a task for the office. A topic message carries every channel.
    """
    delivery = settings.sync.delivery
    schema = settings.schema_map
    if delivery.mode != "servicebus":
        links = build_links(settings, client, settings.sync.data_check.link_lifetime_days)
        email = EmailDelivery(
            client, schema.email, schema.template, schema.contact, delivery.templates, links
        )
        letters = settings.sync.address_requests
        post = LetterDelivery(client, schema, letters.letter_subjects, letters.letter_due_days)
        channels: dict[str, Delivery] = {"email": email, "post": post}
        sms, sender = build_sms(settings, client)
        if sms is not None:
            channels["sms"] = sms
        return ChannelDeliveries(channels), sender
    key = delivery.servicebus_key
    if not (delivery.servicebus_url and delivery.servicebus_key_name and key):
        raise ConfigurationError(
            "SYNC__DELIVERY__MODE=servicebus needs SERVICEBUS_URL, _KEY_NAME and _KEY"
        )
    sender = TopicSender(
        delivery.servicebus_url,
        delivery.servicebus_topic,
        delivery.servicebus_key_name,
        key.get_secret_value(),
        timeout_seconds=delivery.timeout_seconds,
    )
    return TopicDelivery(sender), sender


def build_follow_ups(
    settings: Settings, client: DataverseClient
) -> tuple[FollowUps, TopicSender | AcsSmsSender | None] | None:
    """The event-started messages on ``client``, or None when not enabled; the Service Bus
    sender comes along so that whoever keeps the service can close it."""
    rules = settings.sync.follow_ups
    if not rules.enabled:
        return None
    delivery, sender = build_delivery(settings, client)
    sync = settings.sync
    return FollowUps(client, settings.schema_map, sync.lifecycle, rules, delivery), sender


def build_sms(
    settings: Settings, client: DataverseClient
) -> tuple[SmsDelivery | None, AcsSmsSender | None]:
    """The SMS channel when ``SYNC__SMS__ENDPOINT`` is set, with update links when the
    self-service pages have link keys and a public URL."""
    sms = settings.sync.sms
    if not sms.endpoint:
        return None, None
    if not (sms.access_key and sms.sender):
        raise ConfigurationError("SYNC__SMS__ENDPOINT needs SYNC__SMS__ACCESS_KEY and _SENDER")
    sender = AcsSmsSender(
        sms.endpoint, sms.access_key.get_secret_value(), sms.sender,
        timeout_seconds=sms.timeout_seconds,
    )
    links = build_links(settings, client, sms.link_lifetime_days)
    delivery = SmsDelivery(
        sender, settings.schema_map, sms.texts, sms.country_code, links, (SmsError,)
    )
    return delivery, sender


def build_links(settings: Settings, client: DataverseClient, days: int) -> UpdateLinks | None:
    """Update links valid ``days``, when the self-service pages have link keys and a public
    URL (None otherwise: a message that needs a link then fails with the reason)."""
    pages = settings.selfservice
    if not (pages.link_keys and pages.public_base_url):
        return None
    return UpdateLinks(
        client, settings.schema_map,
        KeyRing.from_secrets(pages.link_keys, pages.link_key_id), pages.public_base_url,
        timedelta(days=days), pages.default_language, lambda: datetime.now(UTC),
    )

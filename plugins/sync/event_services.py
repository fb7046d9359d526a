"""The sync services that event triggers use besides the timers, built from settings: the
follow-ups with their delivery (e-mail, SMS, letters or a Service Bus topic) and the erasure
requests.

Kept apart from :mod:`plugins.sync.jobs` so that the registration pipeline, which builds
these on its first event, does not import every timer job.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plugins.core.settings import Settings
from plugins.dataverse.client import DataverseClient
from plugins.selfservice.signing import KeyRing
from plugins.servicebus.sender import TopicSender
from plugins.sms.acs import AcsSmsSender, SmsError

from .channels import ChannelDeliveries, LetterDelivery, SmsDelivery
from .delivery import Delivery, EmailDelivery, TopicDelivery
from .erasure import Erasure
from .erasure_requests import ErasureRequests
from .follow_ups import FollowUps
from .links import UpdateLinks


class ConfigurationError(Exception):
    """A job is enabled but something it needs is not configured."""


def build_erasure_requests(settings: Settings, client: DataverseClient) -> ErasureRequests:
    """The erasure requests service on ``client`` (ConfigurationError without a tombstone
    key: an erasure that leaves no tombstone would let the person come back)."""
    key = settings.sync.tombstone_key
    if key is None or not key.get_secret_value():
        raise ConfigurationError("erasure needs SYNC__TOMBSTONE_KEY (32+ characters)")
    schema = settings.schema_map
    erasure = Erasure(client, schema, key.get_secret_value(), settings.sync.erasure.mode)
    return ErasureRequests(
        client, schema.erasure_request, erasure, settings.registration.national_id_country
    )


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

"""The preferences and consent policy (pure): may this message go to this person?

"Ask, don't assume": the registration records which topics (newsletter,
events, mentoring, career, giving) and channels (e-mail, SMS, post) a person wants, and
their consent with time and source; these are on the contact. Every outgoing action is
checked here first, and the first rule that refuses gives the reason:

1. nobody who is deceased, has asked for no communication (unregistered), has emigrated, or
   whose contact is inactive is contacted;
2. the contact's own do-not flags: ``donotemail`` forbids e-mail, ``donotbulkemail`` also
   forbids mass e-mail (greetings, topic mailings), ``donotpostalmail`` post and
   ``donotphone`` text messages;
3. the channel must be one the person chose; a message on a topic also needs that topic
   chosen and a recorded consent. Messages about the membership itself (reminders, notices,
   onboarding) carry no topic;
4. post is never sent to a person whose address is protected (or whose protection the
   registry did not state): a letter reveals where they live to whoever handles it;
5. the person must be reachable on the channel (an e-mail address, a mobile number, an
   address); an e-mail address given on the public registration form counts only once its
   owner confirmed it (double opt-in: until then the contact's e-mail confirmation is
   Unconfirmed and only the confirmation message itself, sent by the pages, goes to it); an
   e-mail address that bounced (``mp_undeliverableemail``) does not count, and a person whose
   every address bounced is refused as ``email-undeliverable`` until they give another one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plugins.core.schema_map import ContactMap, PreferenceMap


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    POST = "post"


class Refusal(StrEnum):
    """Why an action was refused (written to the event as its reason)."""

    DECEASED = "deceased"
    NO_COMMUNICATION = "no-communication"
    EMIGRATED = "emigrated"
    INACTIVE = "inactive-contact"
    DO_NOT_EMAIL = "donotemail"
    DO_NOT_BULK_EMAIL = "donotbulkemail"
    DO_NOT_POSTAL_MAIL = "donotpostalmail"
    DO_NOT_PHONE = "donotphone"
    CHANNEL_NOT_CHOSEN = "channel-not-chosen"
    TOPIC_NOT_CHOSEN = "topic-not-chosen"
    NO_CONSENT = "no-consent"
    PROTECTED_ADDRESS = "protected-address"
    UNREACHABLE = "unreachable"
    EMAIL_UNCONFIRMED = "email-unconfirmed"
    EMAIL_UNDELIVERABLE = "email-undeliverable"


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the policy needs to know about a person. ``protected`` is true unless the
    registry said the address is unprotected."""

    person_id: str
    active: bool = True
    deceased: bool = False
    emigrated: bool = False
    no_communication: bool = False
    protected: bool = True
    do_not_email: bool = False
    do_not_bulk_email: bool = False
    do_not_postal_mail: bool = False
    do_not_phone: bool = False
    topics: frozenset[str] = frozenset()
    channels: frozenset[Channel] = frozenset()
    consented: bool = False
    has_email: bool = False
    has_mobile: bool = False
    has_address: bool = False
    email_unconfirmed: bool = False
    email_undeliverable: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """An outgoing message: its channel, its topic (None: about the membership itself) and
    whether it is a mass mailing."""

    channel: Channel
    topic: str | None = None
    bulk: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def reason(self) -> str:
        return "allowed" if self.refusal is None else str(self.refusal)


ALLOWED = Verdict()


def check(recipient: Recipient, action: Action) -> Verdict:
    """Allow ``action`` for ``recipient``, or refuse it with the first reason that applies."""
    for refusal in (
        _standing(recipient),
        _do_not(recipient, action),
        _consent(recipient, action),
        _address(recipient, action),
    ):
        if refusal is not None:
            return Verdict(refusal)
    return ALLOWED


def recipient_from_contact(
    row: Mapping[str, Any],
    columns: ContactMap,
    preferences: PreferenceMap,
) -> Recipient:
    """The recipient a contact row describes (columns named by the schema map)."""
    protection = row.get(columns.protection_level)
    address = row.get(columns.address_line1) and row.get(columns.postal_code)
    emails = [str(row[c]) for c in columns.emails if row.get(c)]
    deliverable = deliverable_emails(emails, row.get(columns.undeliverable_email))
    return Recipient(
        person_id=str(row[columns.id]),
        active=row.get(columns.state) in (None, 0),
        deceased=bool(row.get(columns.deceased)),
        emigrated=bool(row.get(columns.emigrated)),
        no_communication=bool(row.get(columns.no_communication)),
        protected=protection != columns.protection_values["none"],
        do_not_email=bool(row.get(columns.do_not_email)),
        do_not_bulk_email=bool(row.get(columns.do_not_bulk_email)),
        do_not_postal_mail=bool(row.get(columns.do_not_postal_mail)),
        do_not_phone=bool(row.get(columns.do_not_phone)),
        topics=recipient_topics(row, columns, preferences),
        channels=frozenset(
            Channel(c) for c in _chosen(row.get(columns.channels), preferences.channel_values)
        ),
        consented=bool(row.get(columns.consent_on)),
        has_email=bool(deliverable),
        has_mobile=bool(row.get(columns.mobile_phone)),
        has_address=bool(address),
        email_unconfirmed=row.get(columns.email_confirmation)
        == columns.email_confirmation_values["unconfirmed"],
        email_undeliverable=bool(emails) and not deliverable,
    )


def recipient_topics(
    row: Mapping[str, Any], columns: ContactMap, preferences: PreferenceMap
) -> frozenset[str]:
    """The topics a contact row says the person chose."""
    return _chosen(row.get(columns.topics), preferences.topic_values)


def deliverable_emails(emails: list[str], undeliverable: Any) -> list[str]:
    """The addresses that did not bounce (compared without regard to case or spaces)."""
    if not isinstance(undeliverable, str) or not undeliverable.strip():
        return emails
    bounced = undeliverable.strip().casefold()
    return [e for e in emails if e.strip().casefold() != bounced]


def contact_columns(columns: ContactMap) -> tuple[str, ...]:
    """The contact columns :func:`recipient_from_contact` reads (for ``$select``)."""
    return (
        columns.id,
        columns.state,
        columns.deceased,
        columns.emigrated,
        columns.no_communication,
        columns.protection_level,
        columns.do_not_email,
        columns.do_not_bulk_email,
        columns.do_not_postal_mail,
        columns.do_not_phone,
        columns.topics,
        columns.channels,
        columns.consent_on,
        *columns.emails,
        columns.undeliverable_email,
        columns.mobile_phone,
        columns.address_line1,
        columns.postal_code,
        columns.email_confirmation,
    )


def _standing(recipient: Recipient) -> Refusal | None:
    if recipient.deceased:
        return Refusal.DECEASED
    if recipient.no_communication:
        return Refusal.NO_COMMUNICATION
    if recipient.emigrated:
        return Refusal.EMIGRATED
    if not recipient.active:
        return Refusal.INACTIVE
    return None


def _do_not(recipient: Recipient, action: Action) -> Refusal | None:
    if action.channel is Channel.EMAIL:
        if recipient.do_not_email:
            return Refusal.DO_NOT_EMAIL
        if action.bulk and recipient.do_not_bulk_email:
            return Refusal.DO_NOT_BULK_EMAIL
    if action.channel is Channel.POST and recipient.do_not_postal_mail:
        return Refusal.DO_NOT_POSTAL_MAIL
    if action.channel is Channel.SMS and recipient.do_not_phone:
        return Refusal.DO_NOT_PHONE
    return None


def _consent(recipient: Recipient, action: Action) -> Refusal | None:
    if action.channel not in recipient.channels:
        return Refusal.CHANNEL_NOT_CHOSEN
    if action.topic is not None:
        if action.topic not in recipient.topics:
            return Refusal.TOPIC_NOT_CHOSEN
        if not recipient.consented:
            return Refusal.NO_CONSENT
    return None


def _address(recipient: Recipient, action: Action) -> Refusal | None:
    if action.channel is Channel.POST:
        if recipient.protected:
            return Refusal.PROTECTED_ADDRESS
        reachable = recipient.has_address
    elif action.channel is Channel.SMS:
        reachable = recipient.has_mobile
    elif recipient.email_undeliverable:
        return Refusal.EMAIL_UNDELIVERABLE
    else:
        if recipient.has_email and recipient.email_unconfirmed:
            return Refusal.EMAIL_UNCONFIRMED
        reachable = recipient.has_email
    return None if reachable else Refusal.UNREACHABLE


def _chosen(text: Any, values: Mapping[str, int]) -> frozenset[str]:
    """The names of the options selected in a multi-select value (``"100000000,100000002"``)."""
    if not isinstance(text, str) or not text.strip():
        return frozenset()
    numbers = {int(part) for part in text.split(",") if part.strip().lstrip("-").isdigit()}
    return frozenset(name for name, number in values.items() if number in numbers)

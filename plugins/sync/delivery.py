"""How a lifecycle message leaves: a Dataverse e-mail from a template, or a topic message.

Both deliveries are idempotent per event, so an event delivered by a run that crashed before
recording it is not delivered twice by the next run:

- :class:`EmailDelivery` creates the e-mail activity (outgoing, regarding the contact, the
  contact as its To party) from the template whose title the event's template name maps to,
  with the id derived from the event key (UUID v5) and ``If-None-Match: *``, and sends it
  with ``SendEmail`` (:mod:`plugins.dataverse.emails`). A second delivery finds the activity
  there and sends it only if it is still open (an earlier run created it but did not get to
  send it, or the mailbox failed to): Dataverse sends an e-mail at most once. A send that
  fails is reported and retried by the next run.
- :class:`TopicDelivery` puts a JSON message on the Service Bus topic with the event key as
  ``MessageId`` (duplicate detection on the topic drops a repeat). It carries ids and dates
  only; the marketing platform reads the person from Dataverse.

A template that does not exist fails that event only (reported with the event key); it is
not retried until someone looks at it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from plugins.core.schema_map import ContactMap, EmailMap, TemplateMap
from plugins.dataverse import odata
from plugins.dataverse.batch import BatchRequest
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.emails import EmailActivities, Message
from plugins.dataverse.errors import (
    BatchError,
    DataverseError,
    DuplicateRecordError,
    PreconditionFailedError,
)
from plugins.servicebus.sender import TopicSender

from .lifecycle import EventKind
from .links import UpdateLinks
from .policy import deliverable_emails
from .templates import contact_fields, link_fields, render

EMAIL_NAMESPACE = uuid.UUID("6f1c8a43-1b8e-5d4e-9a63-0c3d2f6f9e11")


@dataclass(frozen=True)
class PendingEvent:
    """A lifecycle event row waiting to be delivered."""

    id: str
    key: str
    person_id: str
    kind: EventKind
    period: str
    due: date
    template: str
    membership_id: str | None = None
    channel: str = "email"
    membership_type: str | None = None
    languages: tuple[str, ...] = ()
    """The languages to find the template in, in order (empty: any)."""


@dataclass(frozen=True)
class Delivered:
    """The outcome of one delivery: ``failure`` is None when it went out; ``retry`` says a
    failure was technical, so the event stays pending for the next run."""

    failure: str | None = None
    retry: bool = False


class Delivery(Protocol):
    """A way of sending lifecycle messages."""

    def contact_columns(self, events: list[PendingEvent]) -> frozenset[str]:
        """Contact columns the messages for ``events`` use."""
        ...

    def deliver(self, event: PendingEvent, contact: Mapping[str, Any]) -> Delivered:
        """Send the message for ``event`` to ``contact``."""
        ...


@dataclass(frozen=True)
class _Template:
    subject: str
    body: str


class EmailDelivery:
    """Dataverse e-mail activities from Dataverse e-mail templates."""

    def __init__(
        self,
        client: DataverseClient,
        email: EmailMap,
        templates: TemplateMap,
        contacts: ContactMap,
        titles: Mapping[str, str],
        links: UpdateLinks | None = None,
    ) -> None:
        self._client = client
        self._links = links
        self._emails = EmailActivities(client, email, contacts.entity_set)
        self._contacts = contacts
        self._templates = templates
        self._titles = dict(titles)
        self._cache: dict[str, dict[int | None, _Template]] = {}

    def title_of(self, template: str) -> str:
        """The Dataverse template title an event's template name maps to."""
        return self._titles.get(template, template)

    def contact_columns(self, events: list[PendingEvent]) -> frozenset[str]:
        found = (self._template(self.title_of(e.template), e.languages) for e in events)
        return contact_fields(*(text for t in found if t for text in (t.subject, t.body)))

    def deliver(self, event: PendingEvent, contact: Mapping[str, Any]) -> Delivered:
        title = self.title_of(event.template)
        template = self._template(title, event.languages)
        if template is None:
            return Delivered(f"template '{title}' not found")
        wanted = link_fields(template.subject, template.body)
        if wanted and self._links is None:
            return Delivered("no update link: SELFSERVICE__LINK_KEYS and PUBLIC_BASE_URL")
        language = event.languages[0] if event.languages else None
        issued = {
            name: self._links.new(event.person_id, language) for name in wanted if self._links
        }
        links = {name: url for name, (_, url) in issued.items()}
        message = Message(
            event.person_id,
            render(template.subject, contact, escape=False, links=links),
            render(template.body, contact, escape=True, links=links),
            self._address(contact),
        )
        email_id = str(uuid.uuid5(EMAIL_NAMESPACE, event.key))
        if issued and self._links is not None:
            rows = [row for row, _ in issued.values()]
            return self._deliver_with_links(email_id, message, self._links.entity_set, rows)
        try:
            if self._created(email_id, message) or self._emails.is_open(email_id):
                self._emails.send(email_id)
        except DataverseError as exc:
            return Delivered(f"sending failed: {type(exc).__name__}: {exc}", retry=True)
        return Delivered()

    def _deliver_with_links(
        self, email_id: str, message: Message, link_set: str, link_rows: list[dict[str, Any]]
    ) -> Delivered:
        """The link rows, the e-mail carrying them and its sending in one change set: a
        link exists only if its e-mail went. An e-mail an earlier delivery created (412)
        keeps its own links and is sent if still open."""
        batch = BatchRequest()
        changes = batch.changeset()
        for row in link_rows:
            changes.create(link_set, row)
        path = odata.entity_path(self._emails.entity_set, email_id)
        changes.upsert(path, self._emails.record(message), create_only=True)
        self._emails.send_in(changes, path)
        try:
            try:
                self._client.execute_batch(batch)
            except BatchError as exc:
                if not isinstance(exc.error, PreconditionFailedError):
                    raise
                if self._emails.is_open(email_id):
                    self._emails.send(email_id)
        except DataverseError as exc:
            return Delivered(f"sending failed: {type(exc).__name__}: {exc}", retry=True)
        return Delivered()

    def _address(self, contact: Mapping[str, Any]) -> str | None:
        """The address to use when the primary one bounced (None: Dataverse's choice)."""
        c = self._contacts
        emails = [str(contact[column]) for column in c.emails if contact.get(column)]
        usable = deliverable_emails(emails, contact.get(c.undeliverable_email))
        return usable[0] if usable and emails and usable[0] != emails[0] else None

    def _created(self, email_id: str, message: Message) -> bool:
        """Create the activity; False when an earlier delivery created it already."""
        record = self._emails.record(message)
        try:
            self._client.upsert(
                self._emails.entity_set, email_id, record, mode=UpsertMode.CREATE_ONLY
            )
        except DuplicateRecordError:
            return False
        return True

    def _template(self, title: str, languages: tuple[str, ...] = ()) -> _Template | None:
        """The template titled ``title`` in the first of ``languages`` it exists in, else
        one without a language, else any (Dataverse keeps one template per language)."""
        if title not in self._cache:
            columns = self._templates
            rows = self._client.query(
                columns.entity_set,
                select=(columns.subject, columns.body, columns.language),
                filter=odata.eq(columns.title, title),
            )
            found: dict[int | None, _Template] = {}
            for row in rows:
                template = _Template(row.get(columns.subject) or "", row.get(columns.body) or "")
                found.setdefault(row.get(columns.language), template)
            self._cache[title] = found
        by_language = self._cache[title]
        codes = self._templates.language_codes
        for code in [codes[lang] for lang in languages if lang in codes] + [None]:
            if code in by_language:
                return by_language[code]
        return next(iter(by_language.values()), None)


class TopicDelivery:
    """Messages on the marketing platform's Service Bus topic."""

    def __init__(self, sender: TopicSender) -> None:
        self._sender = sender

    def contact_columns(self, events: list[PendingEvent]) -> frozenset[str]:
        return frozenset()

    def deliver(self, event: PendingEvent, contact: Mapping[str, Any]) -> Delivered:
        body = {
            "key": event.key,
            "kind": str(event.kind),
            "period": event.period,
            "due": event.due.isoformat(),
            "template": event.template,
            "personId": event.person_id,
            "membershipId": event.membership_id,
            "channel": event.channel,
        }
        self._sender.send(body, message_id=event.key, label=str(event.kind))
        return Delivered()

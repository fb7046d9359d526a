"""Delivery by channel: e-mail, SMS and letters behind the one delivery interface.

Each lifecycle event carries its channel (the lifecycle's configured one, or the one an
address request chose). :class:`ChannelDeliveries` hands an event to the delivery of its
channel; a channel with none configured fails the event with the reason.

- :class:`SmsDelivery` sends a text through an SMS sender (Azure Communication Services,
  :mod:`plugins.sms.acs`): the text for the event's template (``SYNC__SMS__TEXTS``) with
  ``{first_name}`` and ``{link}`` (a signed single-use update link, :mod:`.links`) filled in,
  to the contact's mobile number in E.164 form; a text per language is keyed
  ``<template>.<language>`` (``address-request.nb``). The policy has checked consent before.
- :class:`LetterDelivery` gives the office a task regarding the contact: print and post the
  letter the template names. The task's id derives from the event key, so a repeated
  delivery creates no second task.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Protocol

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import DataverseError, DuplicateRecordError

from .delivery import Delivered, Delivery, PendingEvent
from .links import UpdateLinks
from .outreach import e164

TASK_NAMESPACE = uuid.UUID("0b6c3f52-7d4e-5a8f-b1c9-2e7d4f6a8b30")


class SmsSender(Protocol):
    """What sends one text (the ACS adapter, or a test's)."""

    def send(self, to: str, message: str, *, tag: str | None = None) -> str: ...


class ChannelDeliveries:
    """Routes each event to the delivery of its channel."""

    def __init__(self, deliveries: Mapping[str, Delivery]) -> None:
        self._deliveries = dict(deliveries)

    def contact_columns(self, events: list[PendingEvent]) -> frozenset[str]:
        columns: set[str] = set()
        for channel, delivery in self._deliveries.items():
            mine = [e for e in events if e.channel == channel]
            if mine:
                columns |= delivery.contact_columns(mine)
        return frozenset(columns)

    def deliver(self, event: PendingEvent, contact: Mapping[str, Any]) -> Delivered:
        delivery = self._deliveries.get(event.channel)
        if delivery is None:
            return Delivered(f"no delivery configured for channel {event.channel}")
        return delivery.deliver(event, contact)


class SmsDelivery:
    """Texts through an SMS sender, from the configured texts."""

    def __init__(
        self,
        sender: SmsSender,
        schema: SchemaMap,
        texts: Mapping[str, str],
        country_code: str,
        links: UpdateLinks | None,
        errors: tuple[type[Exception], ...],
    ) -> None:
        self._sender = sender
        self._contact = schema.contact
        self._texts = dict(texts)
        self._country_code = country_code
        self._links = links
        self._errors = errors

    def contact_columns(self, events: list[PendingEvent]) -> frozenset[str]:
        return frozenset({self._contact.first_name, self._contact.mobile_phone})

    def deliver(self, event: PendingEvent, contact: Mapping[str, Any]) -> Delivered:
        names = [f"{event.template}.{lang}" for lang in event.languages] + [event.template]
        text = next((self._texts[name] for name in names if name in self._texts), None)
        if text is None:
            return Delivered(f"no SMS text for template '{event.template}' (SYNC__SMS__TEXTS)")
        to = e164(contact.get(self._contact.mobile_phone), self._country_code)
        if to is None:
            return Delivered("the mobile number is not a valid number")
        if "{link}" in text:
            if self._links is None:
                return Delivered("no update link: SELFSERVICE__LINK_KEYS and PUBLIC_BASE_URL")
            try:
                language = event.languages[0] if event.languages else None
                text = text.replace("{link}", self._links.issue(event.person_id, language))
            except DataverseError as exc:
                return Delivered(f"link not created: {type(exc).__name__}", retry=True)
        first_name = str(contact.get(self._contact.first_name) or "").strip()
        text = text.replace("{first_name}", first_name)
        try:
            self._sender.send(to, text, tag=str(event.kind))
        except self._errors as exc:
            return Delivered(f"SMS not sent: {exc}", retry=bool(getattr(exc, "retry", False)))
        return Delivered()


class LetterDelivery:
    """Letters as tasks for the office, regarding the contact."""

    def __init__(
        self, client: DataverseClient, schema: SchemaMap, subjects: Mapping[str, str],
        due_days: int,
    ) -> None:
        self._client = client
        self._schema = schema
        self._subjects = dict(subjects)
        self._due_days = due_days

    def contact_columns(self, events: list[PendingEvent]) -> frozenset[str]:
        return frozenset()

    def deliver(self, event: PendingEvent, contact: Mapping[str, Any]) -> Delivered:
        t = self._schema.task
        subject = self._subjects.get(event.template, f"Send the letter '{event.template}'")
        record = {
            t.subject: subject[:200],
            t.description: (
                f"Print the letter '{event.template}' and post it to the contact's address. "
                f"(lifecycle event {event.key})"
            ),
            t.due: _due(event.due, self._due_days),
            f"{t.regarding_contact_nav}@odata.bind": odata.bind(
                self._schema.contact.entity_set, event.person_id
            ),
        }
        task_id = str(uuid.uuid5(TASK_NAMESPACE, event.key))
        try:
            self._client.upsert(t.entity_set, task_id, record, mode=UpsertMode.CREATE_ONLY)
        except DuplicateRecordError:
            return Delivered()
        except DataverseError as exc:
            return Delivered(f"letter task not created: {type(exc).__name__}", retry=True)
        return Delivered()


def _due(day: date, days: int) -> str:
    return f"{day + timedelta(days=days)}T12:00:00Z"

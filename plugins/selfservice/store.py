"""Every Dataverse read and write of the self-service pages, through the one Dataverse client.

- A registration (new, or an update through a link) is a registration row with status
  ``Received`` and kind Registration; an unregistration is one of kind Unregistration with
  the "terminate membership" flag. The registration pipeline takes over from the event.
- A link is a row of the link table plus an e-mail activity to the person (its parties
  deep-inserted), created and sent (``SendEmail``) in one change set: a link whose e-mail
  could not be sent does not exist, and the person can simply ask again.
- Using a link marks its row used with ``If-Match`` on the row's ETag in the same change set
  that creates the registration: of two submissions racing with one link, exactly one
  succeeds, on every Function App instance, and a failed write leaves the link unused.
- A registration from the form gets a confirmation link (created and sent like the others;
  where it goes and what following it writes: :mod:`.confirmations`).

Every table, column and choice name comes from the schema map.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.batch import BatchRequest, ChangeSet
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.emails import EmailActivities, Message
from plugins.dataverse.errors import BatchError, NotFoundError, PreconditionFailedError
from plugins.dataverse.odata import Expand
from plugins.identity import Country
from plugins.registration.model import Kind, Status

from .confirmations import (
    ConfirmationRecord,
    ConfirmationStale,
    ConfirmationStore,
    ConfirmationTarget,
)
from .csrf import FormUse
from .signing import Link


class LinkAlreadyUsed(Exception):
    """The link was used by another submission first."""


class FormAlreadyUsed(Exception):
    """The form's CSRF token was submitted before (its id is recorded as used)."""


@dataclass(frozen=True)
class Contact:
    """What the pages show of a person reached through a link."""

    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    has_national_id: bool
    topics: frozenset[str]
    channels: frozenset[str]
    consent_version: str | None


@dataclass(frozen=True)
class LinkRecord:
    """A link's row as Dataverse has it now."""

    id: str
    used: bool
    etag: str
    contact: Contact | None


@dataclass(frozen=True)
class Recipient:
    """A person an e-mailed link can go to, and the address it goes to."""

    contact_id: str
    first_name: str
    address: str


@dataclass(frozen=True)
class Email:
    """An e-mail to create as an activity: its subject and HTML body."""

    subject: str
    html: str


@dataclass(frozen=True)
class RegistrationDraft:
    """A registration (or unregistration) row to create, as plain values."""

    kind: Kind
    first_name: str
    last_name: str
    email: str
    national_id: str | None = None
    phone: str | None = None
    topics: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    self_declared: bool = False
    terminate_membership: bool = False
    consent_version: str | None = None
    consent_on: datetime | None = None
    person_id: str | None = None
    proof_link_id: str | None = None


class SelfServicePort(Protocol):
    """What the pages need from Dataverse (:class:`SelfServiceStore` is the real one)."""

    def create_registration(self, draft: RegistrationDraft, form: FormUse) -> str: ...

    def use_form(self, form: FormUse) -> None: ...

    def recipients(self, email: str) -> list[Recipient]: ...

    def issue_link(self, link: Link, recipient: Recipient, email: Email) -> None: ...

    def open_link(self, link: Link) -> LinkRecord | None: ...

    def submit_with_link(
        self, record: LinkRecord, draft: RegistrationDraft, now: datetime
    ) -> None: ...

    def confirmation_target(
        self, national_id: str | None, email: str, country: Country
    ) -> ConfirmationTarget | None: ...

    def issue_confirmation(
        self, link: Link, registration_id: str, target: ConfirmationTarget, email: Email
    ) -> None: ...

    def open_confirmation(self, link: Link, country: Country) -> ConfirmationRecord | None: ...

    def confirm(self, record: ConfirmationRecord, now: datetime) -> bool: ...


class SelfServiceStore:
    """The pages' Dataverse port, through the Dataverse client."""

    def __init__(self, client: DataverseClient, schema: SchemaMap) -> None:
        self.client = client
        self.schema = schema
        self.emails = EmailActivities(client, schema.email, schema.contact.entity_set)
        self.confirmations = ConfirmationStore(client, schema)

    def create_registration(self, draft: RegistrationDraft, form: FormUse) -> str:
        """Create the registration row and record its form's token as used, both or neither;
        the registration's id. :class:`FormAlreadyUsed` when the token was used before."""
        registration_id = str(uuid.uuid4())
        record = {self.schema.registration.id: registration_id, **self._record(draft)}
        batch = BatchRequest()
        changes = batch.changeset()
        self._form_used(changes, form)
        changes.create(self.schema.registration.entity_set, record)
        self._execute_with_form(batch)
        return registration_id

    def use_form(self, form: FormUse) -> None:
        """Record a form's token as used; :class:`FormAlreadyUsed` when it was before."""
        batch = BatchRequest()
        self._form_used(batch.changeset(), form)
        self._execute_with_form(batch)

    def _form_used(self, changes: ChangeSet, form: FormUse) -> None:
        # The token's id names a row of the link table, created only if it does not exist.
        links = self.schema.selfservice_link
        changes.upsert(
            odata.entity_path(links.entity_set, form.id),
            {
                links.name: f"form {form.expires_at:%Y-%m-%d %H:%M}",
                links.purpose: links.purpose_values["form"],
                links.expires_on: form.expires_at,
                links.used_on: form.expires_at,
            },
            create_only=True,
        )

    def _execute_with_form(self, batch: BatchRequest) -> None:
        try:
            self.client.execute_batch(batch)
        except BatchError as exc:
            if isinstance(exc.error, PreconditionFailedError) and exc.part.index == 0:
                raise FormAlreadyUsed from exc
            raise

    def recipients(self, email: str) -> list[Recipient]:
        """The people (at most two: more than one means ambiguous) with ``email`` on record."""
        contact = self.schema.contact
        # Dataverse compares strings without regard to case, as the matching does.
        where = odata.or_(*(odata.eq(column, email) for column in contact.emails))
        rows = self.client.query(
            contact.entity_set,
            select=[contact.id, contact.first_name, *contact.emails],
            filter=where,
            top=2,
        )
        found = []
        for row in rows:
            wanted = email.casefold()
            address = next(
                (row[c] for c in contact.emails if (row.get(c) or "").casefold() == wanted), email
            )
            found.append(Recipient(row[contact.id], row.get(contact.first_name) or "", address))
        return found

    def issue_link(self, link: Link, recipient: Recipient, email: Email) -> None:
        """Create the link's row and the e-mail carrying it, and send the e-mail, atomically."""
        message = Message(recipient.contact_id, email.subject, email.html, recipient.address)
        self._issue(link, message, {})

    def issue_confirmation(
        self, link: Link, registration_id: str, target: ConfirmationTarget, email: Email
    ) -> None:
        """Create a registration's confirmation link and send its e-mail, atomically."""
        links, m = self.schema.selfservice_link, self.schema.registration
        message = Message(target.contact_id, email.subject, email.html, target.address)
        bind = {
            f"{links.registration_nav}@odata.bind": odata.bind(m.entity_set, registration_id)
        }
        self._issue(link, message, bind)

    def _issue(self, link: Link, message: Message, extra: dict[str, Any]) -> None:
        links = self.schema.selfservice_link
        row = {**link_row(self.schema, link, message.contact_id), **extra}
        email_id = str(uuid.uuid4())
        batch = BatchRequest()
        changes = batch.changeset()
        changes.create(links.entity_set, row)
        changes.create(self.emails.entity_set, self.emails.record(message, email_id))
        self.emails.send_in(changes, odata.entity_path(self.emails.entity_set, email_id))
        self.client.execute_batch(batch)

    def confirmation_target(
        self, national_id: str | None, email: str, country: Country
    ) -> ConfirmationTarget | None:
        """Where the confirmation of a registration with these values goes (None: nowhere)."""
        return self.confirmations.target(national_id, email, country)

    def open_confirmation(self, link: Link, country: Country) -> ConfirmationRecord | None:
        """A confirmation link's row with its registration and the person to confirm."""
        return self.confirmations.open(link, country)

    def confirm(self, record: ConfirmationRecord, now: datetime) -> bool:
        """Use the link and apply the proposed changes, in one change set; whether they were
        applied. :class:`LinkAlreadyUsed` when another submission used the link first,
        :class:`ConfirmationStale` when the person or registration changed since the read."""
        try:
            return self.confirmations.write(record, now)
        except BatchError as exc:
            if isinstance(exc.error, PreconditionFailedError):
                if exc.part.index == 0:
                    raise LinkAlreadyUsed from exc
                raise ConfirmationStale from exc
            raise

    def open_link(self, link: Link) -> LinkRecord | None:
        """The link's row with its person, or None when there is no such link."""
        links = self.schema.selfservice_link
        try:
            row = self.client.get(
                links.entity_set,
                link.id,
                select=[links.used_on, links.purpose],
                expand=[Expand(links.person_nav, select=self._contact_columns())],
            )
        except NotFoundError:
            return None
        if row is None or row.get(links.purpose) != links.purpose_values[link.purpose.value]:
            return None
        person = row.get(links.person_nav)
        return LinkRecord(
            id=link.id,
            used=row.get(links.used_on) is not None,
            etag=str(row.get("@odata.etag") or "*"),
            contact=self._contact(person) if person else None,
        )

    def submit_with_link(self, record: LinkRecord, draft: RegistrationDraft, now: datetime) -> None:
        """Mark the link used and create the registration, both or neither; an update also
        records on the contact that the person confirmed their details (``now``).

        Raises :class:`LinkAlreadyUsed` when the link's row changed since it was read (another
        submission used it).
        """
        links = self.schema.selfservice_link
        batch = BatchRequest()
        changes = batch.changeset()
        changes.update(
            odata.entity_path(links.entity_set, record.id), {links.used_on: now},
            if_match=record.etag,
        )
        changes.create(self.schema.registration.entity_set, self._record(draft))
        if draft.kind is Kind.REGISTRATION and draft.person_id:
            # Saving the form, changed or not, is the person confirming their details.
            contact = self.schema.contact
            changes.update(
                odata.entity_path(contact.entity_set, draft.person_id),
                {contact.details_confirmed_on: now},
            )
        try:
            self.client.execute_batch(batch)
        except BatchError as exc:
            if isinstance(exc.error, PreconditionFailedError):
                raise LinkAlreadyUsed from exc
            raise

    def _record(self, draft: RegistrationDraft) -> dict[str, Any]:
        reg, prefs = self.schema.registration, self.schema.preferences
        record: dict[str, Any] = {
            reg.name: f"{draft.first_name} {draft.last_name}".strip(),
            reg.kind: reg.kind_values[draft.kind],
            reg.status: reg.status_values[Status.RECEIVED],
            reg.first_name: draft.first_name,
            reg.last_name: draft.last_name,
            reg.email: draft.email,
            reg.phone: draft.phone,
            reg.self_declared: draft.self_declared,
            reg.terminate_membership: draft.terminate_membership,
        }
        if draft.national_id:
            record[reg.national_id] = draft.national_id
        if draft.kind is Kind.REGISTRATION:
            record[reg.topics] = _multichoice(draft.topics, prefs.topic_values)
            record[reg.channels] = _multichoice(draft.channels, prefs.channel_values)
            record[reg.consent_version] = draft.consent_version
            record[reg.consent_on] = draft.consent_on
        if draft.person_id:
            record[f"{reg.person_nav}@odata.bind"] = odata.bind(
                self.schema.contact.entity_set, draft.person_id
            )
        if draft.proof_link_id:
            record[f"{reg.proof_nav}@odata.bind"] = odata.bind(
                self.schema.selfservice_link.entity_set, draft.proof_link_id
            )
        return record

    def _contact_columns(self) -> list[str]:
        c = self.schema.contact
        return [
            c.id, c.first_name, c.last_name, *c.emails, c.phone, c.mobile_phone, c.national_id,
            c.topics, c.channels, c.consent_version,
        ]

    def _contact(self, row: dict[str, Any]) -> Contact:
        c, prefs = self.schema.contact, self.schema.preferences
        return Contact(
            id=row[c.id],
            first_name=row.get(c.first_name) or "",
            last_name=row.get(c.last_name) or "",
            email=next((row[e] for e in c.emails if row.get(e)), ""),
            phone=row.get(c.mobile_phone) or row.get(c.phone) or "",
            has_national_id=bool(row.get(c.national_id)),
            topics=_choices_of(row.get(c.topics), prefs.topic_values),
            channels=_choices_of(row.get(c.channels), prefs.channel_values),
            consent_version=row.get(c.consent_version),
        )


def link_row(schema: SchemaMap, link: Link, contact_id: str | None) -> dict[str, Any]:
    """The Dataverse row of a link (created before the link is sent), bound to the contact
    it is for; a new person's confirmation link has no contact yet."""
    links = schema.selfservice_link
    row: dict[str, Any] = {
        links.id: link.id,
        links.name: f"{link.purpose.value} {link.expires_at:%Y-%m-%d %H:%M}",
        links.purpose: links.purpose_values[link.purpose.value],
        links.expires_on: link.expires_at,
    }
    if contact_id is not None:
        row[f"{links.person_nav}@odata.bind"] = odata.bind(schema.contact.entity_set, contact_id)
    return row


def _multichoice(chosen: frozenset[str], values: dict[str, int]) -> str | None:
    """Dataverse's multi-select text (``"100000000,100000002"``); None when nothing is chosen."""
    numbers = sorted(values[name] for name in chosen)
    return ",".join(str(n) for n in numbers) or None


def _choices_of(text: str | None, values: dict[str, int]) -> frozenset[str]:
    numbers = {int(p) for p in (text or "").split(",") if p.strip().isdigit()}
    return frozenset(name for name, number in values.items() if number in numbers)

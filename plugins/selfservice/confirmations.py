"""Confirming a registration: where its link goes, and what following it writes.

A registration from the form is confirmed through a link e-mailed to the matched person's
address on file (the address typed in only when the person already has it), or, when
nobody matches, to the address typed in (a new person's double opt-in). Following it marks
the link used, applies the registration's proposed changes to the person as they are now,
records the proof on the registration and confirms the e-mail address: one change set,
each part conditional on the ETag just read.

Every table, column and choice name comes from the schema map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.batch import BatchRequest
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import NotFoundError
from plugins.dataverse.odata import Expand
from plugins.identity import Country, normalise_email
from plugins.registration.matching import MatchKind, match_person
from plugins.registration.records import (
    ContactRecord,
    contact_columns,
    contact_record,
    lookup_property,
)
from plugins.registration.writeback import WriteOptions, confirmed_changes

from .signing import Link


class ConfirmationStale(Exception):
    """The person or the registration changed while the confirmation was written."""


@dataclass(frozen=True)
class ConfirmationTarget:
    """Where a registration's confirmation link goes: a matched person's address on file,
    or (``contact_id`` None: nobody matched) the address typed in."""

    contact_id: str | None
    first_name: str
    address: str


@dataclass(frozen=True)
class ConfirmationRecord:
    """A confirmation link's row with its registration and person, as read now."""

    link_id: str
    used: bool
    etag: str
    registration_id: str
    registration_row: dict[str, Any]
    contact: ContactRecord | None
    link_person_id: str | None


class ConfirmationStore:
    """The confirmations' Dataverse reads and writes, through the Dataverse client."""

    def __init__(self, client: DataverseClient, schema: SchemaMap) -> None:
        self.client = client
        self.schema = schema

    def target(
        self, national_id: str | None, email: str, country: Country
    ) -> ConfirmationTarget | None:
        """Where the confirmation of a registration with these values goes (None: nowhere,
        because several people match or the matched person has no address on file)."""
        c = self.schema.contact
        key = normalise_email(email)
        clauses = [odata.eq(column, email) for column in (*c.emails, c.email_key)]
        if national_id:
            clauses.append(odata.eq(c.national_id, national_id))
        rows = list(self.client.query(
            c.entity_set, select=contact_columns(c), filter=odata.or_(*clauses), top=10
        ))
        people = {str(row[c.id]).lower(): row for row in rows}
        match = match_person(
            national_id, key, [contact_record(r, self.schema, country).person for r in rows]
        )
        if match.kind is MatchKind.NONE:
            return ConfirmationTarget(None, "", email.strip())
        if match.kind is not MatchKind.ONE or match.person is None:
            return None
        row = people[match.person.id]
        on_file = [str(row[column]) for column in c.emails if row.get(column)]
        # The typed address only when the person already has it; else their own address.
        address = next((a for a in on_file if normalise_email(a) == key), None)
        address = address or (on_file[0] if on_file else None)
        if address is None:
            return None
        return ConfirmationTarget(match.person.id, row.get(c.first_name) or "", address)

    def open(self, link: Link, country: Country) -> ConfirmationRecord | None:
        """A confirmation link's row with its registration and the person to confirm (the
        link's person, or for a new person the one the registration was linked to)."""
        links, m, c = self.schema.selfservice_link, self.schema.registration, self.schema.contact
        registration_select = [
            m.id, m.status, m.email, m.proposed_changes, m.proposed_changes_applied_on,
            lookup_property(m.person),
        ]
        try:
            row = self.client.get(
                links.entity_set,
                link.id,
                select=[links.used_on, links.purpose, lookup_property(links.person)],
                expand=[Expand(links.registration_nav, select=registration_select)],
            )
        except NotFoundError:
            return None
        if row is None or row.get(links.purpose) != links.purpose_values[link.purpose.value]:
            return None
        registration = row.get(links.registration_nav)
        if not registration:
            return None
        link_person = _guid(row.get(lookup_property(links.person)))
        person_id = link_person or _guid(registration.get(lookup_property(m.person)))
        contact = None
        if person_id is not None:
            try:
                person_row = self.client.get(c.entity_set, person_id, select=contact_columns(c))
            except NotFoundError:
                person_row = None
            if person_row is not None:
                contact = contact_record(person_row, self.schema, country)
        return ConfirmationRecord(
            link_id=link.id,
            used=row.get(links.used_on) is not None,
            etag=str(row.get("@odata.etag") or "*"),
            registration_id=str(registration[m.id]).lower(),
            registration_row=registration,
            contact=contact,
            link_person_id=link_person,
        )

    def write(self, record: ConfirmationRecord, now: datetime) -> bool:
        """Mark the link used, apply the registration's proposed changes to its person and
        record the proof, in one change set; whether the proposed changes were applied.

        Raises :class:`~plugins.dataverse.errors.BatchError` when Dataverse refused it (412
        on the link: used by another submission; 412 elsewhere: changed since the read).
        """
        links, m, c = self.schema.selfservice_link, self.schema.registration, self.schema.contact
        registration = record.registration_row
        contact = record.contact
        batch = BatchRequest()
        changes = batch.changeset()
        changes.update(
            odata.entity_path(links.entity_set, record.link_id), {links.used_on: now},
            if_match=record.etag,
        )
        person_changes: dict[str, Any] = {}
        applied = False
        linked_person = _guid(registration.get(lookup_property(m.person)))
        if contact is not None and linked_person == contact.person.id:
            proposal = proposal_of(registration.get(m.proposed_changes))
            if proposal and registration.get(m.proposed_changes_applied_on) is None:
                options = WriteOptions(schema=self.schema, now=now)
                try:
                    person_changes = confirmed_changes(
                        proposal, record.registration_id, contact, options
                    )
                    applied = True
                except ValueError:
                    # Edited by hand into something else: the office applies it.
                    person_changes = {}
            person_changes.update(
                _confirmation_state(record, contact, person_changes, self.schema)
            )
        if person_changes and contact is not None:
            changes.update(
                odata.entity_path(c.entity_set, contact.person.id), person_changes,
                if_match=contact.etag or "*",
            )
        if contact is not None and linked_person == contact.person.id:
            proof: dict[str, Any] = {
                f"{m.proof_nav}@odata.bind": odata.bind(links.entity_set, record.link_id)
            }
            if applied:
                proof[m.proposed_changes_applied_on] = now
            changes.update(
                odata.entity_path(m.entity_set, record.registration_id), proof,
                if_match=str(registration.get("@odata.etag") or "*"),
            )
        self.client.execute_batch(batch)
        return applied


def proposal_of(text: Any) -> dict[str, Any] | None:
    """The proposed changes a registration holds (None when empty or not a JSON object)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _confirmation_state(
    record: ConfirmationRecord,
    contact: ContactRecord,
    person_changes: dict[str, Any],
    schema: SchemaMap,
) -> dict[str, Any]:
    """The e-mail confirmation the link proves: the address it was sent to is confirmed
    when it is (or stays) the person's primary one; a new primary address offered by the
    registration is not proven by this link and stays unconfirmed."""
    c = schema.contact
    values = c.email_confirmation_values
    registration_email = normalise_email(record.registration_row.get(schema.registration.email))
    primary = normalise_email(contact.row.get(c.emails[0]))
    if record.link_person_id is None:
        proven = registration_email
    else:
        proven = registration_email if registration_email in contact.person.emails else primary
    after = normalise_email(person_changes.get(c.emails[0])) or primary
    state = values["confirmed"] if proven is not None and proven == after else None
    if state is None and c.emails[0] in person_changes:
        state = values["unconfirmed"]
    if state is None or contact.row.get(c.email_confirmation) == state:
        return {}
    return {c.email_confirmation: state}


def _guid(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None

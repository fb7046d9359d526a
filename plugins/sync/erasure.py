"""Erasing a person on request (GDPR art. 17) so that nothing brings them back.

:meth:`Erasure.erase_person` first records the tombstone (the keyed hash of the identity
number, see :mod:`~plugins.sync.tombstone`), then deletes the person's registrations (they
hold the name, e-mail and identity number the person gave) and the e-mails sent to them
(their address and name are in the activity), and then, by ``mode``:

- ``delete``: deletes the contact; Dataverse deletes the memberships, lifecycle events and
  self-service links with it (cascade);
- ``anonymise``: keeps the contact (and with it memberships and lifecycle events, which the
  books may need) but blanks every personal column, deletes the self-service links, stops
  all communication and deactivates the row.

The tombstone goes first so that a failure half-way leaves the person marked as erased, and
the erasure can simply be repeated. :meth:`Erasure.erase_identity` erases by identity number
and writes the tombstone even when no contact has it, so a person who asks before they are
in the register is never created either.

Every job that creates or refreshes people asks :meth:`Erasure.is_erased` (or reads
:class:`~plugins.sync.repository.Tombstones` in bulk) first, so no later import,
registration or sync recreates them. A person without an identity number leaves no
tombstone: there is nothing to recognise them by that is not personal data itself.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import NotFoundError

from .repository import Tombstones, lookup_value
from .tombstone import identity_hash

log = logging.getLogger(__name__)

ErasureMode = Literal["delete", "anonymise"]
ERASED_NAME = "Erased"
"""The last name an anonymised contact keeps, so views show what happened to the row."""


@dataclass(frozen=True)
class ErasureResult:
    """What erasing (or, in a dry run, would erase) one contact: counts only."""

    contact_id: str | None
    mode: ErasureMode
    tombstone: bool
    registrations: int = 0
    emails: int = 0
    links: int = 0

    def summary(self) -> str:
        """One line without personal data, for the request row and the CLI."""
        if self.contact_id is None:
            what = "no contact"
        else:
            what = "contact deleted" if self.mode == "delete" else "contact anonymised"
        return (
            f"{what}; {self.registrations} registration(s), {self.emails} e-mail(s) removed; "
            f"tombstone {'written' if self.tombstone else 'not possible (no identity number)'}"
        )


class Erasure:
    """Erases people and answers whether someone was erased."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        key: str,
        mode: ErasureMode = "delete",
    ) -> None:
        self._client = client
        self._schema = schema
        self._key = key
        self.mode: ErasureMode = mode
        self.tombstones = Tombstones(client, schema.tombstone)

    def is_erased(self, canonical_national_id: str) -> bool:
        """Whether the person with this (canonical) identity number was erased."""
        return bool(self.tombstones.erased([canonical_national_id], self._key))

    def hash_of(self, canonical_national_id: str) -> str:
        """The tombstone hash of an identity number (to compare with a bulk read)."""
        return identity_hash(canonical_national_id, self._key)

    def erase(self, contact_id: str, now: datetime) -> bool:
        """Erase the contact; False when there is no such contact."""
        return self.erase_person(contact_id, now) is not None

    def erase_person(
        self, contact_id: str, now: datetime, *, dry_run: bool = False
    ) -> ErasureResult | None:
        """Erase one contact (None when there is no such contact); ``dry_run`` only counts."""
        c = self._schema.contact
        try:
            row = self._client.get(c.entity_set, contact_id, select=(c.national_id,)) or {}
        except NotFoundError:
            return None
        national_id = row.get(c.national_id)
        registrations = self._registrations(contact_id, national_id)
        emails = self._emails(contact_id)
        links = self._links(contact_id) if self.mode == "anonymise" else []
        result = ErasureResult(
            contact_id, self.mode, bool(national_id), len(registrations), len(emails), len(links)
        )
        if dry_run:
            return result
        if national_id:
            self.tombstones.add(identity_hash(str(national_id), self._key), now)
        for registration_id in registrations:
            self._delete(self._schema.registration.entity_set, registration_id)
        for email_id in emails:
            self._delete(self._schema.email.entity_set, email_id)
        if self.mode == "delete":
            self._delete(c.entity_set, contact_id)
        else:
            for link_id in links:
                self._delete(self._schema.selfservice_link.entity_set, link_id)
            self._client.update(c.entity_set, contact_id, self.anonymised())
        log.info("erased contact %s (%s)", contact_id, result.summary())
        return result

    def erase_identity(
        self, canonical_national_id: str, now: datetime, *, dry_run: bool = False
    ) -> list[ErasureResult]:
        """Erase every contact with this identity number, and write its tombstone even when
        there is none (the person is then never created); ``dry_run`` only counts."""
        c = self._schema.contact
        rows = self._client.query(
            c.entity_set, select=(c.id,), filter=odata.eq(c.national_id, canonical_national_id)
        )
        results = [
            result
            for contact_id in sorted(str(row[c.id]) for row in rows)
            if (result := self.erase_person(contact_id, now, dry_run=dry_run)) is not None
        ]
        if results:
            return results
        registrations = self._registrations(None, canonical_national_id)
        if not dry_run:
            self.tombstones.add(identity_hash(canonical_national_id, self._key), now)
            for registration_id in registrations:
                self._delete(self._schema.registration.entity_set, registration_id)
        return [ErasureResult(None, self.mode, True, len(registrations))]

    def anonymised(self) -> dict[str, Any]:
        """The contact columns an anonymised contact gets: personal data blanked,
        communication stopped, the row deactivated."""
        c = self._schema.contact
        blank = (
            c.first_name, *c.emails, c.phone, c.mobile_phone, c.birth_date, c.address_line1,
            c.address_line2, c.postal_code, c.city, c.country, c.national_id, c.topics,
            c.channels, c.consent_version, c.consent_on, c.consent_source, c.registry_source,
        )
        stop = (
            c.no_communication, c.do_not_bulk_email, c.do_not_email, c.do_not_postal_mail,
            c.do_not_phone,
        )
        return {
            **dict.fromkeys(blank),
            **dict.fromkeys(stop, True),
            c.last_name: ERASED_NAME,
            c.state: 1,
        }

    def _delete(self, entity_set: str, row_id: str) -> None:
        try:
            self._client.delete(entity_set, row_id)
        except NotFoundError:
            return  # already gone: a repeated erasure, or a cascade got there first

    def _registrations(self, contact_id: str | None, national_id: str | None) -> list[str]:
        r = self._schema.registration
        clauses = []
        if contact_id:
            clauses.append(odata.eq(lookup_value(r.person), uuid.UUID(contact_id)))
        if national_id:
            clauses.append(odata.eq(r.national_id, national_id))
        rows = self._client.query(r.entity_set, select=(r.id,), filter=odata.or_(*clauses))
        return sorted({str(row[r.id]) for row in rows})

    def _emails(self, contact_id: str) -> list[str]:
        e = self._schema.email
        rows = self._client.query(
            e.entity_set,
            select=(e.id,),
            filter=odata.eq(lookup_value(e.regarding), uuid.UUID(contact_id)),
        )
        return sorted({str(row[e.id]) for row in rows})

    def _links(self, contact_id: str) -> list[str]:
        s = self._schema.selfservice_link
        rows = self._client.query(
            s.entity_set,
            select=(s.id,),
            filter=odata.eq(lookup_value(s.person), uuid.UUID(contact_id)),
        )
        return sorted({str(row[s.id]) for row in rows})

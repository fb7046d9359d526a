"""Erasing a person on request (GDPR art. 17) so that nothing brings them back.

:meth:`Erasure.erase` first records the tombstone (the keyed hash of the identity number, see
:mod:`~plugins.sync.tombstone`), then deletes the person's registrations (they hold the
name, e-mail and identity number the person gave) and the contact itself; Dataverse deletes
the memberships, lifecycle events and self-service links with it (cascade). The tombstone
goes first so that a failure half-way leaves the person marked as erased, and the erasure
can simply be repeated.

Every job that creates or refreshes people asks :meth:`Erasure.is_erased` (or reads
:class:`~plugins.sync.repository.Tombstones` in bulk) first, so no later import,
registration or sync recreates them. A person without an identity number leaves no
tombstone: there is nothing to recognise them by that is not personal data itself.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import NotFoundError

from .repository import Tombstones, lookup_value
from .tombstone import identity_hash

log = logging.getLogger(__name__)


class Erasure:
    """Erases people and answers whether someone was erased."""

    def __init__(self, client: DataverseClient, schema: SchemaMap, key: str) -> None:
        self._client = client
        self._schema = schema
        self._key = key
        self.tombstones = Tombstones(client, schema.tombstone)

    def is_erased(self, canonical_national_id: str) -> bool:
        """Whether the person with this (canonical) identity number was erased."""
        hashed = identity_hash(canonical_national_id, self._key)
        return bool(self.tombstones.any_of([hashed]))

    def hash_of(self, canonical_national_id: str) -> str:
        """The tombstone hash of an identity number (to compare with a bulk read)."""
        return identity_hash(canonical_national_id, self._key)

    def erase(self, contact_id: str, now: datetime) -> bool:
        """Erase the contact; False when there is no such contact."""
        c = self._schema.contact
        try:
            row = self._client.get(c.entity_set, contact_id, select=(c.national_id,)) or {}
        except NotFoundError:
            return False
        national_id = row.get(c.national_id)
        if national_id:
            self.tombstones.add(identity_hash(str(national_id), self._key), now)
        for registration_id in self._registrations(contact_id, national_id):
            self._client.delete(self._schema.registration.entity_set, registration_id)
        self._client.delete(c.entity_set, contact_id)
        log.info("erased contact %s (tombstone: %s)", contact_id, bool(national_id))
        return True

    def _registrations(self, contact_id: str, national_id: str | None) -> set[str]:
        r = self._schema.registration
        clauses = [odata.eq(lookup_value(r.person), uuid.UUID(contact_id))]
        if national_id:
            clauses.append(odata.eq(r.national_id, national_id))
        rows = self._client.query(r.entity_set, select=(r.id,), filter=odata.or_(*clauses))
        return {str(row[r.id]) for row in rows}

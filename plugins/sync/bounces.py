"""Bounces: an e-mail the mailbox could not deliver marks the address undeliverable.

When server-side synchronisation cannot send an e-mail (the recipient's server refuses it,
the address does not exist) Dataverse leaves the activity open with the status reason
*Failed* (``statuscode`` 8). :meth:`BounceScan.run` reads the outgoing e-mails that failed
since its checkpoint (the ``modifiedon`` of the last one seen, ``mp_checkpoint`` named
``bounces``), and for each recipient that is a contact writes the address used
(``mp_undeliverableemail``) and when (``mp_undeliverableon``) on the contact. The policy
(:mod:`.policy`) then counts that address as missing: no more e-mail goes to it, and the
person is asked for another address by SMS or letter (:mod:`.address_requests`). When the
person gives a new address it no longer matches the bounced one, so mail flows again with
nothing to reset.

The lifecycle job runs the scan before it sends anything.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import NotFoundError

from .repository import Checkpoints, chunks, lookup_value

log = logging.getLogger(__name__)

CHECKPOINT = "bounces"


@dataclass
class BounceReport:
    """What one scan found (counts only)."""

    failed_emails: int = 0
    contacts_marked: int = 0


class BounceScan:
    """Marks the addresses of failed outgoing e-mails undeliverable on their contacts."""

    def __init__(
        self, client: DataverseClient, schema: SchemaMap, checkpoints: Checkpoints
    ) -> None:
        self._client = client
        self._schema = schema
        self._checkpoints = checkpoints

    def run(self, now: datetime) -> BounceReport:
        """One scan: the failed e-mails since the checkpoint."""
        e = self._schema.email
        since = self._checkpoints.read(CHECKPOINT).value
        clauses = [odata.eq(e.status, e.failed_status), odata.eq(e.direction, True)]
        if since:
            clauses.append(odata.gt(e.modified_on, datetime.fromisoformat(since)))
        rows = self._client.query(
            e.entity_set,
            select=(e.id, e.modified_on),
            filter=odata.and_(*clauses),
            orderby=(odata.asc(e.modified_on),),
            expand=(
                odata.Expand(
                    e.parties_nav, select=(lookup_value(e.party), e.party_type, e.party_address)
                ),
            ),
        )
        report = BounceReport()
        bounced: dict[str, str] = {}
        latest = since
        for row in rows:
            report.failed_emails += 1
            bounced.update(self.recipients(row))
            latest = str(row.get(e.modified_on) or latest)
        bounced.update(self._primary_addresses([c for c, a in bounced.items() if not a]))
        for contact_id, address in sorted(bounced.items()):
            if address and self._mark(contact_id, address, now):
                report.contacts_marked += 1
        if latest != since:
            self._checkpoints.save_position(CHECKPOINT, latest)
        log.info("bounces: %d failed e-mails, %d contacts marked undeliverable",
                 report.failed_emails, report.contacts_marked)
        return report

    def recipients(self, row: dict[str, Any]) -> dict[str, str]:
        """The contacts an e-mail row was addressed to, with the address used ("" when the
        party does not name one: the mailbox used the contact's primary address)."""
        e = self._schema.email
        found = {}
        for party in row.get(e.parties_nav) or []:
            contact = party.get(lookup_value(e.party))
            if party.get(e.party_type) == e.to_recipient and contact:
                found[str(contact).lower()] = str(party.get(e.party_address) or "")
        return found

    def _primary_addresses(self, contact_ids: list[str]) -> dict[str, str]:
        c = self._schema.contact
        primary = c.emails[0]
        found: dict[str, str] = {}
        for part in chunks(sorted(contact_ids), 50):
            rows = self._client.query(
                c.entity_set,
                select=(c.id, primary),
                filter=odata.in_(c.id, [uuid.UUID(i) for i in part]),
            )
            found.update({str(r[c.id]).lower(): str(r[primary]) for r in rows if r.get(primary)})
        return found

    def _mark(self, contact_id: str, address: str, now: datetime) -> bool:
        c = self._schema.contact
        try:
            self._client.update(
                c.entity_set, contact_id, {c.undeliverable_email: address, c.undeliverable_on: now}
            )
        except NotFoundError:
            return False  # erased since the e-mail was sent
        return True

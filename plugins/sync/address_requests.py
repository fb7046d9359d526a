"""Asking people without a deliverable e-mail address for one.

:meth:`AddressRequests.run` reads the active contacts that have no e-mail address, or whose
address bounced (:mod:`.bounces`), and records for each an ``address-request`` lifecycle
event with the channel the pure :func:`~plugins.sync.outreach.address_request_channel`
chooses: SMS for those who chose SMS and consented, with a mobile number; else a letter for
those who chose post and whose address is not protected; nobody else. The event is keyed
per interval (``SYNC__ADDRESS_REQUESTS__INTERVAL_DAYS``), so a person is asked at most once
per interval. The lifecycle run that follows delivers it like any other event: checked
against the policy again, then sent by SMS with a signed update link, or given to the office
as a letter task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient

from .ledger import EventLedger, Tally
from .lifecycle import DueEvent, EventKind, event_key
from .outreach import address_request_channel, request_period
from .policy import contact_columns, recipient_from_contact

log = logging.getLogger(__name__)


@dataclass
class AddressRequestReport(Tally):
    """What one run recorded: events by channel, and who could not be asked."""

    by_channel: dict[str, int] = field(default_factory=dict)
    cannot_ask: int = 0


class AddressRequests:
    """Records the address requests due."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        settings: SyncSettings.AddressRequests,
        ledger: EventLedger,
    ) -> None:
        self._client = client
        self._schema = schema
        self._settings = settings
        self._ledger = ledger

    def run(self, today: date) -> AddressRequestReport:
        """Record the requests of ``today``'s interval not recorded yet."""
        c = self._schema.contact
        no_email = odata.and_(*(odata.eq(column, None) for column in c.emails))
        rows = self._client.query(
            c.entity_set,
            select=contact_columns(c),
            filter=odata.and_(
                odata.eq(c.state, 0),
                odata.or_(no_email, odata.ne(c.undeliverable_on, None)),
                odata.or_(odata.ne(c.mobile_phone, None), odata.ne(c.address_line1, None)),
            ),
            orderby=(odata.asc(c.id),),
        )
        period = request_period(today, self._settings.interval_days)
        report = AddressRequestReport()
        events = []
        for row in islice(rows, self._settings.max_per_run):
            recipient = recipient_from_contact(row, c, self._schema.preferences)
            if recipient.has_email:
                continue  # another address of theirs still works
            channel = address_request_channel(recipient)
            if channel is None:
                report.cannot_ask += 1
                continue
            person = recipient.person_id.lower()
            kind = EventKind.ADDRESS_REQUEST
            events.append(
                DueEvent(event_key(kind, person, period), person, kind, period, today,
                         channel=str(channel))
            )
            report.by_channel[str(channel)] = report.by_channel.get(str(channel), 0) + 1
        self._ledger.record(events, report)
        log.info("address requests: %d recorded (%s), %d existing, %d cannot be asked",
                 report.created, report.by_channel, report.existing, report.cannot_ask)
        return report

"""Data-check mailings: "are your details right?", with a link to check them.

:meth:`DataChecks.run` records ``data-check`` lifecycle events for the people of the
configured categories (alumni and members by default) whose details were last confirmed
(``mp_detailsconfirmedon``) more than ``interval_days`` ago, or never, oldest confirmation
first, and at most ``daily_cap`` per day (a rerun the same day adds only what is left of
it): a register of 100,000 is spread over days instead
of hitting the mailbox's sending limits in one night. Only people the policy lets the
lifecycle's channel reach are counted against the cap (consent, do-not flags, a deliverable
address); the others are counted by reason and not recorded.

Each event is keyed by person and mailing wave (the ``interval_days``-long period
:func:`~plugins.sync.outreach.request_period` names), so a person is asked once per wave
whatever the runs do. The lifecycle run that follows delivers them: the template
(``data-check`` unless ``SYNC__DELIVERY__TEMPLATES`` maps it) carries ``{!link:update;}``,
a signed single-use link to the person's page. Saving the page, changed or not, records the
date on the contact, and the person drops out of the selection for another interval.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient

from .ledger import EventLedger, Tally
from .lifecycle import DueEvent, EventKind, event_key
from .outreach import request_period
from .policy import Action, Channel, check, contact_columns, recipient_from_contact
from .repository import date_of, lookup_value

log = logging.getLogger(__name__)

KIND = EventKind.DATA_CHECK


@dataclass
class DataCheckReport(Tally):
    """What one run recorded, and whom the policy kept out (by reason)."""

    wave: str = ""
    considered: int = 0
    already_asked: int = 0
    not_reachable: dict[str, int] = field(default_factory=dict)


class DataChecks:
    """Records the data-check mailings due, up to the daily cap."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        settings: SyncSettings.DataCheck,
        lifecycle: SyncSettings.Lifecycle,
        ledger: EventLedger,
    ) -> None:
        self._client = client
        self._schema = schema
        self._settings = settings
        self._lifecycle = lifecycle
        self._ledger = ledger

    def run(self, today: date) -> DataCheckReport:
        """Record today's share of the mailings of the current wave."""
        wave = request_period(today, self._settings.interval_days)
        report = DataCheckReport(wave=wave)
        asked, today_count = self.asked(wave, today)
        room = max(self._settings.daily_cap - today_count, 0)
        action = Action(
            Channel(self._lifecycle.channel),
            topic=self._lifecycle.topics.get(KIND),
            bulk=KIND in self._lifecycle.bulk_kinds,
        )
        c = self._schema.contact
        events: list[DueEvent] = []
        for row in self._due(today):
            if len(events) >= room:
                break
            report.considered += 1
            person = str(row[c.id]).lower()
            if person in asked:
                report.already_asked += 1
                continue
            verdict = check(recipient_from_contact(row, c, self._schema.preferences), action)
            if not verdict.allowed:
                report.not_reachable[verdict.reason] = (
                    report.not_reachable.get(verdict.reason, 0) + 1
                )
                continue
            events.append(DueEvent(event_key(KIND, person, wave), person, KIND, wave, today))
        # The events of people asked in this wave were left out above: these are all new.
        self._ledger.record_new(events, report)
        log.info("data checks (wave %s): %d recorded, %d asked already, not reachable %s",
                 wave, report.created, report.already_asked, report.not_reachable)
        return report

    def asked(self, wave: str, today: date) -> tuple[set[str], int]:
        """The people with a data-check event in ``wave`` already, and how many of those
        events are due ``today`` (they count against today's cap); one paged read."""
        e = self._schema.lifecycle_event
        person = lookup_value(e.person)
        rows = self._client.query(
            e.entity_set,
            select=(person, e.due),
            filter=odata.and_(odata.eq(e.kind, e.kind_values[KIND]), odata.eq(e.period, wave)),
        )
        people: set[str] = set()
        due_today = 0
        for row in rows:
            if row.get(person):
                people.add(str(row[person]).lower())
            due_today += date_of(row.get(e.due)) == today
        return people, due_today

    def _due(self, today: date) -> Iterator[dict[str, Any]]:
        c = self._schema.contact
        cutoff = datetime.combine(today - timedelta(days=self._settings.interval_days), time(),
                                  UTC)
        categories = [c.category_values[category] for category in self._settings.categories]
        return self._client.query(
            c.entity_set,
            select=(*contact_columns(c), c.details_confirmed_on),
            filter=odata.and_(
                odata.eq(c.state, 0),
                odata.contain_values(c.categories, categories),
                odata.or_(
                    odata.eq(c.details_confirmed_on, None),
                    odata.lt(c.details_confirmed_on, cutoff),
                ),
            ),
            orderby=(odata.asc(c.details_confirmed_on), odata.asc(c.id)),
        )

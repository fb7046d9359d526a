"""Birthday greetings per segment, for people without a running membership too.

The lifecycle greets members on their birthday (:func:`~plugins.sync.lifecycle.schedule`).
A plan with ``"birthdays": true`` (:mod:`.plans`) extends that to everyone in its segment,
alumni without a membership included: :meth:`BirthdayGreetings.run` reads the active
contacts with a birth date (in the categories the plans name, when they all name some),
keeps those whose plan is one with ``birthdays`` and sends birthdays, and records their
greetings due in the run's window under the same key as a member's greeting, so nobody is
greeted twice. The lifecycle run then delivers them through the plan like any other event.
"""

from __future__ import annotations

import logging
from datetime import date

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient

from .ledger import EventLedger, Tally
from .lifecycle import EventKind, Window, birthdays_due
from .plans import choose, plan_person
from .policy import recipient_topics
from .repository import date_of

log = logging.getLogger(__name__)


class BirthdayGreetings:
    """Records the birthday greetings the plans extend beyond members."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        settings: SyncSettings.Lifecycle,
        ledger: EventLedger,
    ) -> None:
        self._client = client
        self._schema = schema
        self._settings = settings
        self._ledger = ledger

    def run(self, window: Window) -> Tally:
        """Record the greetings due in ``window`` for the plans' segments."""
        tally = Tally()
        plans = [plan for plan in self._settings.plans.plans if plan.birthdays]
        if not plans or window.after >= window.until:
            return tally
        c = self._schema.contact
        clauses = [odata.eq(c.state, 0), odata.ne(c.birth_date, None)]
        if all(plan.segment.categories for plan in plans):
            wanted = {c.category_values[k] for plan in plans for k in plan.segment.categories}
            clauses.append(odata.contain_values(c.categories, sorted(wanted)))
        rows = self._client.query(
            c.entity_set,
            select=(c.id, c.birth_date, c.categories, c.topics, c.language),
            filter=odata.and_(*clauses),
        )
        greeted = {plan.name for plan in plans}
        birth_dates: dict[str, date] = {}
        for row in rows:
            born = date_of(row.get(c.birth_date))
            person = plan_person(
                c.categories_of(row.get(c.categories)), None,
                recipient_topics(row, c, self._schema.preferences), row.get(c.language),
            )
            choice = choose(self._settings.plans, person, EventKind.BIRTHDAY, "birthday")
            if born is not None and choice.plan in greeted and not choice.refused:
                birth_dates[str(row[c.id]).lower()] = born
        self._ledger.record(birthdays_due(birth_dates, window), tally)
        log.info("birthday greetings by plan: %d recorded, %d recorded already",
                 tally.created, tally.existing)
        return tally

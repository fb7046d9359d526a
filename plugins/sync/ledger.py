"""The lifecycle event table: each event recorded once, and the pending ones delivered.

- :meth:`EventLedger.record` creates each event under its alternate key (kind, person,
  period) with ``If-None-Match: *``: a row that exists already (an earlier run, an
  overlapping window, a concurrent run, or the Dataverse event that started it) answers 412
  and is left alone, so an event exists once whatever happens;
- :meth:`EventLedger.deliver` checks each pending event against the person's preferences
  (:mod:`.policy`) and refuses it with the reason, or delivers it (:mod:`.delivery`), and
  writes the outcome back to the event (``UpdateMultiple``). A technical failure to deliver
  leaves the event pending with the reason, so the next run tries again while the event is
  within its catch-up reach; a failure no retry fixes (a missing template, a person gone)
  marks it failed.

The nightly run (:mod:`.service`) and the messages Dataverse events start (:mod:`.follow_ups`)
both go through here.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import DuplicateRecordError

from .delivery import Delivery, PendingEvent
from .lifecycle import DueEvent, Problem, Window
from .plans import Choice, Person, choose, plan_person
from .policy import (
    Action,
    Channel,
    check,
    contact_columns,
    recipient_from_contact,
    recipient_topics,
)
from .repository import MappedTable, chunks, date_of, lookup_value

_CONTACTS_PER_READ = 50
_KEYS_PER_READ = 50
_WRITES_PER_FLUSH = 200
_REASON_LENGTH = 200
NOT_IN_PLAN = "not-in-plan"


@dataclass
class Tally:
    """What recording and delivering events did (keys and counts only)."""

    created: int = 0
    existing: int = 0
    sent: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    failed: list[Problem] = field(default_factory=list)
    retrying: list[Problem] = field(default_factory=list)


class EventLedger:
    """Records lifecycle events and delivers the pending ones."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        settings: SyncSettings.Lifecycle,
        delivery: Delivery,
    ) -> None:
        self._client = client
        self._schema = schema
        self._settings = settings
        self._delivery = delivery

    # ------------------------------------------------------------------ recording

    def record(self, events: list[DueEvent], tally: Tally, known: Collection[str] = ()) -> None:
        """Create the events not recorded yet (``known`` keys are skipped unasked)."""
        e = self._schema.lifecycle_event
        for event in events:
            if event.key in known:
                tally.existing += 1
                continue
            try:
                self._client.upsert(
                    e.entity_set, {e.key: event.key}, self._event_record(event),
                    mode=UpsertMode.CREATE_ONLY,
                )
            except DuplicateRecordError:
                tally.existing += 1
                continue
            tally.created += 1

    def record_new(self, events: list[DueEvent], tally: Tally) -> None:
        """Create events the caller knows are not recorded yet, ``CreateMultiple`` in chunks
        (a request per chunk, not per event); should one exist after all (a concurrent
        run), every event is recorded one by one instead, which skips those that exist."""
        if not events:
            return
        e = self._schema.lifecycle_event
        records = [{e.key: event.key, **self._event_record(event)} for event in events]
        try:
            self._client.create_multiple(MappedTable.of(e), records)
        except DuplicateRecordError:
            self.record(events, tally)
            return
        tally.created += len(events)

    def known_keys(self, window: Window) -> set[str]:
        """The keys of the events due in ``window`` that are recorded already."""
        e = self._schema.lifecycle_event
        rows = self._client.query(
            e.entity_set,
            select=(e.key,),
            filter=odata.and_(odata.gt(e.due, window.after), odata.le(e.due, window.until)),
        )
        return {str(row[e.key]) for row in rows}

    def _event_record(self, event: DueEvent) -> dict[str, Any]:
        e = self._schema.lifecycle_event
        record: dict[str, Any] = {
            f"{e.person_nav}@odata.bind": odata.bind(
                self._schema.contact.entity_set, event.person_id
            ),
            e.kind: e.kind_values[event.kind],
            e.period: event.period,
            e.due: event.due,
            e.template: event.template,
            e.channel: self._schema.preferences.channel_values[
                event.channel or self._settings.channel
            ],
            e.delivery_status: e.delivery_values["pending"],
        }
        if event.membership_id is not None:
            record[f"{e.membership_nav}@odata.bind"] = odata.bind(
                self._schema.membership.entity_set, event.membership_id
            )
        return record

    # ------------------------------------------------------------------ reading

    def pending(self, today: date, keys: Collection[str] | None = None) -> list[PendingEvent]:
        """Pending events due by ``today`` within the catch-up reach, oldest first; only
        those with ``keys`` when given."""
        if keys is None:
            return self._pending_where(today, None)
        found: list[PendingEvent] = []
        for part in chunks(sorted(keys), _KEYS_PER_READ):
            found += self._pending_where(today, odata.in_(self._schema.lifecycle_event.key, part))
        return found

    def _pending_where(self, today: date, where: odata.Filter | None) -> list[PendingEvent]:
        e = self._schema.lifecycle_event
        kinds = {number: kind for kind, number in e.kind_values.items()}
        channels = {n: name for name, n in self._schema.preferences.channel_values.items()}
        m = self._schema.membership
        types = {n: name for name, n in m.type_values.items()}
        reach = today - timedelta(days=self._settings.rules.max_catch_up_days)
        clauses = [
            odata.eq(e.delivery_status, e.delivery_values["pending"]),
            odata.gt(e.due, reach),
            odata.le(e.due, today),
        ]
        rows = self._client.query(
            e.entity_set,
            select=(e.id, e.key, lookup_value(e.person), lookup_value(e.membership),
                    e.kind, e.period, e.due, e.template, e.channel),
            filter=odata.and_(*clauses, *([where] if where is not None else [])),
            orderby=(odata.asc(e.due), odata.asc(e.key)),
            expand=(odata.Expand(e.membership_nav, select=(m.type,)),),
        )
        pending = []
        for row in rows:
            person = row.get(lookup_value(e.person))
            kind = kinds.get(row.get(e.kind))
            due = date_of(row.get(e.due))
            if person is None or kind is None or due is None:
                continue
            membership = row.get(lookup_value(e.membership))
            pending.append(
                PendingEvent(
                    id=str(row[e.id]),
                    key=str(row[e.key]),
                    person_id=str(person).lower(),
                    kind=kind,
                    period=str(row.get(e.period) or ""),
                    due=due,
                    template=str(row.get(e.template) or kind),
                    membership_id=str(membership).lower() if membership else None,
                    channel=channels.get(row.get(e.channel), self._settings.channel),
                    membership_type=types.get((row.get(e.membership_nav) or {}).get(m.type)),
                )
            )
        return pending

    # ----------------------------------------------------------------- delivery

    def deliver(self, pending: list[PendingEvent], now: datetime, tally: Tally) -> None:
        """Refuse or deliver each event, and write the outcomes back."""
        if not pending:
            return
        contacts = self._contacts({p.person_id for p in pending}, pending)
        e = self._schema.lifecycle_event
        outcomes: list[dict[str, Any]] = []
        for event in pending:
            outcomes.append({e.id: event.id, **self._deliver(event, contacts, now, tally)})
            if len(outcomes) >= _WRITES_PER_FLUSH:
                self._client.update_multiple(MappedTable.of(e), outcomes)
                outcomes = []
        if outcomes:
            self._client.update_multiple(MappedTable.of(e), outcomes)

    def _deliver(
        self,
        event: PendingEvent,
        contacts: dict[str, dict[str, Any]],
        now: datetime,
        tally: Tally,
    ) -> dict[str, Any]:
        e = self._schema.lifecycle_event
        contact = contacts.get(event.person_id)
        if contact is None:
            tally.failed.append(Problem(event.key, "person not found"))
            return self._outcome("failed", "person not found")
        recipient = recipient_from_contact(contact, self._schema.contact, self._schema.preferences)
        choice = choose(
            self._settings.plans, self._plan_person(contact, event), event.kind, event.template
        )
        planned = self._planned(choice, event)
        if choice.refused:
            tally.refused[NOT_IN_PLAN] = tally.refused.get(NOT_IN_PLAN, 0) + 1
            return {**self._outcome("refused", NOT_IN_PLAN), **planned}
        event = replace(
            event, template=choice.template, channel=choice.channel or event.channel,
            languages=choice.languages,
        )
        action = Action(
            Channel(event.channel),
            topic=self._settings.topics.get(event.kind),
            bulk=event.kind in self._settings.bulk_kinds,
        )
        verdict = check(recipient, action)
        if not verdict.allowed:
            tally.refused[verdict.reason] = tally.refused.get(verdict.reason, 0) + 1
            return {**self._outcome("refused", verdict.reason), **planned}
        delivered = self._delivery.deliver(event, contact)
        if delivered.failure is not None and delivered.retry:
            tally.retrying.append(Problem(event.key, delivered.failure))
            return {**self._outcome("pending", delivered.failure), **planned}
        if delivered.failure is not None:
            tally.failed.append(Problem(event.key, delivered.failure))
            return {**self._outcome("failed", delivered.failure), **planned}
        tally.sent += 1
        return {**self._outcome("sent", None), e.sent_on: now, **planned}

    def _plan_person(self, contact: dict[str, Any], event: PendingEvent) -> Person:
        c = self._schema.contact
        topics = recipient_topics(contact, c, self._schema.preferences)
        return plan_person(
            c.categories_of(contact.get(c.categories)), event.membership_type, topics,
            contact.get(c.language),
        )

    def _planned(self, choice: Choice, event: PendingEvent) -> dict[str, Any]:
        """What the event row records of the plan: which and why, and the template and
        channel it chose (nothing when the organisation has no plans)."""
        if not self._settings.plans.plans:
            return {}
        e = self._schema.lifecycle_event
        record: dict[str, Any] = {e.plan: choice.explanation, e.template: choice.template}
        if choice.channel is not None:
            record[e.channel] = self._schema.preferences.channel_values[choice.channel]
        return record

    def _outcome(self, status: str, reason: str | None) -> dict[str, Any]:
        e = self._schema.lifecycle_event
        text = reason[:_REASON_LENGTH] if reason is not None else None
        return {e.delivery_status: e.delivery_values[status], e.reason: text}

    def _contacts(
        self, person_ids: Collection[str], pending: list[PendingEvent]
    ) -> dict[str, dict[str, Any]]:
        c = self._schema.contact
        planned = {c.categories, c.language}
        columns = sorted(
            set(contact_columns(c)) | planned | self._delivery.contact_columns(pending)
        )
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(sorted(person_ids), _CONTACTS_PER_READ):
            rows = self._client.query(
                c.entity_set,
                select=columns,
                filter=odata.in_(c.id, [uuid.UUID(p) for p in part]),
            )
            found.update({str(row[c.id]).lower(): row for row in rows})
        return found

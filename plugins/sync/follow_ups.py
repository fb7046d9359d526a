"""Messages that Dataverse events start at once: an approved registration, a new or renewed
membership, and the configured table changes (:class:`~plugins.sync.triggers.FollowUpRules`).

Routing: these events arrive on the registration pipeline's endpoint (``member-plugins
register`` registers every step on one webhook or queue); :mod:`plugins.dispatch` hands each
event to the registration pipeline and to :class:`FollowUps`, and each acts only on the tables
it watches.

Every event is a nudge: the row is re-read, the pure :mod:`.triggers` says which messages are
due, and the :class:`~plugins.sync.ledger.EventLedger` records each under the key the nightly
run uses and delivers the pending ones (the consent policy first). A redelivered event, or
the nightly run coming second, creates nothing new and sends nothing twice. The event's
``tag`` is not checked: the registration pipeline's own approval is exactly what starts the
series, and the writes made here (events, e-mails) are on tables no step watches.

A technical failure raises :class:`FollowUpFailure`; the trigger answers 503 (webhook) or
lets the message be redelivered (queue).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from plugins.core.events import DataverseEvent
from plugins.core.remote_context import Entity
from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import DataverseError, NotFoundError

from .delivery import Delivery
from .ledger import EventLedger, Tally
from .lifecycle import DueEvent, Membership, Problem
from .memberships import MembershipRows
from .repository import date_of, datetime_of, lookup_value
from .service import APPROVED
from .triggers import FollowUpRules, approved, follow_up, joined, renewed

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Result = Literal["delivered", "nothing-due", "ignored", "gone"]


class FollowUpFailure(Exception):
    """A technical failure (Dataverse unavailable, throttled, ...): worth trying again."""


class FollowUpOutcome(BaseModel):
    """What one event came to (ids, keys and counts only)."""

    model_config = ConfigDict(frozen=True)

    table: str
    record_id: str
    result: Result
    created: int = 0
    sent: int = 0
    refused: int = 0
    failed: int = 0
    detail: str | None = None


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class FollowUps:
    """Turns the Dataverse events that start lifecycle messages into sent messages."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        lifecycle: SyncSettings.Lifecycle,
        rules: FollowUpRules,
        delivery: Delivery,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._client = client
        self._schema = schema
        self._lifecycle = lifecycle
        self._rules = rules
        self._ledger = EventLedger(client, schema, lifecycle, delivery)
        self._memberships = MembershipRows(schema.membership)
        self._zone = ZoneInfo(lifecycle.timezone)
        self._clock = clock

    @property
    def tables(self) -> frozenset[str]:
        """The tables whose events this acts on."""
        if not self._rules.enabled:
            return frozenset()
        watched = {trigger.table for trigger in self._rules.triggers}
        if self._rules.approvals:
            watched.add(self._schema.registration.table)
        if self._rules.memberships:
            watched.add(self._schema.membership.table)
        return frozenset(watched)

    def handle(self, event: DataverseEvent) -> FollowUpOutcome:
        """Record and deliver what ``event`` makes due; FollowUpFailure when Dataverse failed."""
        outcome = FollowUpOutcome(table=event.table, record_id=event.record_id, result="ignored")
        if event.table not in self.tables or event.message not in ("Create", "Update"):
            return outcome
        now = self._clock()
        today = now.astimezone(self._zone).date()
        try:
            with DataverseClient.correlation(event.correlation_id):
                due = self._due(event, today)
                if due is None:
                    return outcome.model_copy(update={"result": "gone"})
                outcome = self._deliver(due, today, now, outcome)
        except DataverseError as exc:
            raise FollowUpFailure(f"{event.table} {event.record_id}: {exc}") from exc
        log.info(
            "follow-ups: %s %s of %s %s: %s, %d created, %d sent, %d refused, %d failed",
            event.source, event.message, event.table, event.record_id, outcome.result,
            outcome.created, outcome.sent, outcome.refused, outcome.failed,
        )
        return outcome

    def _deliver(
        self, due: list[DueEvent], today: date, now: datetime, outcome: FollowUpOutcome
    ) -> FollowUpOutcome:
        if not due:
            return outcome.model_copy(update={"result": "nothing-due"})
        tally = Tally()
        self._ledger.record(due, tally)
        self._ledger.deliver(self._ledger.pending(today, {e.key for e in due}), now, tally)
        for problem in tally.failed + tally.retrying:
            log.warning("follow-ups: %s not sent: %s", problem.record_id, problem.reason)
        return outcome.model_copy(
            update={
                "result": "delivered",
                "created": tally.created,
                "sent": tally.sent,
                "refused": sum(tally.refused.values()),
                "failed": len(tally.failed) + len(tally.retrying),
            }
        )

    # ------------------------------------------------------------------ what is due

    def _due(self, event: DataverseEvent, today: date) -> list[DueEvent] | None:
        """The messages the event makes due; None when its row no longer exists."""
        due: list[DueEvent] = []
        try:
            if event.table == self._schema.registration.table and self._rules.approvals:
                due += self._approval(event, today)
            if event.table == self._schema.membership.table and self._rules.memberships:
                due += self._membership(event, today)
            due += self._follow_ups(event, today)
        except NotFoundError:
            return None
        return due

    def _follow_ups(self, event: DataverseEvent, today: date) -> list[DueEvent]:
        due = []
        for trigger in self._rules.triggers:
            if trigger.table != event.table:
                continue
            row = self._client.get(
                trigger.entity_set, event.record_id,
                select=(trigger.column, lookup_value(trigger.person)),
            ) or {}
            person = row.get(lookup_value(trigger.person))
            if person and trigger.matches(row.get(trigger.column)):
                due.append(follow_up(trigger, event.record_id, str(person), today))
        return due

    def _approval(self, event: DataverseEvent, today: date) -> list[DueEvent]:
        if event.message != "Update":
            return []
        r = self._schema.registration
        row = self._client.get(
            r.entity_set, event.record_id,
            select=(r.status, lookup_value(r.person), r.processed_on),
        ) or {}
        approved_values = {r.status_values[s] for s in APPROVED}
        person = row.get(lookup_value(r.person))
        if row.get(r.status) not in approved_values or not person:
            return []
        processed = datetime_of(row.get(r.processed_on))
        anchor = processed.astimezone(self._zone).date() if processed else today
        return approved(str(person).lower(), anchor, today, self._lifecycle.rules)

    def _membership(self, event: DataverseEvent, today: date) -> list[DueEvent]:
        m = self._schema.membership
        row = self._client.get(m.entity_set, event.record_id, select=self._memberships.select)
        if row is None:
            return []
        parsed = self._memberships.parse(row)
        if isinstance(parsed, Problem):
            log.warning("follow-ups: membership %s skipped: %s", parsed.record_id, parsed.reason)
            return []
        if event.message == "Create":
            return self._joined(parsed, today)
        previous = self._previous_end(event)
        if previous is None:
            return []
        renewal = renewed(parsed, previous, today)
        return [renewal] if renewal is not None else []

    def _joined(self, membership: Membership, today: date) -> list[DueEvent]:
        plan = joined(
            membership, today, self._lifecycle.rules,
            known_types=frozenset(self._schema.membership.type_values),
        )
        for problem in plan.problems:
            log.warning("follow-ups: membership %s skipped: %s", problem.record_id, problem.reason)
        return plan.events

    def _previous_end(self, event: DataverseEvent) -> date | None:
        """The end date before the update, from the step's pre-image (None without one)."""
        column = self._schema.membership.end
        for image in event.pre_images.values():
            if isinstance(image, Entity) and column in image.attributes:
                return _as_date(image.attributes[column])
        log.info("follow-ups: membership %s had no %s before the update (open-ended, or no "
                 "pre-image); no renewal", event.record_id, column)
        return None


def _as_date(value: Any) -> date | None:
    """A pre-image's date (``/Date(...)/`` decodes to an aware datetime at UTC midnight)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return date_of(value)

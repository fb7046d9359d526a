"""The lifecycle run: statuses, due events created once, and their delivery.

One run at ``now``:

1. the window is ``(day of the last successful run, today]`` in the organisation's time zone
   (:func:`~plugins.sync.lifecycle.catch_up_window`), so a rerun the same day covers nothing
   and a run after missed days covers each of them;
2. memberships (with the person's birth date) and registrations approved in the window are
   read and scheduled by the pure :func:`~plugins.sync.lifecycle.schedule`; bad records are
   reported with their id and skipped;
3. status changes are written with ``UpdateMultiple``;
4. each due event is recorded once (:class:`~plugins.sync.ledger.EventLedger`: created under
   its alternate key with ``If-None-Match: *``);
5. every pending event (created now, left pending by a run that failed, or whose delivery
   failed for a technical reason) is checked against the person's preferences and refused
   with the reason, or delivered; the outcome is written back to the event;
6. the checkpoint records the run as successful. A run that fails before this leaves the
   checkpoint where it was, and the next run covers the same days again, creating nothing
   twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Status

from .delivery import Delivery
from .ledger import EventLedger, Tally
from .lifecycle import (
    Approval,
    Membership,
    MembershipStatus,
    Problem,
    StatusChange,
    Window,
    catch_up_window,
    schedule,
)
from .memberships import MembershipRows
from .repository import Checkpoints, MappedTable, date_of, datetime_of, lookup_value

log = logging.getLogger(__name__)

CHECKPOINT = "lifecycle"
APPROVED = (Status.APPROVED_REGISTERED_ALUMNUS, Status.APPROVED_ALUMNUS, Status.APPROVED_MANUALLY)


@dataclass
class LifecycleReport(Tally):
    """What one lifecycle run did (ids and counts only)."""

    window: Window = field(kw_only=True)
    status_changes: int = 0
    problems: list[Problem] = field(default_factory=list)


class LifecycleRun:
    """Schedules, records and delivers the lifecycle messages of one organisation."""

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
        self._ledger = EventLedger(client, schema, settings, delivery)
        self._zone = ZoneInfo(settings.timezone)
        self._checkpoints = Checkpoints(client, schema.checkpoint)
        self._rows = MembershipRows(schema.membership)

    def run(self, now: datetime) -> LifecycleReport:
        """One run at ``now`` (timezone-aware)."""
        rules = self._settings.rules
        today = now.astimezone(self._zone).date()
        last = self._checkpoints.read(CHECKPOINT).last_successful_run
        window = catch_up_window(
            last.astimezone(self._zone).date() if last else None, today, rules
        )
        report = LifecycleReport(window=window)
        memberships, birth_dates = self._memberships(today, report)
        plan = schedule(
            memberships,
            window,
            rules,
            birth_dates=birth_dates,
            approvals=self._approvals(window),
            known_types=frozenset(self._schema.membership.type_values),
        )
        report.problems.extend(plan.problems)
        self._write_statuses(plan.status_changes)
        report.status_changes = len(plan.status_changes)
        known = self._ledger.known_keys(window) if plan.events else set()
        self._ledger.record(plan.events, report, known)
        self._ledger.deliver(self._ledger.pending(today), now, report)
        self._checkpoints.save_success(CHECKPOINT, now)
        log.info(
            "lifecycle %s..%s: %d status changes, %d created, %d existing, %d sent, "
            "refused %s, %d failed, %d to retry, %d bad records",
            window.after, window.until, report.status_changes, report.created, report.existing,
            report.sent, report.refused, len(report.failed), len(report.retrying),
            len(report.problems),
        )
        for problem in report.problems + report.failed:
            log.warning("lifecycle: skipped %s: %s", problem.record_id, problem.reason)
        for problem in report.retrying:
            log.warning("lifecycle: not sent, retried next run: %s: %s", problem.record_id,
                        problem.reason)
        return report

    # ------------------------------------------------------------------ reading

    def _memberships(
        self, today: date, report: LifecycleReport
    ) -> tuple[list[Membership], dict[str, date]]:
        """Memberships that can still change or produce events, and members' birth dates.

        A membership lapsed (and recorded as lapsed) longer ago than any window reaches, or
        ended, has nothing left to schedule and is not read.
        """
        m = self._schema.membership
        contact = self._schema.contact
        reach = today - timedelta(days=self._settings.rules.grace_days + 2)
        reach -= timedelta(days=self._settings.rules.max_catch_up_days)
        rows = self._client.query(
            m.entity_set,
            select=self._rows.select,
            filter=odata.and_(
                odata.eq(m.state, 0),
                odata.ne(m.status, m.status_values[MembershipStatus.ENDED]),
                odata.or_(
                    odata.ne(m.status, m.status_values[MembershipStatus.LAPSED]),
                    odata.eq(m.end, None),
                    odata.ge(m.end, reach),
                ),
            ),
            expand=(odata.Expand(m.person_nav, select=(contact.birth_date,)),),
        )
        memberships: list[Membership] = []
        birth_dates: dict[str, date] = {}
        for row in rows:
            membership = self._rows.parse(row)
            if isinstance(membership, Problem):
                report.problems.append(membership)
                continue
            memberships.append(membership)
            born = date_of((row.get(m.person_nav) or {}).get(contact.birth_date))
            if born is not None:
                birth_dates[membership.person_id] = born
        return memberships, birth_dates

    def _approvals(self, window: Window) -> list[Approval]:
        """Registrations approved in the window: each starts an onboarding series."""
        r = self._schema.registration
        since = datetime.combine(window.after + timedelta(days=1), time(), self._zone)
        until = datetime.combine(window.until + timedelta(days=1), time(), self._zone)
        rows = self._client.query(
            r.entity_set,
            select=(lookup_value(r.person), r.processed_on),
            filter=odata.and_(
                odata.in_(r.status, [r.status_values[s] for s in APPROVED]),
                odata.ne(lookup_value(r.person), None),
                odata.ge(r.processed_on, since.astimezone(UTC)),
                odata.lt(r.processed_on, until.astimezone(UTC)),
            ),
        )
        approvals = []
        for row in rows:
            processed = datetime_of(row.get(r.processed_on))
            person = row.get(lookup_value(r.person))
            if processed is not None and person:
                approved_on = processed.astimezone(self._zone).date()
                approvals.append(Approval(str(person).lower(), approved_on))
        return approvals

    # ------------------------------------------------------------------ writing

    def _write_statuses(self, changes: list[StatusChange]) -> None:
        m = self._schema.membership
        updates = [{m.id: c.membership_id, m.status: m.status_values[c.new]} for c in changes]
        if updates:
            self._client.update_multiple(MappedTable.of(m), updates)

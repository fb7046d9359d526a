"""The nightly dues run: memberships, invoices, their delivery, and payment reminders.

One run at ``now``:

1. memberships: each registration approved since the last successful run (when
   ``registration_type`` names a type) and each membership application approved since then
   (``applications``) gives its person a membership of that type from the day of approval,
   unless they hold a running one already; the membership's id derives from the
   registration or application, so it is created once. A paid type's membership runs to
   the invoice's due date plus the type's grace days until the invoice is paid
   (:mod:`.terms`);
2. renewals: a running membership of a paid type that ends within ``renewal_days`` gets the
   invoice for its next period, due on its end date, unless an invoice of it is still
   unpaid (a new member who has not paid is not asked for next year); a free type's
   membership is extended;
3. invoices: every invoice not issued yet (by key: membership and period) is created with
   ``CreateMultiple``;
4. delivery: each undelivered invoice goes by post (marked for printing, the addressed PDF
   as a note on the invoice) to a person who chose post and whose address may be printed,
   otherwise as an e-mail with the PDF; a person the policy refuses is recorded with the
   reason;
5. reminders: each unpaid invoice gets a reminder at each configured offset after its due
   date, once (its key in the lifecycle event table);
6. the checkpoint records the run. A run that fails before this is repeated by the next one
   over the same registrations, creating nothing twice.

A membership whose invoice stays unpaid is left to the lifecycle: its end date passes, it
goes into grace and then lapses, each with the lifecycle's notice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DuesSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import DataverseError, DuplicateRecordError
from plugins.registration.model import Kind, Status
from plugins.sync.lifecycle import EventKind, Problem
from plugins.sync.policy import Channel, recipient_from_contact
from plugins.sync.repository import Checkpoints, chunks, date_of, datetime_of, lookup_value

from .channels import email_channel, invoice_channel
from .document import InvoiceDocument, Issuer, document_of
from .invoicing import InvoiceDraft, draft_invoice, new_membership_due
from .letters import PrintLetters
from .mailer import InvoiceMailer
from .references import ReferenceScheme
from .reminders import DueReminder, reminders_due
from .store import DuesStore, dues_id
from .terms import MembershipType, period_from, renewal_period, unpaid_end

log = logging.getLogger(__name__)

CHECKPOINT = "dues"
APPROVED = (Status.APPROVED_REGISTERED_ALUMNUS, Status.APPROVED_ALUMNUS, Status.APPROVED_MANUALLY)
CATCH_UP_DAYS = 7
_WRITES_PER_FLUSH = 200
_REASON_LENGTH = 200


@dataclass
class DuesReport:
    """What one dues run did (ids and counts only)."""

    memberships_created: int = 0
    memberships_extended: int = 0
    invoices_created: int = 0
    invoices_existing: int = 0
    emailed: int = 0
    to_print: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    reminders_sent: int = 0
    reminders_refused: int = 0
    problems: list[Problem] = field(default_factory=list)


class DuesRun:
    """The dues run of one organisation."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        settings: DuesSettings,
        organisation: str,
    ) -> None:
        self._client = client
        self._schema = schema
        self._settings = settings
        self._organisation = organisation
        self._store = DuesStore(client, schema)
        self._mailer = InvoiceMailer(client, schema)
        self._letters = PrintLetters(client, schema)
        self._checkpoints = Checkpoints(client, schema.checkpoint)
        self._zone = ZoneInfo(settings.timezone)
        self._scheme = ReferenceScheme(settings.reference_scheme)
        self._issuer = Issuer(
            organisation, settings.payee_name, settings.payee_account, settings.language
        )

    def run(self, now: datetime) -> DuesReport:
        """One run at ``now`` (timezone-aware)."""
        today = now.astimezone(self._zone).date()
        report = DuesReport()
        types = self._store.membership_types()
        last = self._checkpoints.read(CHECKPOINT).last_successful_run
        since = last if last is not None else now - timedelta(days=1)
        drafts = self._new_memberships(types, since, today, report)
        drafts += self._renewals(types, today, report)
        self._issue(drafts, report)
        self._deliver(report)
        self._remind(today, report)
        self._checkpoints.save_success(CHECKPOINT, now)
        log.info(
            "dues: %d memberships created, %d extended, %d invoices created (%d existing), "
            "%d e-mailed, %d to print, refused %s, %d reminders sent, %d refused, %d problems",
            report.memberships_created, report.memberships_extended, report.invoices_created,
            report.invoices_existing, report.emailed, report.to_print, report.refused,
            report.reminders_sent, report.reminders_refused, len(report.problems),
        )
        for problem in report.problems:
            log.warning("dues: skipped %s: %s", problem.record_id, problem.reason)
        return report

    def renew(self, now: datetime) -> DuesReport:
        """Only the renewals: invoice (or extend) the memberships ending soon."""
        report = DuesReport()
        today = now.astimezone(self._zone).date()
        self._issue(self._renewals(self._store.membership_types(), today, report), report)
        return report

    def deliver(self) -> DuesReport:
        """Only the delivery of the invoices not delivered yet."""
        report = DuesReport()
        self._deliver(report)
        return report

    # ------------------------------------------------------------ memberships

    def _new_memberships(
        self, types: list[MembershipType], since: datetime, today: date, report: DuesReport
    ) -> list[InvoiceDraft]:
        starts: list[tuple[str, str, MembershipType, date]] = []
        if self._settings.registration_type:
            kind = next((t for t in types if t.code == self._settings.registration_type), None)
            if kind is None:
                report.problems.append(Problem(
                    self._settings.registration_type, "membership type not found (its code)"
                ))
            else:
                starts += [(dues_id("registration", r), p, kind, day)
                           for r, p, day in self._approved_registrations(since)]
        if self._settings.applications:
            by_id = {t.id: t for t in types}
            for application_id, person, type_id, day in self._approved_applications(since):
                kind = by_id.get(type_id)
                if kind is None:
                    report.problems.append(Problem(application_id, "unknown membership type"))
                    continue
                starts.append((dues_id("application", application_id), person, kind, day))
        running = self._store.people_with_running_membership({p for _, p, _, _ in starts})
        drafts: list[InvoiceDraft] = []
        started: set[str] = set()
        for membership_id, person, kind, start in starts:
            if person in started or running.get(person, {membership_id}) - {membership_id}:
                continue
            started.add(person)
            # Everything follows from the day of approval, so a run repeated later drafts
            # the same invoice (same key) and creates nothing twice.
            period = period_from(start, kind)
            due = new_membership_due(start, self._settings.payment_terms_days)
            end = unpaid_end(due, kind) if kind.paid else period.end
            if self._store.create_membership(membership_id, person, kind, start, end):
                report.memberships_created += 1
            if kind.paid:
                drafts.append(draft_invoice(
                    membership_id, person, kind, period, start, due, self._scheme
                ))
        return drafts

    def _approved_registrations(self, since: datetime) -> list[tuple[str, str, date]]:
        r = self._schema.registration
        rows = self._client.query(
            r.entity_set,
            select=(r.id, lookup_value(r.person), r.processed_on),
            filter=odata.and_(
                odata.in_(r.status, [r.status_values[s] for s in APPROVED]),
                odata.eq(r.kind, r.kind_values[Kind.REGISTRATION]),
                odata.ne(lookup_value(r.person), None),
                odata.ge(r.processed_on, since.astimezone(UTC)),
            ),
            orderby=(odata.asc(r.processed_on),),
        )
        return [
            (str(row[r.id]).lower(), str(row[lookup_value(r.person)]).lower(),
             self._day(row.get(r.processed_on)))
            for row in rows
        ]

    def _day(self, value: Any) -> date:
        """The organisation's day of a Web API date-and-time value."""
        moment = datetime_of(value) or datetime.now(UTC)
        return moment.astimezone(self._zone).date()

    def _approved_applications(self, since: datetime) -> list[tuple[str, str, str, date]]:
        a = self._schema.application
        rows = self._client.query(
            a.entity_set,
            select=(a.id, lookup_value(a.person), lookup_value(a.membership_type), a.decided_on),
            filter=odata.and_(
                odata.eq(a.status, a.status_values["approved"]),
                odata.eq(a.state, 0),
                odata.ne(lookup_value(a.person), None),
                odata.ne(lookup_value(a.membership_type), None),
                odata.ge(a.decided_on, since.astimezone(UTC)),
            ),
        )
        return [
            (str(row[a.id]).lower(), str(row[lookup_value(a.person)]).lower(),
             str(row[lookup_value(a.membership_type)]).lower(), self._day(row.get(a.decided_on)))
            for row in rows
        ]

    def _renewals(
        self, types: list[MembershipType], today: date, report: DuesReport
    ) -> list[InvoiceDraft]:
        m = self._schema.membership
        by_id = {t.id: t for t in types}
        last = today + timedelta(days=self._settings.renewal_days)
        drafts: list[InvoiceDraft] = []
        extended: dict[str, date] = {}
        waiting = self._store.memberships_with_unpaid_invoice()
        for row in self._store.memberships_ending(today, last):
            membership_id = str(row[m.id]).lower()
            if membership_id in waiting:
                # Its current period is not paid yet: no renewal before that.
                continue
            kind = by_id.get(str(row.get(lookup_value(m.membership_type)) or "").lower())
            end = date_of(row.get(m.end))
            person = row.get(lookup_value(m.person))
            if kind is None or end is None or person is None:
                report.problems.append(Problem(membership_id, "no type, end or person"))
                continue
            period = renewal_period(end, kind)
            if not kind.paid:
                extended[membership_id] = period.end
                continue
            drafts.append(draft_invoice(
                membership_id, str(person), kind, period, today, end, self._scheme
            ))
        self._store.extend_memberships(extended)
        report.memberships_extended += len(extended)
        return drafts

    # --------------------------------------------------------------- invoices

    def _issue(self, drafts: list[InvoiceDraft], report: DuesReport) -> None:
        if not drafts:
            return
        existing = self._store.invoice_keys_from(min(d.period.start for d in drafts))
        new = [d for d in drafts if d.key not in existing]
        report.invoices_existing += len(drafts) - len(new)
        if new:
            self._store.create_invoices([self._invoice_record(d) for d in new])
        report.invoices_created += len(new)

    def _invoice_record(self, draft: InvoiceDraft) -> dict[str, Any]:
        i = self._schema.invoice
        return {
            i.id: str(uuid.uuid5(uuid.NAMESPACE_URL, f"mp-invoice:{draft.key}")),
            i.number: draft.number,
            i.key: draft.key,
            f"{i.person_nav}@odata.bind": odata.bind(
                self._schema.contact.entity_set, draft.person_id
            ),
            f"{i.membership_nav}@odata.bind": odata.bind(
                self._schema.membership.entity_set, draft.membership_id
            ),
            i.amount: draft.amount,
            i.currency: draft.currency,
            i.invoice_date: draft.invoice_date,
            i.due: draft.due,
            i.period_start: draft.period.start,
            i.period_end: draft.period.end,
            i.reference: draft.reference,
            i.paid_amount: 0,
            i.status: i.status_values["open"],
            i.delivery: i.delivery_values["pending"],
        }

    # --------------------------------------------------------------- delivery

    def _deliver(self, report: DuesReport) -> None:
        i = self._schema.invoice
        rows = self._store.invoices_to_deliver()
        contacts = self._store.contacts({str(r[lookup_value(i.person)]).lower() for r in rows
                                         if r.get(lookup_value(i.person))})
        outcomes: list[dict[str, Any]] = []
        for row in rows:
            outcomes.append({i.id: row[i.id], **self._deliver_one(row, contacts, report)})
            if len(outcomes) >= _WRITES_PER_FLUSH:
                self._store.mark_delivery(outcomes)
                outcomes = []
        self._store.mark_delivery(outcomes)

    def _deliver_one(
        self, row: dict[str, Any], contacts: dict[str, dict[str, Any]], report: DuesReport
    ) -> dict[str, Any]:
        i = self._schema.invoice
        person = str(row.get(lookup_value(i.person)) or "").lower()
        contact = contacts.get(person)
        if contact is None:
            return self._outcome(report, "failed", "person not found")
        recipient = recipient_from_contact(contact, self._schema.contact, self._schema.preferences)
        channel, verdict = invoice_channel(recipient)
        if channel is None:
            return self._outcome(report, "refused", verdict.reason)
        if channel is Channel.POST:
            document = self._document(row, contact, reminder=False)
            self._letters.attach(str(row[i.key]), str(row[i.id]), document, contact)
            report.to_print += 1
            return self._outcome(report, "to-print", None)
        try:
            self._mailer.send(str(row[i.key]), person, self._first_name(contact),
                              self._document(row, contact, reminder=False))
        except DataverseError as exc:
            log.warning("dues: invoice %s not e-mailed, retried next run: %s",
                        row[i.id], type(exc).__name__)
            return self._outcome(report, "pending", f"sending failed: {type(exc).__name__}")
        report.emailed += 1
        return self._outcome(report, "emailed", None)

    def _outcome(self, report: DuesReport, status: str, reason: str | None) -> dict[str, Any]:
        i = self._schema.invoice
        if status in ("refused", "failed"):
            report.refused[reason or status] = report.refused.get(reason or status, 0) + 1
        text = reason[:_REASON_LENGTH] if reason else None
        return {i.delivery: i.delivery_values[status], i.delivery_reason: text}

    def _document(
        self, row: dict[str, Any], contact: dict[str, Any], *, reminder: bool
    ) -> InvoiceDocument:
        return document_of(self._schema, self._issuer, row, contact, reminder=reminder)

    def _first_name(self, contact: dict[str, Any]) -> str:
        return str(contact.get(self._schema.contact.first_name) or "")

    # -------------------------------------------------------------- reminders

    def _remind(self, today: date, report: DuesReport) -> None:
        offsets = self._settings.reminder_offsets_days
        if not offsets:
            return
        i = self._schema.invoice
        rows = self._store.open_invoices_due(today - timedelta(days=min(offsets)))
        due: list[tuple[DueReminder, dict[str, Any]]] = []
        for row in rows:
            person = row.get(lookup_value(i.person))
            due_on = date_of(row.get(i.due))
            if person is None or due_on is None:
                continue
            for reminder in reminders_due(
                str(row[i.id]), str(person), str(row.get(i.number) or ""), due_on, offsets,
                today, CATCH_UP_DAYS,
            ):
                due.append((reminder, row))
        if not due:
            return
        known = self._known_events([r.key for r, _ in due])
        waiting = [(r, row) for r, row in due if r.key not in known]
        contacts = self._store.contacts({r.person_id for r, _ in waiting})
        for reminder, row in waiting:
            self._send_reminder(reminder, row, contacts.get(reminder.person_id), report)

    def _send_reminder(
        self,
        reminder: DueReminder,
        row: dict[str, Any],
        contact: dict[str, Any] | None,
        report: DuesReport,
    ) -> None:
        if contact is None:
            self._record_reminder(reminder, "failed", "person not found")
            return
        recipient = recipient_from_contact(contact, self._schema.contact, self._schema.preferences)
        channel, verdict = email_channel(recipient)
        if channel is None:
            report.reminders_refused += 1
            self._record_reminder(reminder, "refused", verdict.reason)
            return
        self._mailer.send(reminder.key, reminder.person_id, self._first_name(contact),
                          self._document(row, contact, reminder=True))
        report.reminders_sent += 1
        self._record_reminder(reminder, "sent", None)

    def _known_events(self, keys: list[str]) -> set[str]:
        e = self._schema.lifecycle_event
        found: set[str] = set()
        for part in chunks(sorted(set(keys)), 50):
            rows = self._client.query(e.entity_set, select=(e.key,), filter=odata.in_(e.key, part))
            found.update(str(row[e.key]) for row in rows)
        return found

    def _record_reminder(self, reminder: DueReminder, status: str, reason: str | None) -> None:
        """Record the reminder as already decided (never pending, so the lifecycle run,
        which delivers pending events from templates, leaves it alone)."""
        e = self._schema.lifecycle_event
        record: dict[str, Any] = {
            f"{e.person_nav}@odata.bind": odata.bind(
                self._schema.contact.entity_set, reminder.person_id
            ),
            e.kind: e.kind_values[EventKind.PAYMENT_REMINDER],
            e.period: reminder.period,
            e.due: reminder.due,
            e.template: str(EventKind.PAYMENT_REMINDER),
            e.channel: self._schema.preferences.channel_values["email"],
            e.delivery_status: e.delivery_values[status],
            e.reason: reason,
        }
        if status == "sent":
            record[e.sent_on] = datetime.now(UTC)
        try:
            self._client.upsert(e.entity_set, {e.key: reminder.key}, record,
                                mode=UpsertMode.CREATE_ONLY)
        except DuplicateRecordError:
            return

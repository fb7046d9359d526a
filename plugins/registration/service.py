"""The registration pipeline: from a Dataverse event to a written, explained decision.

Every event is a nudge, never the truth: the service re-reads the registration (and the
candidate people, in the same round trip), checks it, matches it, asks the registries about
a person nobody matched, lets the pure :func:`~plugins.registration.decision.decide` choose,
and writes the decision as one change set. A change set refused with 412 (another delivery
of the same event, or another registration of the same new person, got there first) or 404
means "re-read and decide again", at most ``max_attempts`` times.

Dataverse round trips per registration: one read and one change set (two), plus one read
when the event carried no usable values (trimmed) or values the registration no longer has.
Registry look-ups are not Dataverse round trips.

The ports are injected: the client, the registries and the clock, so tests pass fakes or
real ones. Each handled event is logged as one line with correlation id, operation id,
registration id and outcome; never an identity number or an e-mail address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from plugins.core.events import DataverseEvent
from plugins.core.logging import log_context, update_log_context
from plugins.core.metrics import count_decision
from plugins.core.remote_context import OptionSetValue
from plugins.core.schema_map import SchemaMap
from plugins.core.settings import RegistrationSettings
from plugins.dataverse.batch import BatchRequest
from plugins.dataverse.client import DataverseClient
from plugins.identity import normalise_email, parse_national_id
from plugins.registries.errors import RegistryError

from .decision import Decision, Facts, decide, decide_admin
from .eligibility import evaluate
from .errors import RegistrationGone, StaleWrite, TransientFailure
from .matching import MatchKind, match_person
from .model import Kind, Registration, Status
from .records import ContactRecord
from .registry_facts import Registries, RegistryFacts
from .repository import ContactLookup, DecisionRead, RegistrationRepository
from .validation import Checked, check_registration
from .writeback import Subject, WriteOptions, plan_admin_followup, plan_decision

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Result = Literal["decided", "unchanged", "skipped", "gone", "ignored", "failed"]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Outcome(BaseModel):
    """What handling one event (or one registration of the sweep) came to."""

    model_config = ConfigDict(frozen=True)

    registration_id: str | None
    result: Result
    status: Status | None = None
    reason: str | None = None
    attempts: int = 0
    detail: str | None = None


class SweepReport(BaseModel):
    """What one sweep did."""

    model_config = ConfigDict(frozen=True)

    found: int
    outcomes: tuple[Outcome, ...] = ()

    @property
    def failed(self) -> int:
        """Registrations that stayed Received because of a technical error."""
        return sum(1 for o in self.outcomes if o.result == "failed")


@dataclass(frozen=True)
class Pending:
    """A decision taken and not yet written; ``subject`` None: nothing to write (the
    registration was decided before)."""

    registration_id: str
    decision: Decision
    subject: Subject | None
    now: datetime


def log_outcome(what: str, outcome: Outcome | TransientFailure) -> None:
    """One line for a handled registration, with the run's context (call inside its
    ``log_context``)."""
    if isinstance(outcome, TransientFailure):
        update_log_context(outcome="failed")
        log.warning("registration %s: technical failure, stays Received: %s", what, outcome)
        return
    update_log_context(outcome=outcome.result)
    log.info(
        "registration %s: %s status=%s reason=%s attempts=%d%s",
        what, outcome.result, outcome.status.value if outcome.status else "-",
        outcome.reason or "-", outcome.attempts,
        f" ({outcome.detail})" if outcome.detail else "",
    )


class RegistrationService:
    """Handles registration events and the sweep, through the injected ports.

    The client should write with ``RegistrationSettings.write_tag``: events carrying the
    client's tag are taken for the pipeline's own and skipped.
    """

    def __init__(
        self,
        client: DataverseClient,
        settings: RegistrationSettings,
        schema: SchemaMap,
        *,
        registries: Registries | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.client = client
        self.settings = settings
        self.schema = schema
        self.registries = registries or Registries()
        self.clock = clock
        # Events carrying the tag this client writes with were caused by the pipeline itself.
        self.write_tag = client.settings.write_tag
        self.repository = RegistrationRepository(client, schema, settings.national_id_country)

    # ------------------------------------------------------------------ events

    def handle_event(self, event: DataverseEvent) -> Outcome:
        """Route an event: a created registration, or an update of its status.

        Raises :class:`TransientFailure` when a technical error stopped the check; the
        registration then stays Received.
        """
        with log_context(
            correlation_id=event.correlation_id, operation_id=event.operation_id
        ), DataverseClient.correlation(event.correlation_id):
            return self._logged(
                f"{event.message} event ({event.source})",
                event.record_id,
                lambda: self._route(event),
            )

    def handle_registration_event(self, event: DataverseEvent) -> Outcome:
        """A registration (or unregistration) was created: check it and write the decision."""
        if self.own(event):
            return Outcome(registration_id=event.record_id, result="skipped", detail="own write")
        return self._settled(lambda: self.process(event.record_id, self.hints(event)),
                             event.record_id)

    def handle_status_update(self, event: DataverseEvent) -> Outcome:
        """An administrator changed a registration's status: follow the decision up.

        ``ApprovedManually`` gives the person Registered alumnus; both it and ``Denied``
        close the open review task. A registration set back to ``Received`` is checked anew.
        """
        if self.own(event):
            return Outcome(registration_id=event.record_id, result="skipped", detail="own write")
        registration_id = event.record_id
        return self._settled(
            lambda: self._retrying(
                registration_id, lambda attempt: self._follow_up(registration_id, attempt)
            ),
            registration_id,
        )

    def sweep(self, now: datetime | None = None) -> SweepReport:
        """Process again the registrations left Received longer than the configured age."""
        moment = now or self.clock()
        cutoff = moment - timedelta(minutes=self.settings.sweep_age_minutes)
        ids = self.repository.received_until(cutoff, self.settings.sweep_batch_size)
        outcomes = []
        for registration_id in ids:
            try:
                outcome = self._logged(
                    "sweep",
                    registration_id,
                    lambda r=registration_id: self._settled(lambda: self.process(r, None), r),
                )
            except TransientFailure as exc:
                # The others would most likely fail the same way; the next sweep retries.
                outcomes.append(Outcome(registration_id=registration_id, result="failed",
                                        detail=str(exc)))
                break
            outcomes.append(outcome)
        report = SweepReport(found=len(ids), outcomes=tuple(outcomes))
        log.info("registration sweep: %d found, %d decided, %d failed", report.found,
                 sum(1 for o in outcomes if o.result == "decided"), report.failed)
        return report

    # -------------------------------------------------------------- processing

    def process(self, registration_id: str, lookup: ContactLookup | None) -> Outcome:
        """Check one registration and write the decision; re-read and decide again on 412.

        ``lookup`` is what the event said about the person (None: read the registration
        first). Raises :class:`RegistrationGone` and :class:`TransientFailure`.
        """
        return self._retrying(
            registration_id,
            lambda attempt: self._decide_and_write(registration_id, lookup, attempt),
        )

    def _retrying(self, registration_id: str, work: Callable[[int], Outcome]) -> Outcome:
        """``work(attempt)`` until it is not refused as stale, at most ``max_attempts``."""
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                return work(attempt)
            except StaleWrite:
                log.info("registration %s: changed while deciding (attempt %d), re-reading",
                         registration_id, attempt)
        raise TransientFailure(
            f"the registration kept changing during {self.settings.max_attempts} attempts"
        )

    def _decide_and_write(
        self, registration_id: str, lookup: ContactLookup | None, attempt: int
    ) -> Outcome:
        read = self.repository.read_for_decision(registration_id, lookup)
        pending = self.decide(read)
        changes = self.plan(pending)
        if changes is not None:
            self.repository.apply(changes)
            count_decision(str(pending.decision.status))
        return self.outcome(registration_id, pending.decision, attempt,
                             written=changes is not None)

    def decide(self, read: DecisionRead) -> Pending:
        """The decision on a registration as read (nothing written; the registries may be
        asked, and the contacts read again when the registration differs from the event).

        Raises :class:`TransientFailure`.
        """
        registration = read.record.registration
        if registration.status is not Status.RECEIVED:
            return Pending(registration.id, decide(Facts(registration=registration)), None,
                           self.clock())
        now = self.clock()
        checked = check_registration(
            registration,
            self.settings.national_id_country,
            national_id_required=self.settings.national_id_required,
            today=now.date(),
        )
        wanted = ContactLookup.of(
            checked.national_id, checked.email, registration.kind is Kind.UNREGISTRATION
        )
        contacts = () if checked.problems else self._contacts(read, wanted)
        facts, registry = self._facts(registration, checked, contacts, now)
        decision = decide(facts)
        matched = next((c for c in contacts if c.person.id == decision.person_id), None)
        subject = Subject(
            record=read.record,
            national_id=checked.national_id,
            person=matched,
            registry_person=registry.person,
        )
        return Pending(registration.id, decision, subject, now)

    def plan(self, pending: Pending, batch: BatchRequest | None = None) -> BatchRequest | None:
        """The change set writing ``pending`` (into ``batch`` when given); None when there
        is nothing to write."""
        if pending.subject is None:
            return None
        return plan_decision(
            pending.decision, pending.subject, self._write_options(pending.now), batch
        )

    def _contacts(
        self, read: DecisionRead, wanted: ContactLookup | None
    ) -> tuple[ContactRecord, ...]:
        if wanted == read.lookup:
            return read.contacts
        return self.repository.read_contacts(wanted) if wanted is not None else ()

    def _facts(
        self,
        registration: Registration,
        checked: Checked,
        contacts: tuple[ContactRecord, ...],
        now: datetime,
    ) -> tuple[Facts, RegistryFacts]:
        if checked.problems:
            return Facts(registration=registration, problems=checked.problems), RegistryFacts()
        match = match_person(checked.national_id, checked.email, [c.person for c in contacts])
        if match.kind is not MatchKind.NONE or registration.kind is Kind.UNREGISTRATION:
            return Facts(registration=registration, match=match), RegistryFacts()
        try:
            registry = self.registries.ask(checked.national_id)
        except RegistryError as exc:
            raise TransientFailure(f"registry: {exc}") from exc
        eligibility = evaluate(
            self.settings.alumni_rule,
            registry.study,
            self_declared=registration.self_declared_alumnus,
            today=now.date(),
        )
        facts = Facts(
            registration=registration,
            match=match,
            registry=registry.answer,
            registry_source=registry.source,
            eligibility=eligibility,
        )
        return facts, registry

    def _follow_up(self, registration_id: str, attempt: int) -> Outcome:
        read = self.repository.read_for_admin(registration_id)
        if read.record.registration.status is Status.RECEIVED:
            return self.process(registration_id, None)
        person = read.person
        decision = decide_admin(read.record.registration, person.person if person else None)
        plan = plan_admin_followup(
            decision, read.record, person, read.open_tasks, self._write_options(self.clock())
        )
        if plan is not None:
            self.repository.apply(plan)
        return self.outcome(registration_id, decision, attempt, written=plan is not None)

    # --------------------------------------------------------------- internals

    def _logged(
        self, what: str, registration_id: str, work: Callable[[], Outcome]
    ) -> Outcome:
        """Run ``work`` and log its outcome as one line with the run's context."""
        with log_context(registration_id=registration_id):
            try:
                outcome = work()
            except TransientFailure as exc:
                log_outcome(what, exc)
                raise
            log_outcome(what, outcome)
            return outcome

    def _settled(self, work: Callable[[], Outcome], registration_id: str) -> Outcome:
        """Run ``work``; a registration that no longer exists is settled, not retried."""
        try:
            return work()
        except RegistrationGone:
            return Outcome(registration_id=registration_id, result="gone",
                           detail="the registration no longer exists")

    def own(self, event: DataverseEvent) -> bool:
        """Whether the event was caused by the pipeline's own write (its tag)."""
        return bool(self.write_tag) and event.tag == self.write_tag

    def hints(self, event: DataverseEvent) -> ContactLookup | None:
        """The contacts query the event's own values suggest (re-checked after the read)."""
        m = self.schema.registration
        values = event.attributes
        national_id = values.get(m.national_id)
        canonical = None
        if isinstance(national_id, str):
            parsed = parse_national_id(national_id, self.settings.national_id_country,
                                       today=self.clock().date())
            canonical = parsed.canonical if parsed.valid else None
        email = values.get(m.email)
        kind = values.get(m.kind)
        unregistration = isinstance(kind, OptionSetValue) and m.kind_of(kind.value) is (
            Kind.UNREGISTRATION
        )
        return ContactLookup.of(
            canonical, normalise_email(email) if isinstance(email, str) else None, unregistration
        )

    def _write_options(self, now: datetime) -> WriteOptions:
        return WriteOptions(
            schema=self.schema,
            now=now,
            review_team_id=self.settings.review_team_id,
            task_due_days=self.settings.task_due_days,
        )

    @staticmethod
    def outcome(
        registration_id: str, decision: Decision, attempts: int, *, written: bool
    ) -> Outcome:
        """The outcome of a decision: "decided" when written, else "unchanged"."""
        return Outcome(
            registration_id=registration_id,
            result="decided" if written else "unchanged",
            status=decision.status,
            reason=decision.reason.value,
            attempts=attempts,
        )

    def _route(self, event: DataverseEvent) -> Outcome:
        if event.table != self.schema.registration.table:
            return Outcome(registration_id=None, result="ignored",
                           detail=f"event for table {event.table}")
        if event.message == "Create":
            return self.handle_registration_event(event)
        if event.message == "Update":
            return self.handle_status_update(event)
        return Outcome(registration_id=event.record_id, result="ignored",
                       detail=f"message {event.message}")

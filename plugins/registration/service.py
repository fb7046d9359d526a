"""The registration pipeline: from a Dataverse event to a written, explained decision.

Every event is a nudge, never the truth: the service re-reads the registration (and the
candidate people, in the same round trip), checks it, matches it, asks the registries about
a person nobody matched, lets the pure :func:`~plugins.registration.decision.decide` choose,
and writes the decision as one change set. A change set refused with 412 (another delivery
of the same event, or another registration of the same new person, got there first) or 404
means "re-read and decide again", at most ``max_attempts`` times.

Dataverse round trips per registration: one read and one change set (two), plus one read
when the event carried no usable values (trimmed) or values the registration no longer has,
and one read of the degrees recorded for a new person the student register knows when the
alumni rule asks for a degree and does not hold without them (a queue batch makes that one
read for all its registrations that need it: :meth:`RegistrationService.degrees_wanted`).
Registry look-ups are not Dataverse round trips.

The ports are injected: the client, the registries and the clock, so tests pass fakes or
real ones. Each handled event is logged as one line with correlation id, operation id,
registration id and outcome; never an identity number or an e-mail address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
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
from plugins.registries.models import Degree, RegistryPerson, StudyFacts
from plugins.sync.repository import Tombstones

from .decision import (
    Decision,
    Eligibility,
    Facts,
    PersonAction,
    TaskAction,
    asks_registries,
    decide,
    decide_admin,
    registry_number,
)
from .eligibility import evaluate, with_degrees
from .errors import RegistrationGone, StaleWrite, TransientFailure
from .matching import match_person
from .model import Kind, Registration, Status
from .records import ContactRecord
from .registry_facts import Registries, RegistryFacts
from .repository import ContactLookup, DecisionRead, RegistrationRepository
from .validation import check_registration
from .writeback import Subject, WriteOptions, plan_admin_followup, plan_decision

log = logging.getLogger(__name__)

# A student as the degree table knows them: (register, the register's own student id).
StudentKey = tuple[str, str]

Clock = Callable[[], datetime]
Result = Literal["decided", "unchanged", "skipped", "gone", "ignored", "failed"]
_ALUMNUS_STATUSES = (Status.APPROVED_ALUMNUS, Status.APPROVED_REGISTERED_ALUMNUS)


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


@dataclass(frozen=True)
class Considered:
    """A registration checked and matched, before the registries are asked
    (:meth:`RegistrationService.consider`); ``national_id`` is its canonical identity
    number, when valid."""

    read: DecisionRead
    facts: Facts
    national_id: str | None
    contacts: tuple[ContactRecord, ...]
    now: datetime

    @property
    def registry_number(self) -> str | None:
        """The number the registries are asked about for this registration, or None."""
        return registry_number(self.facts, self.national_id)


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
        tombstone_key: str | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.schema = schema
        self.registries = registries or Registries()
        self.clock = clock
        # Events carrying the tag this client writes with were caused by the pipeline itself.
        self.write_tag = client.settings.write_tag
        self.repository = RegistrationRepository(client, schema, settings.national_id_country)
        self._team_id: str | None = None
        # With the key (SyncSettings.tombstone_key) a person erased on request is not created.
        self._tombstone_key = tombstone_key
        self._tombstones = Tombstones(client, schema.tombstone)

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
        considered = self.consider(read)
        return self.conclude(considered, self.ask(considered))

    def consider(self, read: DecisionRead) -> Considered:
        """A registration as read, checked and matched: everything its decision needs but
        the registries' answer (the contacts are read again when the registration differs
        from the event, the tombstones when a person would be created).

        Raises :class:`TransientFailure`.
        """
        registration = read.record.registration
        now = self.clock()
        if registration.status is not Status.RECEIVED:
            return Considered(read, Facts(registration=registration), None, (), now)
        checked = check_registration(
            registration,
            self.settings.national_id_country,
            national_id_required=self.settings.national_id_required,
            today=now.date(),
        )
        if checked.problems:
            facts = Facts(registration=registration, problems=checked.problems)
            return Considered(read, facts, checked.national_id, (), now)
        wanted = ContactLookup.of(
            checked.national_id, checked.email, registration.kind is Kind.UNREGISTRATION,
            linked_id=_proven_person(registration),
        )
        contacts = self._contacts(read, wanted)
        match = match_person(
            checked.national_id, checked.email, [c.person for c in contacts],
            linked_id=_proven_person(registration),
        )
        facts = Facts(registration=registration, match=match)
        if asks_registries(facts) and self._erased(checked.national_id):
            facts = facts.model_copy(update={"erased": True})
        return Considered(read, facts, checked.national_id, contacts, now)

    def ask(
        self, considered: Considered, registries: Registries | None = None
    ) -> RegistryFacts | None:
        """What the registries say about ``considered``'s person, or None when its decision
        does not rest on them (``registries``: by default the service's; a batch passes
        them :meth:`Registries.prefetched` for its numbers).

        Raises :class:`TransientFailure` when a registry fails.
        """
        if not asks_registries(considered.facts):
            return None
        try:
            return (registries or self.registries).ask(considered.national_id)
        except RegistryError as exc:
            raise TransientFailure(f"registry: {exc}") from exc

    def degrees_wanted(
        self, considered: Considered, registry: RegistryFacts | None
    ) -> StudentKey | None:
        """The student (register, student ref) whose recorded degrees the decision on
        ``considered`` rests on, given the registries' answer ``registry``: the alumni rule
        asks for a degree and does not hold on the registers' facts alone. None otherwise."""
        if registry is None:
            return None
        return self._on_register_facts(considered.facts.registration, registry, considered.now)[1]

    def conclude(
        self,
        considered: Considered,
        registry: RegistryFacts | None,
        degrees: Mapping[StudentKey, list[Degree]] | None = None,
    ) -> Pending:
        """The decision on ``considered`` with the registries' answer ``registry`` (None:
        the decision does not rest on them) and the degrees recorded for the student when
        the alumni rule needs them: from ``degrees`` (a batch reads them for all its
        registrations at once, :meth:`degrees_wanted`), else read here.

        Raises :class:`TransientFailure`.
        """
        read, facts, national_id, now = (
            considered.read, considered.facts, considered.national_id, considered.now
        )
        registration = facts.registration
        if registration.status is not Status.RECEIVED:
            return Pending(registration.id, decide(facts), None, now)
        answered = RegistryFacts()
        if registry is not None:
            facts, answered = self._with_registries(facts, registry, degrees, now)
        decision = decide(facts)
        matched = next((c for c in considered.contacts if c.person.id == decision.person_id),
                       None)
        subject = Subject(
            record=read.record,
            national_id=national_id,
            person=matched,
            registry_person=answered.person,
            student=answered.student or self._refreshed_student(decision, national_id),
        )
        return Pending(registration.id, decision, subject, now)

    def plan(self, pending: Pending, batch: BatchRequest | None = None) -> BatchRequest | None:
        """The change set writing ``pending`` (into ``batch`` when given); None when there
        is nothing to write."""
        if pending.subject is None:
            return None
        options = self._write_options(pending.now, pending.decision)
        return plan_decision(pending.decision, pending.subject, options, batch)

    def _contacts(
        self, read: DecisionRead, wanted: ContactLookup | None
    ) -> tuple[ContactRecord, ...]:
        if wanted == read.lookup:
            return read.contacts
        return self.repository.read_contacts(wanted) if wanted is not None else ()

    def _with_registries(
        self,
        facts: Facts,
        registry: RegistryFacts,
        degrees: Mapping[StudentKey, list[Degree]] | None,
        now: datetime,
    ) -> tuple[Facts, RegistryFacts]:
        """``facts`` with what the registries said (``registry``) and the alumni rule on it."""
        eligibility, study = self._eligibility(facts.registration, registry, degrees, now)
        if registry.student is not None:
            student = registry.student.model_copy(update={"study": study})
            registry = registry.model_copy(update={"student": student})
        facts = facts.model_copy(update={
            "registry": registry.answer,
            "registry_source": registry.source,
            "eligibility": eligibility,
        })
        return facts, registry

    def _on_register_facts(
        self, registration: Registration, registry: RegistryFacts, now: datetime
    ) -> tuple[Eligibility, StudentKey | None]:
        """The alumni rule on the registers' facts, and the student whose recorded degrees
        may change it (the rule does not hold and asks for a degree), if any."""
        rule = self.settings.alumni_rule
        eligibility = evaluate(rule, registry.study,
                               self_declared=registration.self_declared_alumnus,
                               today=now.date())
        student = registry.student
        if (
            eligibility.eligible
            or student is None
            or student.registry_ref is None
            or not rule.uses("degree_awarded")
        ):
            return eligibility, None
        return eligibility, (student.source.value, student.registry_ref)

    def _eligibility(
        self,
        registration: Registration,
        registry: RegistryFacts,
        degrees: Mapping[StudentKey, list[Degree]] | None,
        now: datetime,
    ) -> tuple[Eligibility, StudyFacts | None]:
        """The alumni rule on the registers' facts, and the facts; when the rule does not
        hold and asks for a degree, again with the degrees recorded for the student from the
        register's event feed (from ``degrees``, else one more Dataverse round trip)."""
        eligibility, student = self._on_register_facts(registration, registry, now)
        if student is None:
            return eligibility, registry.study
        if degrees is None or student not in degrees:
            degrees = self.repository.recorded_degrees([student])
        recorded = degrees[student]
        if not recorded:
            return eligibility, registry.study
        study = with_degrees(registry.study, recorded)
        return evaluate(self.settings.alumni_rule, study,
                        self_declared=registration.self_declared_alumnus,
                        today=now.date()), study

    def _refreshed_student(
        self, decision: Decision, national_id: str | None
    ) -> RegistryPerson | None:
        """The student register's view of a matched alumnus, when study information is to be
        refreshed (``refresh_study``); None otherwise or when the register fails (the
        approval does not wait for it: the next registration refreshes)."""
        student_registry = self.registries.student
        if (
            not self.settings.refresh_study
            or student_registry is None
            or national_id is None
            or decision.person is not PersonAction.UPDATE
            or decision.status not in _ALUMNUS_STATUSES
        ):
            return None
        try:
            return student_registry.lookup(national_id)
        except RegistryError as exc:
            log.warning("registration: study information not refreshed: %s", exc)
            return None

    def _erased(self, national_id: str | None) -> bool:
        """Whether the (canonical) identity number carries a tombstone: one read, made only
        before a person would be created."""
        if not (national_id and self._tombstone_key):
            return False
        return bool(self._tombstones.erased([national_id], self._tombstone_key))

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

    def _write_options(self, now: datetime, decision: Decision | None = None) -> WriteOptions:
        """How to write ``decision`` (the review team is looked up only for a new task)."""
        opens_task = decision is not None and decision.task is TaskAction.OPEN
        return WriteOptions(
            schema=self.schema,
            now=now,
            review_team_id=self._review_team_id() if opens_task else None,
            task_due_days=self.settings.task_due_days,
            language=self.settings.office_language,
        )

    def _review_team_id(self) -> str | None:
        """The team owning review tasks: ``review_team_id``, else ``review_team`` by name.

        The name is looked up once per service. A name no team (or several teams) has
        raises :class:`TransientFailure`, so the registration stays Received and the sweep
        takes it up again once the team exists.
        """
        if self.settings.review_team_id or not self.settings.review_team:
            return self.settings.review_team_id
        if self._team_id is None:
            name = self.settings.review_team
            found = self.repository.team_ids(name)
            if len(found) != 1:
                raise TransientFailure(
                    f"REGISTRATION__REVIEW_TEAM names {len(found)} teams called {name!r}; "
                    "it must name exactly one (or set REGISTRATION__REVIEW_TEAM_ID)"
                )
            self._team_id = found[0]
        return self._team_id

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


def _proven_person(registration: Registration) -> str | None:
    """The person a registration made through a self-service link proves to be (the link
    was e-mailed to them): matched even when the e-mail address is a new one."""
    return registration.person_id if registration.proof_link_id is not None else None

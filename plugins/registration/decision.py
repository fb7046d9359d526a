"""The registration decision (pure).

From what is known about a registration (its validation problems, the match, the matched
person's categories, what the registries said and whether the institution's alumni rule
holds) the decision returns the status to write, a reason code, a human-readable
explanation, the evidence used, and what must happen to the person and the review task.

The full table, case by case:

=========================================  ===========================  =====================
situation                                  status                       person / task
=========================================  ===========================  =====================
registration no longer Received            (unchanged)                  nothing
required field missing / invalid value     NotApproved                  review task only
match conflict                             NotApproved                  review task
matched, has Registered alumnus            ApprovedRegisteredAlumnus    details updated (*)
matched, has Alumnus                       ApprovedAlumnus              + Registered alumnus,
                                                                        details updated (*)
matched, neither category                  NotApproved                  review task
no match, registries: alumnus              ApprovedAlumnus              created, + Alumnus,
                                                                        + Registered alumnus
no match, rule holds on self-declaration  ApprovedAlumnus              created from form
no match, registries know, rule fails      NotApproved                  created, review task
no match, no registry knows the person     NotApproved                  created from form,
                                                                        review task
no match, the person was erased on request NotApproved                  nothing created
unregistration, terminate membership       Unregistered                 - Registered alumnus,
                                                                        no communication
unregistration, keep membership            person's current status      no communication
unregistration, nobody matches             NotApproved                  review task
admin sets ApprovedManually                (kept)                       + Registered alumnus,
                                                                        task closed
admin sets Denied                          (kept)                       task closed
office's decision column on NotApproved    the decision (one of the     as the admin's
                                           two above)                   decision
=========================================  ===========================  =====================

(*) Only when the registration proves control of the person (it was made through a
self-service link e-mailed to an address the person has on file). Otherwise the offered
details are kept on the registration as proposed changes, applied when the person follows
the confirmation link sent to an address on file, or by the office.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .matching import Match, MatchKind
from .model import SWEDISH_NAMES, Category, Kind, Person, Registration, Status


class Reason(StrEnum):
    """Why a registration got its status; written to the registration with the status."""

    ALREADY_PROCESSED = "already-processed"
    INVALID_REGISTRATION = "invalid-registration"
    MATCH_CONFLICT = "match-conflict"
    MATCHED_REGISTERED_ALUMNUS = "matched-registered-alumnus"
    MATCHED_ALUMNUS = "matched-alumnus"
    MATCHED_NOT_ALUMNUS = "matched-not-alumnus"
    CREATED_ALUMNUS = "created-alumnus"
    CREATED_SELF_DECLARED = "created-self-declared-alumnus"
    CREATED_NOT_ALUMNUS = "created-not-alumnus"
    UNKNOWN_TO_REGISTRIES = "unknown-to-registries"
    UNREGISTERED = "unregistered-terminated-membership"
    COMMUNICATION_WITHDRAWN = "unregistered-communication-only"
    UNREGISTRATION_NO_PERSON = "unregistration-person-not-found"
    ERASED_PERSON = "erased-person"
    ADMIN_APPROVED = "approved-manually"
    ADMIN_DENIED = "denied"


class RegistryAnswer(StrEnum):
    """What the registries said about an unmatched person."""

    NOT_ASKED = "not-asked"
    """No identity number was given, so there was nothing to ask by."""
    NOT_CONFIGURED = "not-configured"
    """The institution has configured no registry to ask."""
    NOT_FOUND = "not-found"
    FOUND = "found"


class PersonAction(StrEnum):
    NONE = "none"
    UPDATE = "update"
    CREATE_FROM_REGISTRY = "create-from-registry"
    CREATE_FROM_REGISTRATION = "create-from-registration"


class TaskAction(StrEnum):
    NONE = "none"
    OPEN = "open"
    CLOSE = "close"


class Eligibility(BaseModel):
    """The institution's alumni rule, evaluated: the verdict and the facts it rested on."""

    model_config = ConfigDict(frozen=True)

    eligible: bool
    rule: str
    evidence: tuple[str, ...] = ()


class Facts(BaseModel):
    """Everything the decision may look at, gathered by the service."""

    model_config = ConfigDict(frozen=True)

    registration: Registration
    problems: tuple[str, ...] = ()
    match: Match | None = None
    registry: RegistryAnswer = RegistryAnswer.NOT_ASKED
    registry_source: str | None = None
    eligibility: Eligibility | None = None
    erased: bool = Field(
        default=False, description="the identity number carries a tombstone (erased on request)"
    )


class Decision(BaseModel):
    """What to write. ``status`` None means the registration is left as it is."""

    model_config = ConfigDict(frozen=True)

    status: Status | None
    reason: Reason
    explanation: str
    evidence: dict[str, Any] = {}
    person: PersonAction = PersonAction.NONE
    person_id: str | None = None
    add_categories: frozenset[Category] = frozenset()
    remove_categories: frozenset[Category] = frozenset()
    task: TaskAction = TaskAction.NONE
    stop_communication: bool = False
    unregister_other_registrations: bool = False
    # Whether the registration's details may change the matched person (proof of control).
    apply_details: bool = False

    @property
    def changes_anything(self) -> bool:
        return self.status is not None or self.task is not TaskAction.NONE


_WHY_NOT_KNOWN = {
    RegistryAnswer.NOT_ASKED: " (no identity number was given)",
    RegistryAnswer.NOT_CONFIGURED: " (no registry is configured to ask)",
}


def _label(status: Status) -> str:
    return f"{status.value} ({SWEDISH_NAMES[status]})"


def decide(facts: Facts) -> Decision:
    """The status of a registration or unregistration that is still ``Received``."""
    reg = facts.registration
    if reg.status is not Status.RECEIVED:
        return Decision(
            status=None,
            reason=Reason.ALREADY_PROCESSED,
            explanation=f"The registration is already {reg.status}; nothing to do.",
        )
    if facts.problems:
        return Decision(
            status=Status.NOT_APPROVED,
            reason=Reason.INVALID_REGISTRATION,
            explanation="The registration cannot be checked automatically: "
            + "; ".join(facts.problems)
            + ". It waits for manual review; nothing else was changed.",
            evidence={"problems": list(facts.problems)},
            task=TaskAction.OPEN,
        )
    match = facts.match
    if match is None:
        raise ValueError("a valid registration needs a match result")
    if match.kind is MatchKind.CONFLICT:
        return Decision(
            status=Status.NOT_APPROVED,
            reason=Reason.MATCH_CONFLICT,
            explanation=(
                f"Matching found a conflict ({match.conflict}); the registration is not "
                "linked to anyone and waits for manual review."
            ),
            evidence={"conflict": str(match.conflict), "candidates": list(match.candidate_ids)},
            task=TaskAction.OPEN,
        )
    if reg.kind is Kind.UNREGISTRATION:
        return _unregistration(reg, match)
    if match.kind is MatchKind.ONE and match.person is not None:
        return _matched(reg, match.person, match)
    if facts.erased:
        return Decision(
            status=Status.NOT_APPROVED,
            reason=Reason.ERASED_PERSON,
            explanation=(
                "The identity number belongs to a person erased on request (GDPR): "
                f"{_label(Status.NOT_APPROVED)}; nobody was created and no registry was asked. "
                "If the person wants to come back, the office decides by hand."
            ),
            evidence={"erased": True},
            task=TaskAction.OPEN,
        )
    return _unmatched(facts)


def asks_registries(facts: Facts) -> bool:
    """Whether the decision on ``facts`` rests on what the registries say: a registration
    still ``Received``, valid, not an unregistration, that matched nobody, of a person not
    erased on request. Only then are the registries asked; before ``erased`` is known (it
    is False), it also says whether the tombstones are worth reading."""
    reg, match = facts.registration, facts.match
    return (
        reg.status is Status.RECEIVED
        and not facts.problems
        and match is not None
        and match.kind is MatchKind.NONE
        and reg.kind is not Kind.UNREGISTRATION
        and not facts.erased
    )


def registry_number(facts: Facts, national_id: str | None) -> str | None:
    """The canonical identity number the registries are asked about for ``facts``, or None
    when nobody is looked up: the registries are not asked, or there is no number to ask by.

    The one answer to "who is looked up" for a registration decided alone and for one in a
    batch, so a population register (which logs every look-up against a lawful basis) is
    never asked about anyone else.
    """
    return national_id if asks_registries(facts) else None


def proves_control(reg: Registration, person: Person) -> bool:
    """Whether ``reg`` was made through a link e-mailed to ``person`` (proof of control)."""
    return reg.proof_link_id is not None and reg.person_id == person.id


def _details_sentence(proven: bool) -> str:
    if proven:
        return "their details were updated from the registration."
    return (
        "their details were NOT changed: the registrant has not proven control of an address "
        "the person has on file, so any offered changes are kept on the registration as "
        "proposed changes until the person confirms them through the link sent to an address "
        "on file, or the office applies them."
    )


def _matched(reg: Registration, person: Person, match: Match) -> Decision:
    proven = proves_control(reg, person)
    evidence: dict[str, Any] = {
        "person": person.id,
        "matched_by": list(match.matched_by),
        "categories": sorted(c.value for c in person.categories),
        "proof_of_control": proven,
    }
    if person.degrees:
        evidence["degrees"] = list(person.degrees)
    if Category.REGISTERED_ALUMNUS in person.categories:
        return Decision(
            status=Status.APPROVED_REGISTERED_ALUMNUS,
            reason=Reason.MATCHED_REGISTERED_ALUMNUS,
            explanation=(
                f"Matched an existing person by {' and '.join(match.matched_by)} who is already "
                f"a registered alumnus: {_label(Status.APPROVED_REGISTERED_ALUMNUS)}; "
                + _details_sentence(proven)
            ),
            evidence=evidence,
            person=PersonAction.UPDATE,
            person_id=person.id,
            apply_details=proven,
        )
    if Category.ALUMNUS in person.categories:
        return Decision(
            status=Status.APPROVED_ALUMNUS,
            reason=Reason.MATCHED_ALUMNUS,
            explanation=(
                f"Matched an existing person by {' and '.join(match.matched_by)} with the "
                f"category Alumnus: {_label(Status.APPROVED_ALUMNUS)}; the person is now a "
                "registered alumnus and " + _details_sentence(proven)
            ),
            evidence=evidence,
            person=PersonAction.UPDATE,
            person_id=person.id,
            add_categories=frozenset({Category.REGISTERED_ALUMNUS}),
            apply_details=proven,
        )
    return Decision(
        status=Status.NOT_APPROVED,
        reason=Reason.MATCHED_NOT_ALUMNUS,
        explanation=(
            f"Matched an existing person by {' and '.join(match.matched_by)} who has neither "
            f"Alumnus nor Registered alumnus: {_label(Status.NOT_APPROVED)}, waiting for manual "
            "review (this is not a rejection)."
        ),
        evidence=evidence,
        person_id=person.id,
        task=TaskAction.OPEN,
    )


def _unmatched(facts: Facts) -> Decision:
    eligibility = facts.eligibility
    evidence: dict[str, Any] = {"registry": facts.registry.value}
    if facts.registry_source:
        evidence["registry_source"] = facts.registry_source
    if eligibility is not None:
        evidence["rule"] = eligibility.rule
        evidence["rule_evidence"] = list(eligibility.evidence)

    if facts.registry is RegistryAnswer.FOUND and eligibility is not None and eligibility.eligible:
        return Decision(
            status=Status.APPROVED_ALUMNUS,
            reason=Reason.CREATED_ALUMNUS,
            explanation=(
                f"No existing person matched. {facts.registry_source or 'The registries'} know "
                f"the person and the alumni rule holds ({eligibility.rule}): "
                f"{_label(Status.APPROVED_ALUMNUS)}; the person was created as a registered "
                "alumnus."
            ),
            evidence=evidence,
            person=PersonAction.CREATE_FROM_REGISTRY,
            add_categories=frozenset({Category.ALUMNUS, Category.REGISTERED_ALUMNUS}),
        )
    if facts.registry is not RegistryAnswer.FOUND and eligibility is not None and (
        eligibility.eligible
    ):
        return Decision(
            status=Status.APPROVED_ALUMNUS,
            reason=Reason.CREATED_SELF_DECLARED,
            explanation=(
                "No existing person matched and no registry knows the person, but the "
                "institution accepts a self-declared alumnus: "
                f"{_label(Status.APPROVED_ALUMNUS)}; the person was created from the form."
            ),
            evidence=evidence,
            person=PersonAction.CREATE_FROM_REGISTRATION,
            add_categories=frozenset({Category.ALUMNUS, Category.REGISTERED_ALUMNUS}),
        )
    if facts.registry is RegistryAnswer.FOUND:
        rule = eligibility.rule if eligibility else "no rule"
        return Decision(
            status=Status.NOT_APPROVED,
            reason=Reason.CREATED_NOT_ALUMNUS,
            explanation=(
                f"No existing person matched. {facts.registry_source or 'The registries'} know "
                f"the person, but the alumni rule does not hold ({rule}): "
                f"{_label(Status.NOT_APPROVED)}; the person was created and waits for manual "
                "review."
            ),
            evidence=evidence,
            person=PersonAction.CREATE_FROM_REGISTRY,
            task=TaskAction.OPEN,
        )
    return Decision(
        status=Status.NOT_APPROVED,
        reason=Reason.UNKNOWN_TO_REGISTRIES,
        explanation=(
            "No existing person matched and no registry knows the person"
            + _WHY_NOT_KNOWN.get(facts.registry, "")
            + f": {_label(Status.NOT_APPROVED)}; the person was created from the form and waits "
            "for manual review."
        ),
        evidence=evidence,
        person=PersonAction.CREATE_FROM_REGISTRATION,
        task=TaskAction.OPEN,
    )


def _unregistration(reg: Registration, match: Match) -> Decision:
    person = match.person
    if match.kind is not MatchKind.ONE or person is None:
        return Decision(
            status=Status.NOT_APPROVED,
            reason=Reason.UNREGISTRATION_NO_PERSON,
            explanation=(
                "An unregistration arrived but no person matches it: "
                f"{_label(Status.NOT_APPROVED)}, waiting for manual review."
            ),
            evidence={"candidates": list(match.candidate_ids)},
            task=TaskAction.OPEN,
        )
    evidence = {"person": person.id, "matched_by": list(match.matched_by)}
    if reg.terminate_membership:
        return Decision(
            status=Status.UNREGISTERED,
            reason=Reason.UNREGISTERED,
            explanation=(
                "The alumnus unregistered and ticked 'terminate membership': "
                f"{_label(Status.UNREGISTERED)}; Registered alumnus was removed, the person is "
                "kept and receives no alumni communication."
            ),
            evidence=evidence,
            person=PersonAction.UPDATE,
            person_id=person.id,
            remove_categories=frozenset({Category.REGISTERED_ALUMNUS}),
            stop_communication=True,
            unregister_other_registrations=True,
        )
    keeps = (
        Status.APPROVED_REGISTERED_ALUMNUS
        if Category.REGISTERED_ALUMNUS in person.categories
        else Status.NOT_APPROVED
    )
    return Decision(
        status=keeps,
        reason=Reason.COMMUNICATION_WITHDRAWN,
        explanation=(
            "The alumnus unregistered without terminating the membership: they stay in the "
            f"register as {_label(keeps)} and receive no alumni communication."
        ),
        evidence=evidence,
        person=PersonAction.UPDATE,
        person_id=person.id,
        stop_communication=True,
        task=TaskAction.OPEN if keeps is Status.NOT_APPROVED else TaskAction.NONE,
    )


OFFICE_DECISIONS = frozenset({Status.APPROVED_MANUALLY, Status.DENIED})
"""The two statuses an administrator may give, in the status or in the decision column."""


def decide_admin(registration: Registration, person: Person | None) -> Decision:
    """Follow up an administrator's decision on a registration in manual review.

    The decision is the status the administrator set, or, on a registration still
    ``NotApproved``, the office's decision column: then the status is written too.
    """
    chosen = registration.office_decision
    if registration.status is Status.NOT_APPROVED and chosen in OFFICE_DECISIONS:
        decided = decide_admin(registration.model_copy(update={"status": chosen}), person)
        return decided.model_copy(update={"status": chosen})
    if registration.status is Status.APPROVED_MANUALLY:
        needs = person is not None and Category.REGISTERED_ALUMNUS not in person.categories
        return Decision(
            status=None,
            reason=Reason.ADMIN_APPROVED,
            explanation=(
                f"An administrator approved the registration: {_label(Status.APPROVED_MANUALLY)}; "
                "the person is a registered alumnus and the review task is closed."
            ),
            evidence={"person": person.id if person else None},
            person=PersonAction.UPDATE if needs else PersonAction.NONE,
            person_id=person.id if person else None,
            add_categories=frozenset({Category.REGISTERED_ALUMNUS}) if needs else frozenset(),
            task=TaskAction.CLOSE,
        )
    if registration.status is Status.DENIED:
        return Decision(
            status=None,
            reason=Reason.ADMIN_DENIED,
            explanation=(
                f"An administrator denied the registration: {_label(Status.DENIED)}; the person "
                "is unchanged and the review task is closed."
            ),
            evidence={"person": person.id if person else None},
            task=TaskAction.CLOSE,
        )
    return Decision(
        status=None,
        reason=Reason.ALREADY_PROCESSED,
        explanation=f"The status {registration.status} is not an administrator decision.",
    )

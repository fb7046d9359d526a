"""The registration status table, case by case (pure: no I/O)."""

from __future__ import annotations

import pytest

from plugins.registration.decision import (
    Decision,
    Eligibility,
    Facts,
    PersonAction,
    Reason,
    RegistryAnswer,
    TaskAction,
    decide,
    decide_admin,
)
from plugins.registration.matching import ConflictReason, Match, MatchKind, match_person
from plugins.registration.model import Category, Kind, Person, Registration, Status

NID = "199001012384"
EMAIL = "ada@example.org"


def registration(**changes: object) -> Registration:
    base = {
        "id": "r1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": EMAIL,
        "national_id": NID,
    }
    return Registration(**{**base, **changes})


def person(*categories: Category, pid: str = "p1", **changes: object) -> Person:
    base = {"id": pid, "national_id": NID, "emails": (EMAIL,), "categories": frozenset(categories)}
    return Person(**{**base, **changes})


def matched(p: Person, by: tuple[str, ...] = ("national_id", "email")) -> Match:
    return Match(kind=MatchKind.ONE, person=p, matched_by=by, candidate_ids=(p.id,))


NO_MATCH = Match(kind=MatchKind.NONE)
ALUMNUS_RULE = Eligibility(eligible=True, rule="degree awarded", evidence=("MSc 2015-06-10",))
FAILED_RULE = Eligibility(eligible=False, rule="degree awarded", evidence=("no degree",))


def test_matched_registered_alumnus_is_approved_and_updated() -> None:
    p = person(Category.REGISTERED_ALUMNUS, Category.ALUMNUS)
    d = decide(Facts(registration=registration(), match=matched(p)))
    assert d.status is Status.APPROVED_REGISTERED_ALUMNUS
    assert d.reason is Reason.MATCHED_REGISTERED_ALUMNUS
    assert d.person is PersonAction.UPDATE and d.person_id == "p1"
    assert d.add_categories == frozenset() and d.task is TaskAction.NONE
    assert "Godkänd pga registrerad alumn" in d.explanation


def test_matched_alumnus_is_approved_and_becomes_registered() -> None:
    d = decide(Facts(registration=registration(), match=matched(person(Category.ALUMNUS))))
    assert d.status is Status.APPROVED_ALUMNUS
    assert d.reason is Reason.MATCHED_ALUMNUS
    assert d.add_categories == {Category.REGISTERED_ALUMNUS}
    assert d.task is TaskAction.NONE
    assert d.evidence["categories"] == ["Alumnus"]


def test_matched_person_with_neither_category_goes_to_review() -> None:
    d = decide(Facts(registration=registration(), match=matched(person(Category.STUDENT))))
    assert d.status is Status.NOT_APPROVED
    assert d.reason is Reason.MATCHED_NOT_ALUMNUS
    assert d.task is TaskAction.OPEN
    assert d.person is PersonAction.NONE and d.person_id == "p1"
    assert not d.add_categories


def test_no_match_registries_say_alumnus_creates_registered_alumnus() -> None:
    facts = Facts(
        registration=registration(),
        match=NO_MATCH,
        registry=RegistryAnswer.FOUND,
        registry_source="ladok",
        eligibility=ALUMNUS_RULE,
    )
    d = decide(facts)
    assert d.status is Status.APPROVED_ALUMNUS
    assert d.reason is Reason.CREATED_ALUMNUS
    assert d.person is PersonAction.CREATE_FROM_REGISTRY
    assert d.add_categories == {Category.ALUMNUS, Category.REGISTERED_ALUMNUS}
    assert d.evidence["rule_evidence"] == ["MSc 2015-06-10"]
    assert d.task is TaskAction.NONE


def test_no_match_registries_know_person_but_rule_fails() -> None:
    facts = Facts(
        registration=registration(),
        match=NO_MATCH,
        registry=RegistryAnswer.FOUND,
        registry_source="ladok",
        eligibility=FAILED_RULE,
    )
    d = decide(facts)
    assert d.status is Status.NOT_APPROVED
    assert d.reason is Reason.CREATED_NOT_ALUMNUS
    assert d.person is PersonAction.CREATE_FROM_REGISTRY
    assert d.task is TaskAction.OPEN
    assert not d.add_categories


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (RegistryAnswer.NOT_FOUND, None),
        (RegistryAnswer.NOT_ASKED, "(no identity number was given)"),
        (RegistryAnswer.NOT_CONFIGURED, "(no registry is configured to ask)"),
    ],
)
def test_no_match_and_no_registry_knows_the_person(answer: RegistryAnswer, why: str | None) -> None:
    d = decide(Facts(registration=registration(), match=NO_MATCH, registry=answer))
    assert d.status is Status.NOT_APPROVED
    assert d.reason is Reason.UNKNOWN_TO_REGISTRIES
    assert d.person is PersonAction.CREATE_FROM_REGISTRATION
    assert d.task is TaskAction.OPEN
    assert d.evidence["registry"] == answer.value
    for other in ("(no identity number was given)", "(no registry is configured to ask)"):
        assert (other in d.explanation) is (other == why)


def test_erased_person_is_not_approved_and_nothing_is_created() -> None:
    d = decide(Facts(registration=registration(), match=NO_MATCH, erased=True))
    assert (d.status, d.reason) == (Status.NOT_APPROVED, Reason.ERASED_PERSON)
    # Like every NotApproved, it waits for the office in the review queue.
    assert d.person is PersonAction.NONE and d.task is TaskAction.OPEN
    assert not d.add_categories and "erased on request" in d.explanation
    # A person still in the register is matched as usual: a tombstone is never consulted.
    kept = decide(
        Facts(registration=registration(), match=matched(person(Category.ALUMNUS)), erased=True)
    )
    assert kept.reason is Reason.MATCHED_ALUMNUS


def test_self_declared_alumnus_is_approved_when_the_rule_holds_without_registries() -> None:
    reg = registration(self_declared_alumnus=True)
    declared = Eligibility(eligible=True, rule="any of: self-declared alumnus",
                           evidence=("declared to be an alumnus on the form",))
    d = decide(Facts(registration=reg, match=NO_MATCH, registry=RegistryAnswer.NOT_FOUND,
                     eligibility=declared))
    assert d.status is Status.APPROVED_ALUMNUS
    assert d.reason is Reason.CREATED_SELF_DECLARED
    assert d.person is PersonAction.CREATE_FROM_REGISTRATION
    assert d.add_categories == {Category.ALUMNUS, Category.REGISTERED_ALUMNUS}


@pytest.mark.parametrize(
    "conflict",
    [
        ConflictReason.ID_AND_EMAIL_DISAGREE,
        ConflictReason.SEVERAL_BY_EMAIL,
        ConflictReason.EMAIL_OWNER_HAS_OTHER_ID,
    ],
)
def test_conflict_is_not_approved_never_a_guess(conflict: ConflictReason) -> None:
    m = Match(kind=MatchKind.CONFLICT, conflict=conflict, candidate_ids=("p1", "p2"))
    d = decide(Facts(registration=registration(), match=m))
    assert d.status is Status.NOT_APPROVED
    assert d.reason is Reason.MATCH_CONFLICT
    assert d.person is PersonAction.NONE and d.person_id is None
    assert d.task is TaskAction.OPEN
    assert d.evidence == {"conflict": conflict.value, "candidates": ["p1", "p2"]}


def test_invalid_registration_gets_not_approved_and_a_review_task_only() -> None:
    d = decide(Facts(registration=registration(), problems=("invalid identity number",)))
    assert d.status is Status.NOT_APPROVED
    assert d.reason is Reason.INVALID_REGISTRATION
    assert d.person is PersonAction.NONE and d.task is TaskAction.OPEN
    assert "invalid identity number" in d.explanation


@pytest.mark.parametrize(
    "status",
    [s for s in Status if s is not Status.RECEIVED],
)
def test_registration_no_longer_received_needs_nothing(status: Status) -> None:
    d = decide(Facts(registration=registration(status=status), match=NO_MATCH))
    assert d.status is None and d.reason is Reason.ALREADY_PROCESSED
    assert not d.changes_anything


def test_unregistration_with_terminate_membership() -> None:
    reg = registration(kind=Kind.UNREGISTRATION, terminate_membership=True)
    d = decide(Facts(registration=reg, match=matched(person(Category.REGISTERED_ALUMNUS))))
    assert d.status is Status.UNREGISTERED
    assert d.reason is Reason.UNREGISTERED
    assert d.remove_categories == {Category.REGISTERED_ALUMNUS}
    assert d.stop_communication and d.unregister_other_registrations
    assert d.person is PersonAction.UPDATE


def test_unregistration_without_terminate_keeps_the_membership() -> None:
    reg = registration(kind=Kind.UNREGISTRATION, terminate_membership=False)
    d = decide(Facts(registration=reg, match=matched(person(Category.REGISTERED_ALUMNUS))))
    assert d.status is Status.APPROVED_REGISTERED_ALUMNUS
    assert d.reason is Reason.COMMUNICATION_WITHDRAWN
    assert not d.remove_categories and not d.unregister_other_registrations
    assert d.stop_communication
    assert d.status is not Status.UNREGISTERED


def test_unregistration_nobody_matches_goes_to_review() -> None:
    reg = registration(kind=Kind.UNREGISTRATION, terminate_membership=True)
    d = decide(Facts(registration=reg, match=NO_MATCH))
    assert d.status is Status.NOT_APPROVED
    assert d.reason is Reason.UNREGISTRATION_NO_PERSON
    assert d.task is TaskAction.OPEN


def test_admin_approval_gives_registered_alumnus_and_closes_task() -> None:
    d = decide_admin(registration(status=Status.APPROVED_MANUALLY), person(Category.STUDENT))
    assert d.reason is Reason.ADMIN_APPROVED
    assert d.add_categories == {Category.REGISTERED_ALUMNUS}
    assert d.task is TaskAction.CLOSE and d.status is None


def test_admin_approval_twice_changes_the_person_once() -> None:
    d = decide_admin(
        registration(status=Status.APPROVED_MANUALLY), person(Category.REGISTERED_ALUMNUS)
    )
    assert d.person is PersonAction.NONE and not d.add_categories
    assert d.task is TaskAction.CLOSE


def test_admin_denial_changes_nothing_on_the_person() -> None:
    d = decide_admin(registration(status=Status.DENIED), person(Category.STUDENT))
    assert d.reason is Reason.ADMIN_DENIED
    assert d.person is PersonAction.NONE and not d.add_categories and not d.remove_categories
    assert d.task is TaskAction.CLOSE


def test_other_status_updates_are_not_admin_decisions() -> None:
    d: Decision = decide_admin(registration(status=Status.NOT_APPROVED), None)
    assert d.reason is Reason.ALREADY_PROCESSED and d.task is TaskAction.NONE


class TestMatching:
    def test_nobody(self) -> None:
        assert match_person(NID, EMAIL, []).kind is MatchKind.NONE

    def test_by_number_and_email(self) -> None:
        m = match_person(NID, EMAIL, [person()])
        assert m.kind is MatchKind.ONE and m.matched_by == ("national_id", "email")

    def test_by_number_only(self) -> None:
        m = match_person(NID, "other@example.org", [person()])
        assert m.kind is MatchKind.ONE and m.matched_by == ("national_id",)

    def test_by_secondary_email_without_number(self) -> None:
        p = Person(id="p9", emails=("old@example.org", EMAIL))
        m = match_person(None, EMAIL, [p])
        assert m.kind is MatchKind.ONE and m.person == p and m.matched_by == ("email",)

    def test_number_and_email_point_at_different_people(self) -> None:
        by_id = person(pid="p1", emails=("x@example.org",))
        by_mail = Person(id="p2", emails=(EMAIL,))
        m = match_person(NID, EMAIL, [by_id, by_mail])
        assert m.kind is MatchKind.CONFLICT
        assert m.conflict is ConflictReason.ID_AND_EMAIL_DISAGREE
        assert m.candidate_ids == ("p1", "p2")

    def test_several_people_share_the_email(self) -> None:
        m = match_person(None, EMAIL, [Person(id="a", emails=(EMAIL,)),
                                       Person(id="b", emails=(EMAIL,))])
        assert m.conflict is ConflictReason.SEVERAL_BY_EMAIL

    def test_email_owner_has_another_number(self) -> None:
        owner = Person(id="a", national_id="198001019876", emails=(EMAIL,))
        m = match_person(NID, EMAIL, [owner])
        assert m.conflict is ConflictReason.EMAIL_OWNER_HAS_OTHER_ID

    def test_duplicate_candidates_count_once(self) -> None:
        p = person()
        assert match_person(NID, EMAIL, [p, p]).kind is MatchKind.ONE


@pytest.mark.parametrize("chosen", [Status.APPROVED_MANUALLY, Status.DENIED])
def test_the_offices_decision_column_decides_a_registration_in_review(chosen: Status) -> None:
    reg = registration(status=Status.NOT_APPROVED, office_decision=chosen)
    d = decide_admin(reg, person(Category.STUDENT))
    assert d.status is chosen and d.task is TaskAction.CLOSE
    assert (Category.REGISTERED_ALUMNUS in d.add_categories) is (
        chosen is Status.APPROVED_MANUALLY
    )


@pytest.mark.parametrize(
    "status", [s for s in Status if s not in (Status.NOT_APPROVED, Status.RECEIVED)]
)
def test_the_decision_column_changes_no_registration_that_is_not_in_review(
    status: Status,
) -> None:
    reg = registration(status=status, office_decision=Status.DENIED)
    d = decide_admin(reg, person(Category.REGISTERED_ALUMNUS))
    assert d.status is None

"""Who the registries are asked about: the one answer both the single and the batch path use
(pure: no I/O)."""

from __future__ import annotations

import pytest

from plugins.registration.decision import (
    Facts,
    Reason,
    asks_registries,
    decide,
    registry_number,
)
from plugins.registration.matching import ConflictReason, Match, MatchKind
from plugins.registration.model import Category, Kind, Person, Registration, Status

NID = "09052400284"
NO_MATCH = Match(kind=MatchKind.NONE)
MATCHED = Match(kind=MatchKind.ONE, person=Person(id="p1", national_id=NID,
                                                 categories=frozenset({Category.ALUMNUS})),
                matched_by=("national_id",), candidate_ids=("p1",))
CONFLICT = Match(kind=MatchKind.CONFLICT, conflict=ConflictReason.ID_AND_EMAIL_DISAGREE,
                 candidate_ids=("p1", "p2"))
# The reasons decide() gives only after asking the registries.
REGISTRY_REASONS = {Reason.CREATED_ALUMNUS, Reason.CREATED_SELF_DECLARED,
                    Reason.CREATED_NOT_ALUMNUS, Reason.UNKNOWN_TO_REGISTRIES}


def facts(registration: dict[str, object] | None = None, **changes: object) -> Facts:
    """Facts about Kari's registration (with ``registration``'s columns), matched nobody."""
    columns = {"id": "r1", "first_name": "Kari", "last_name": "Nordmann",
               "email": "kari@example.org", "national_id": NID, **(registration or {})}
    return Facts(**{"registration": Registration(**columns), "match": NO_MATCH, **changes})


# case: (facts, the canonical number checked on the form, who is looked up)
CASES = {
    "valid, nobody matched": (facts(), NID, NID),
    "nobody matched, no number on the form": (facts(), None, None),
    "matched an existing person": (facts(match=MATCHED), NID, None),
    "identity number and e-mail disagree": (facts(match=CONFLICT), NID, None),
    "invalid registration": (
        facts(problems=("the e-mail address is not a valid address",), match=None), NID, None
    ),
    "unregistration nobody matched": (
        facts(registration={"kind": Kind.UNREGISTRATION}), NID, None
    ),
    "erased on request": (facts(erased=True), NID, None),
    "already decided": (
        facts(registration={"status": Status.APPROVED_ALUMNUS}, match=None), NID, None
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_only_a_valid_registration_nobody_matched_is_looked_up(case: str) -> None:
    given, number, looked_up = CASES[case]
    assert registry_number(given, number) == looked_up


def test_without_a_number_the_registries_are_consulted_but_nobody_is_looked_up() -> None:
    assert asks_registries(facts())
    assert registry_number(facts(), None) is None


@pytest.mark.parametrize("case", list(CASES))
def test_the_registries_are_asked_exactly_when_the_decision_rests_on_them(case: str) -> None:
    given, _, _ = CASES[case]
    assert asks_registries(given) == (decide(given).reason in REGISTRY_REASONS)

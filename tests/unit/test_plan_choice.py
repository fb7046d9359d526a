"""Plans per segment (pure): first matching plan, why, templates, kinds and languages."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from plugins.registration.model import Category
from plugins.sync.lifecycle import EventKind, Window, birthdays_due
from plugins.sync.plans import Person, PlanSettings, choose, language_chain, plan_person

SETTINGS = PlanSettings.model_validate({
    "plans": [
        {"name": "career-nb", "segment": {"topics": ["career"], "languages": ["nb"]},
         "channel": "sms", "templates": {"birthday": "birthday-career"}},
        {"name": "alumni-only", "segment": {"categories": ["Alumnus"],
                                            "without_membership": True},
         "kinds": ["birthday"], "language": "en"},
        {"name": "members", "segment": {"membership_types": ["standard", "senior"]}},
    ],
})


def test_the_first_matching_plan_applies_and_says_why() -> None:
    career = Person(topics=frozenset({"career", "events"}), language="nb")
    choice = choose(SETTINGS, career, EventKind.BIRTHDAY, "birthday")
    assert (choice.plan, choice.template, choice.channel) == ("career-nb", "birthday-career", "sms")
    assert choice.explanation == "plan career-nb: topic career; language nb"
    assert choice.languages == ("nb", "sv", "en")
    member = Person(categories=frozenset({Category.ALUMNUS}), membership_type="senior")
    assert choose(SETTINGS, member, EventKind.BIRTHDAY, "birthday").plan == "members"


def test_a_kind_outside_the_plan_is_refused_and_no_plan_keeps_the_event() -> None:
    alumnus = Person(categories=frozenset({Category.ALUMNUS}))
    refused = choose(SETTINGS, alumnus, EventKind.DATA_CHECK, "data-check")
    assert refused.refused and refused.explanation.endswith("does not send data-check")
    greeting = choose(SETTINGS, alumnus, EventKind.BIRTHDAY, "birthday")
    assert not greeting.refused and greeting.languages == ("en", "sv")
    nobody = choose(SETTINGS, Person(), EventKind.BIRTHDAY, "birthday")
    assert (nobody.plan, nobody.template, nobody.why) == (None, "birthday", "no segment matched")


def test_languages_fall_back_and_unknown_ones_are_ignored() -> None:
    assert language_chain("en", "nb", "sv") == ("en", "nb", "sv")
    assert language_chain(None, None, "sv") == ("sv", "en")
    assert plan_person(frozenset(), None, frozenset(), " NB ").language == "nb"
    assert plan_person(frozenset(), None, frozenset(), "de").language is None


def test_plans_are_validated() -> None:
    with pytest.raises(ValidationError, match="unique"):
        PlanSettings.model_validate({"plans": [{"name": "a"}, {"name": "a"}]})
    with pytest.raises(ValidationError):
        PlanSettings.model_validate({"plans": [{"name": "a", "kinds": ["no-such-kind"]}]})
    with pytest.raises(ValidationError):
        PlanSettings.model_validate({"plans": [{"name": "a", "segment": {"languages": ["de"]}}]})


def test_birthdays_due_in_a_window_whoever_holds_a_membership() -> None:
    window = Window(after=date(2024, 2, 26), until=date(2024, 3, 2))
    due = birthdays_due(
        {"p1": date(1980, 2, 29), "p2": date(1990, 3, 5), "p3": date(2024, 2, 28)}, window
    )
    assert [(e.key, e.due) for e in due] == [("birthday_p1_2024", date(2024, 2, 29))]
    new_year = Window(after=date(2024, 12, 30), until=date(2025, 1, 2))
    assert [e.key for e in birthdays_due({"p4": date(1970, 1, 1)}, new_year)] == [
        "birthday_p4_2025"
    ]

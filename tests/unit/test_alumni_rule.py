"""The alumni rule, criterion by criterion and combined (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from plugins.registration.eligibility import DEFAULT_RULE, AlumniRule, Criterion, evaluate
from plugins.registries.models import Degree, Enrolment, Programme, StudyFacts

TODAY = date(2026, 11, 22)
MSC = Degree(title="MSc Computer Science", code="TCSCM", awarded_on=date(2015, 6, 10))


def rule(*parts: Criterion, all_of: bool = False) -> AlumniRule:
    return AlumniRule(all_of=parts) if all_of else AlumniRule(any_of=parts)


def test_default_rule_is_degree_awarded() -> None:
    yes = evaluate(DEFAULT_RULE, StudyFacts(degrees=(MSC,)), self_declared=False, today=TODAY)
    no = evaluate(DEFAULT_RULE, StudyFacts(), self_declared=False, today=TODAY)
    assert yes.eligible and yes.evidence == ("degree 'MSc Computer Science' awarded 2015-06-10",)
    assert not no.eligible and no.evidence == ("no degree awarded",)
    assert yes.rule == "any of: degree awarded"


def test_degree_within_date_bounds() -> None:
    bounded = rule(Criterion(kind="degree_awarded", not_before=date(2016, 1, 1)))
    assert not evaluate(bounded, StudyFacts(degrees=(MSC,)), self_declared=False,
                        today=TODAY).eligible
    early = rule(Criterion(kind="degree_awarded", not_after=date(2016, 1, 1)))
    assert evaluate(early, StudyFacts(degrees=(MSC,)), self_declared=False, today=TODAY).eligible


def test_degree_from_listed_programmes_only() -> None:
    other = rule(Criterion(kind="degree_awarded", programmes=("LAW",)))
    assert not evaluate(other, StudyFacts(degrees=(MSC,)), self_declared=False,
                        today=TODAY).eligible


def test_about_to_graduate() -> None:
    soon = StudyFacts(programmes=(Programme(code="TCSCM", end=date(2027, 3, 1)),))
    later = StudyFacts(programmes=(Programme(code="TCSCM", end=date(2028, 6, 1)),))
    ended = StudyFacts(programmes=(Programme(code="TCSCM", end=date(2020, 6, 1)),))
    r = rule(Criterion(kind="about_to_graduate", within_days=180))
    assert evaluate(r, soon, self_declared=False, today=TODAY).eligible
    assert not evaluate(r, later, self_declared=False, today=TODAY).eligible
    assert not evaluate(r, ended, self_declared=False, today=TODAY).eligible


def test_completed_study_by_credits_or_ended_course() -> None:
    r = rule(Criterion(kind="completed_study"))
    assert evaluate(r, StudyFacts(credits=Decimal("7.5")), self_declared=False,
                    today=TODAY).eligible
    course = Enrolment(code="DA101", end=date(2019, 1, 15))
    assert evaluate(r, StudyFacts(enrolments=(course,)), self_declared=False,
                    today=TODAY).eligible
    running = Enrolment(code="DA101", end=date(2027, 1, 15))
    assert not evaluate(r, StudyFacts(enrolments=(running,)), self_declared=False,
                        today=TODAY).eligible


@pytest.mark.parametrize(("credits", "eligible"), [("59.5", False), ("60", True), ("240", True)])
def test_minimum_credits(credits: str, eligible: bool) -> None:
    r = rule(Criterion(kind="min_credits", credits=Decimal(60)))
    result = evaluate(r, StudyFacts(credits=Decimal(credits)), self_declared=False, today=TODAY)
    assert result.eligible is eligible


def test_min_credits_needs_a_positive_number() -> None:
    with pytest.raises(ValidationError):
        Criterion(kind="min_credits")


def test_self_declared_without_any_registry_facts() -> None:
    r = rule(Criterion(kind="degree_awarded"), Criterion(kind="self_declared"))
    assert evaluate(r, None, self_declared=True, today=TODAY).eligible
    assert not evaluate(r, None, self_declared=False, today=TODAY).eligible
    assert r.accepts_self_declaration and not DEFAULT_RULE.accepts_self_declaration


def test_all_of_needs_every_part_and_reports_what_failed() -> None:
    r = rule(Criterion(kind="degree_awarded"), Criterion(kind="min_credits", credits=Decimal(90)),
             all_of=True)
    result = evaluate(r, StudyFacts(degrees=(MSC,), credits=Decimal(60)), self_declared=False,
                      today=TODAY)
    assert not result.eligible
    assert result.evidence == ("60 passed credits (at least 90 needed)",)


def test_nested_rules_from_json_settings() -> None:
    r = AlumniRule.model_validate_json(
        '{"any_of": [{"kind": "degree_awarded"},'
        ' {"all_of": [{"kind": "completed_study"}, {"kind": "self_declared"}]}]}'
    )
    facts = StudyFacts(credits=Decimal(15))
    assert evaluate(r, facts, self_declared=True, today=TODAY).eligible
    assert not evaluate(r, facts, self_declared=False, today=TODAY).eligible
    assert r.describe() == (
        "any of: degree awarded; (all of: completed study; self-declared alumnus)"
    )


def test_a_rule_has_exactly_one_combinator() -> None:
    with pytest.raises(ValidationError):
        AlumniRule()
    with pytest.raises(ValidationError):
        AlumniRule(any_of=(Criterion(kind="degree_awarded"),),
                   all_of=(Criterion(kind="self_declared"),))

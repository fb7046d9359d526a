"""The institution's alumni rule (pure): declared in settings, evaluated on registry facts.

Nordic institutions count someone as an alumnus on one or more of these grounds, which a
rule combines with ``any_of`` / ``all_of`` (nested as deep as needed):

- ``degree_awarded``: a degree or qualification was awarded (optionally within dates, or
  from given programmes);
- ``about_to_graduate``: a programme's study period ends within ``within_days`` from today;
- ``completed_study``: any passed (attested) credits, or a course whose period has ended;
- ``min_credits``: at least ``credits`` passed credits;
- ``self_declared``: the person declared it on the form (for institutions whose older
  records are not in the registers).

Example (the ``ALUMNI_RULE`` setting, JSON)::

    {"any_of": [{"kind": "degree_awarded"},
                {"kind": "min_credits", "credits": 60}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from plugins.registries.models import Degree, StudyFacts

from .decision import Eligibility

CriterionKind = Literal[
    "degree_awarded", "about_to_graduate", "completed_study", "min_credits", "self_declared"
]


class Criterion(BaseModel):
    """One ground for being an alumnus."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: CriterionKind
    credits: Decimal | None = None
    within_days: int = 180
    not_before: date | None = None
    not_after: date | None = None
    programmes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        if self.kind == "min_credits" and (self.credits is None or self.credits <= 0):
            raise ValueError("min_credits needs a positive 'credits'")
        return self

    def describe(self) -> str:
        text = {
            "degree_awarded": "degree awarded",
            "about_to_graduate": f"graduating within {self.within_days} days",
            "completed_study": "completed study",
            "min_credits": f"at least {self.credits} credits",
            "self_declared": "self-declared alumnus",
        }[self.kind]
        if self.programmes:
            text += f" in {', '.join(self.programmes)}"
        if self.not_before or self.not_after:
            text += f" between {self.not_before or '…'} and {self.not_after or '…'}"
        return text


class AlumniRule(BaseModel):
    """``any_of`` or ``all_of`` a list of criteria and nested rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    any_of: tuple[Criterion | AlumniRule, ...] = ()
    all_of: tuple[Criterion | AlumniRule, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> AlumniRule:
        if bool(self.any_of) == bool(self.all_of):
            raise ValueError("an alumni rule has exactly one of 'any_of' or 'all_of'")
        return self

    def describe(self) -> str:
        word, parts = ("any of", self.any_of) if self.any_of else ("all of", self.all_of)
        return f"{word}: " + "; ".join(
            p.describe() if isinstance(p, Criterion) else f"({p.describe()})" for p in parts
        )

    @property
    def accepts_self_declaration(self) -> bool:
        """Whether a self-declaration alone can make someone an alumnus."""
        if self.any_of:
            return any(
                (p.kind == "self_declared") if isinstance(p, Criterion)
                else p.accepts_self_declaration
                for p in self.any_of
            )
        return all(
            (p.kind == "self_declared") if isinstance(p, Criterion)
            else p.accepts_self_declaration
            for p in self.all_of
        )


    def uses(self, kind: CriterionKind) -> bool:
        """Whether any criterion of the rule, at any depth, is of ``kind``."""
        return any(
            p.kind == kind if isinstance(p, Criterion) else p.uses(kind)
            for p in self.any_of or self.all_of
        )


def with_degrees(study: StudyFacts | None, degrees: Sequence[Degree]) -> StudyFacts | None:
    """``study`` with ``degrees`` added, each certificate once."""
    if not degrees:
        return study
    current = study or StudyFacts()
    known = {d.key for d in current.degrees if d.key}
    added = []
    for degree in degrees:
        if degree.key is None or degree.key not in known:
            added.append(degree)
            if degree.key:
                known.add(degree.key)
    return current.model_copy(update={"degrees": current.degrees + tuple(added)})


DEFAULT_RULE = AlumniRule(any_of=(Criterion(kind="degree_awarded"),))


def evaluate(
    rule: AlumniRule, study: StudyFacts | None, *, self_declared: bool, today: date
) -> Eligibility:
    """Whether the facts satisfy ``rule``, and the facts that decided it."""
    eligible, evidence = _rule(rule, study or StudyFacts(), self_declared, today)
    return Eligibility(eligible=eligible, rule=rule.describe(), evidence=tuple(evidence))


def _rule(
    rule: AlumniRule, study: StudyFacts, self_declared: bool, today: date
) -> tuple[bool, list[str]]:
    parts = rule.any_of or rule.all_of
    results = [
        _criterion(p, study, self_declared, today) if isinstance(p, Criterion)
        else _rule(p, study, self_declared, today)
        for p in parts
    ]
    if rule.any_of:
        met = [evidence for ok, evidence in results if ok]
        if met:
            return True, met[0]
        return False, [e for _, evidence in results for e in evidence]
    if all(ok for ok, _ in results):
        return True, [e for _, evidence in results for e in evidence]
    return False, [e for ok, evidence in results if not ok for e in evidence]


def _within(day: date | None, criterion: Criterion) -> bool:
    if day is None:
        return criterion.not_before is None and criterion.not_after is None
    if criterion.not_before and day < criterion.not_before:
        return False
    return not (criterion.not_after and day > criterion.not_after)


def _in_programmes(code: str | None, criterion: Criterion) -> bool:
    return not criterion.programmes or (code is not None and code in criterion.programmes)


def _criterion(
    criterion: Criterion, study: StudyFacts, self_declared: bool, today: date
) -> tuple[bool, list[str]]:
    kind = criterion.kind
    if kind == "self_declared":
        if self_declared:
            return True, ["declared to be an alumnus on the form"]
        return False, ["no self-declaration"]
    if kind == "degree_awarded":
        for degree in study.degrees:
            if _within(degree.awarded_on, criterion) and _in_programmes(
                degree.programme or degree.code, criterion
            ):
                when = degree.awarded_on or "(date unknown)"
                return True, [f"degree '{degree.title}' awarded {when}"]
        return False, ["no degree awarded" + _bounds(criterion)]
    if kind == "about_to_graduate":
        horizon = today + timedelta(days=criterion.within_days)
        for programme in study.programmes:
            if (
                programme.end is not None
                and today <= programme.end <= horizon
                and _in_programmes(programme.code, criterion)
            ):
                return True, [f"programme {programme.code} ends {programme.end}"]
        return False, [f"no programme ending within {criterion.within_days} days"]
    if kind == "completed_study":
        if study.credits and study.credits > 0:
            return True, [f"{study.credits} passed credits"]
        for enrolment in study.enrolments:
            if enrolment.end is not None and enrolment.end < today and _within(
                enrolment.end, criterion
            ):
                return True, [f"course {enrolment.code} ended {enrolment.end}"]
        return False, ["no completed study"]
    credits = study.credits or Decimal(0)
    needed = criterion.credits or Decimal(0)
    if credits >= needed:
        return True, [f"{credits} passed credits (at least {needed} needed)"]
    return False, [f"{credits} passed credits (at least {needed} needed)"]


def _bounds(criterion: Criterion) -> str:
    if criterion.not_before or criterion.not_after:
        return f" between {criterion.not_before or '…'} and {criterion.not_after or '…'}"
    return ""

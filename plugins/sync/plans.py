"""Plans per segment (pure): which messages a person gets, by which channel, from which
template, in which language.

The organisation declares its plans in ``SYNC__LIFECYCLE__PLANS`` (JSON, validated here):
each plan has a name, a segment (membership types, person categories, topics, languages; a
person is in it when every condition given holds, each condition being "any of") and what
it sends: the event kinds (none listed: every kind), the channel (none: the event's own),
template names by event template (``{"birthday": "birthday-members"}``; unlisted ones keep
their name) and the language to fall back on. The first plan whose segment holds is the
person's plan; a person in no plan gets the messages as configured without plans.

Before each send :func:`choose` says which plan applies and why, or refuses the kind
(``not-in-plan``); the reason is written to the lifecycle event. The language of a message
is the person's own (``mp_language``: sv, nb or en) when set, else the plan's, else the
default; a template missing in that language falls back along :func:`language_chain`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plugins.registration.model import Category

from .lifecycle import EventKind

Language = Literal["sv", "nb", "en"]
LANGUAGES: tuple[Language, ...] = ("sv", "nb", "en")


class Segment(BaseModel):
    """Who a plan is for: every condition given must hold (each is "any of")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    membership_types: tuple[str, ...] = Field(default=(), description="e.g. standard, senior")
    categories: tuple[Category, ...] = Field(default=(), description="person categories")
    topics: tuple[str, ...] = Field(default=(), description="topics the person chose")
    languages: tuple[Language, ...] = Field(default=(), description="the person's language")
    without_membership: bool = Field(
        default=False, description="only people whose message is not about a membership"
    )


class Plan(BaseModel):
    """What one segment gets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    segment: Segment = Field(default_factory=Segment)
    kinds: tuple[EventKind, ...] = Field(default=(), description="kinds sent; empty = all")
    channel: Literal["email", "sms", "post"] | None = Field(
        default=None, description="channel of its messages; empty = the event's"
    )
    templates: dict[str, str] = Field(
        default={}, description="event template name -> this plan's template name"
    )
    language: Language | None = Field(default=None, description="language to fall back on")
    birthdays: bool = Field(
        default=False, description="birthday greetings for the segment without a membership too"
    )


class PlanSettings(BaseModel):
    """``SYNC__LIFECYCLE__PLANS``: the plans in order (first match wins)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plans: tuple[Plan, ...] = Field(default=(), description="JSON list; first match wins")
    default_language: Language = Field(
        default="sv", description="language of people with none, in no plan with one"
    )

    @model_validator(mode="after")
    def _check(self) -> PlanSettings:
        names = [plan.name for plan in self.plans]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"plan names must be unique (a reason names the plan): {duplicates}")
        return self


@dataclass(frozen=True, slots=True)
class Person:
    """What segments look at."""

    categories: frozenset[Category] = frozenset()
    membership_type: str | None = None
    topics: frozenset[str] = frozenset()
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """The plan that applies (None: no plan), what it sends and why; ``refused`` when the
    plan does not send this kind."""

    plan: str | None
    why: str
    template: str
    channel: str | None
    languages: tuple[str, ...]
    refused: bool = False

    @property
    def explanation(self) -> str:
        """The text for the event row (at most 200 characters)."""
        head = f"plan {self.plan}" if self.plan else "no plan"
        return f"{head}: {self.why}"[:200]


def choose(
    settings: PlanSettings, person: Person, kind: EventKind, template: str
) -> Choice:
    """The plan for ``person`` and what it makes of the event ``kind`` / ``template``."""
    for plan in settings.plans:
        why = _matches(plan.segment, person)
        if why is None:
            continue
        languages = language_chain(person.language, plan.language, settings.default_language)
        if plan.kinds and kind not in plan.kinds:
            return Choice(plan.name, f"{why}; does not send {kind}", template, None,
                          languages, refused=True)
        chosen = plan.templates.get(template, template)
        return Choice(plan.name, why, chosen, plan.channel, languages)
    languages = language_chain(person.language, None, settings.default_language)
    return Choice(None, "no segment matched", template, None, languages)


def language_chain(person: str | None, plan: str | None, default: str) -> tuple[str, ...]:
    """The languages to try, in order: the person's, the plan's, the default, English."""
    chain: list[str] = []
    for language in (person, plan, default, "en"):
        if language in LANGUAGES and language not in chain:
            chain.append(language)
    return tuple(chain)


def _matches(segment: Segment, person: Person) -> str | None:
    """Why ``person`` is in ``segment`` (None when not)."""
    reasons: list[str] = []
    checks: list[tuple[Iterable[str], Iterable[str] | str | None, str]] = [
        (segment.membership_types, person.membership_type, "membership type"),
        (tuple(str(c) for c in segment.categories), [str(c) for c in person.categories],
         "category"),
        (segment.topics, person.topics, "topic"),
        (segment.languages, person.language, "language"),
    ]
    for wanted, has, label in checks:
        wanted = tuple(wanted)
        if not wanted:
            continue
        values = {has} if isinstance(has, str) or has is None else set(has)
        hit = sorted(v for v in values if v in wanted)
        if not hit:
            return None
        reasons.append(f"{label} {', '.join(hit)}")
    if segment.without_membership:
        if person.membership_type is not None:
            return None
        reasons.append("no membership")
    return "; ".join(reasons) or "everyone"


def plan_person(
    categories: frozenset[Category], membership_type: str | None, topics: frozenset[str],
    language: object,
) -> Person:
    """A :class:`Person` from a contact's values (an unknown language counts as none)."""
    text = str(language).strip().lower() if isinstance(language, str) else None
    return Person(categories, membership_type, topics, text if text in LANGUAGES else None)


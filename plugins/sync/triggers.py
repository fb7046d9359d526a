"""Messages started by Dataverse events (pure): what an approval, a new or renewed membership,
or a configured table change makes due at once.

The nightly run (:mod:`.service`) schedules by date; these events start a series when it
happens, under the keys the nightly run uses, so whichever comes first creates an event and
the other finds it there:

- a registration approved on ``anchor``, and a membership that started on ``anchor``
  (joining), start the onboarding series: the steps due from the anchor up to today, at most
  ``max_catch_up_days`` back (as a run catches up), are due now; the later ones come with the
  nightly runs. A membership backdated further than that starts no series;
- a membership whose end date moved later (renewed), or that became open-ended, gets one
  ``renewal`` message, keyed by the new end date;
- a configured change (a :class:`FollowUpTrigger`: a table, a column and the value it
  changed to), for example an event registration marked attended, gets one ``follow-up``
  message per row, due the day it happened, from the template ``follow-up-<name>``.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .lifecycle import (
    Approval,
    DueEvent,
    EventKind,
    LifecycleRules,
    Membership,
    Schedule,
    Window,
    event_key,
    schedule,
    stamp,
)

OPEN_ENDED = "open"
_ROW_DIGEST_LENGTH = 16


class FollowUpTrigger(BaseModel):
    """A change of a row in one of the organisation's tables that sends a follow-up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,22}$",
        description="names the follow-up; its e-mail template is follow-up-<name>",
    )
    table: str = Field(description="the table's logical name, e.g. mp_eventregistration")
    entity_set: str = Field(description="its entity set name, e.g. mp_eventregistrations")
    column: str = Field(description="the column whose change is watched")
    value: bool | int | str = Field(description="the value that sends the follow-up")
    person: str = Field(description="the table's lookup column to the contact")

    def matches(self, value: Any) -> bool:
        """Whether a row's ``value`` of :attr:`column` is the one that sends the follow-up
        (a choice number never matches ``true``: types must agree)."""
        return type(value) is type(self.value) and value == self.value


class FollowUpRules(BaseModel):
    """Which Dataverse events start lifecycle messages at once (``SYNC__FOLLOW_UPS__...``).

    With ``enabled``, ``member-plugins register`` also registers the steps these need, on the
    same endpoint as the registration pipeline's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(
        default=False, description="send the messages these Dataverse events start at once"
    )
    approvals: bool = Field(
        default=True, description="an approved registration starts the onboarding series"
    )
    memberships: bool = Field(
        default=True,
        description="a new membership starts the onboarding series, a renewed one a renewal",
    )
    triggers: tuple[FollowUpTrigger, ...] = Field(
        default=(), description="table changes that send a follow-up (JSON list)"
    )

    @model_validator(mode="after")
    def _check(self) -> FollowUpRules:
        names = [trigger.name for trigger in self.triggers]
        if len(set(names)) != len(names):
            raise ValueError("follow-up trigger names must be unique")
        return self


def series_window(anchor: date, today: date, rules: LifecycleRules) -> Window:
    """The days an event that started a series on ``anchor`` covers, seen on ``today``."""
    earliest = today - timedelta(days=rules.max_catch_up_days)
    return Window(max(anchor, earliest) - timedelta(days=1), today)


def approved(
    person_id: str, approved_on: date, today: date, rules: LifecycleRules
) -> list[DueEvent]:
    """The onboarding steps due by ``today`` for a registration approved on ``approved_on``."""
    window = series_window(approved_on, today, rules)
    return schedule([], window, rules, approvals=[Approval(person_id, approved_on)]).events


def joined(
    membership: Membership,
    today: date,
    rules: LifecycleRules,
    known_types: frozenset[str] | None = None,
) -> Schedule:
    """What a new membership makes due by ``today`` (its onboarding steps, and any other of
    its messages in the same days); a membership that cannot be scheduled is a problem."""
    return schedule([membership], series_window(membership.start, today, rules), rules,
                    known_types=known_types)


def renewed(membership: Membership, previous_end: date | None, today: date) -> DueEvent | None:
    """The renewal message when the end date moved from ``previous_end`` to a later one."""
    end = membership.end
    if previous_end is None or (end is not None and end <= previous_end):
        return None
    period = stamp(end) if end is not None else OPEN_ENDED
    key = event_key(EventKind.RENEWAL, membership.person_id, period)
    return DueEvent(key, membership.person_id, EventKind.RENEWAL, period, today, membership.id)


def follow_up(trigger: FollowUpTrigger, row_id: str, person_id: str, today: date) -> DueEvent:
    """The follow-up a trigger sends for one row: once per (person, trigger, row).

    The period names the row by a digest of its id, so the key stays within the 100
    characters of the event table's key column.
    """
    digest = hashlib.sha256(row_id.lower().encode("ascii")).hexdigest()[:_ROW_DIGEST_LENGTH]
    period = f"{trigger.name}-{digest}"
    key = event_key(EventKind.FOLLOW_UP, person_id, period)
    return DueEvent(key, person_id.lower(), EventKind.FOLLOW_UP, period, today)

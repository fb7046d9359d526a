"""The messages Dataverse events start (pure): approvals, joining, renewal, follow-ups."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from plugins.sync.lifecycle import (
    Approval,
    EventKind,
    LifecycleRules,
    Membership,
    event_key,
    schedule,
)
from plugins.sync.triggers import (
    FollowUpRules,
    FollowUpTrigger,
    approved,
    follow_up,
    joined,
    renewed,
    series_window,
)

RULES = LifecycleRules(onboarding_days=(0, 7, 30), max_catch_up_days=7)
PERSON = "0b6c3a52-5d1e-4c0b-9b2a-8f1e2d3c4b5a"
TODAY = date(2025, 6, 23)
ATTENDED = FollowUpTrigger(
    name="attended", table="mp_eventregistration", entity_set="mp_eventregistrations",
    column="mp_attended", value=True, person="mp_personid",
)


def member(start: date, end: date | None = None, **changes: object) -> Membership:
    values: dict[str, object] = {
        "id": "m1", "person_id": PERSON, "type": "standard", "start": start, "end": end,
    }
    values.update(changes)
    return Membership(**values)  # type: ignore[arg-type]


def test_an_approval_today_starts_the_series_with_day_zero_only() -> None:
    [event] = approved(PERSON, TODAY, TODAY, RULES)
    assert (event.kind, event.period, event.due) == (EventKind.ONBOARDING, "20250623-d0", TODAY)
    assert event.template == "onboarding-d0"


def test_an_approval_seen_late_sends_the_steps_already_due() -> None:
    events = approved(PERSON, date(2025, 6, 16), TODAY, RULES)
    assert [e.period for e in events] == ["20250616-d0", "20250616-d7"]


def test_the_keys_are_those_the_nightly_run_uses() -> None:
    nightly = schedule([], series_window(TODAY, TODAY, RULES), RULES,
                       approvals=[Approval(PERSON, TODAY)])
    assert [e.key for e in approved(PERSON, TODAY, TODAY, RULES)] == [
        e.key for e in nightly.events
    ]


def test_a_future_approval_or_a_long_past_one_makes_nothing_due() -> None:
    assert approved(PERSON, date(2025, 6, 24), TODAY, RULES) == []
    assert approved(PERSON, date(2025, 1, 1), TODAY, RULES) == []


def test_a_new_membership_starts_its_onboarding_series() -> None:
    plan = joined(member(date(2025, 6, 20)), TODAY, RULES)
    assert [(e.kind, e.period, e.membership_id) for e in plan.events] == [
        (EventKind.ONBOARDING, "20250620-d0", "m1")
    ]


def test_a_new_membership_that_cannot_be_scheduled_is_a_problem() -> None:
    plan = joined(member(date(2025, 6, 20), type="gold"), TODAY, RULES,
                  known_types=frozenset({"standard"}))
    assert plan.events == []
    assert [(p.record_id, p.reason) for p in plan.problems] == [("m1", "unknown membership type")]


@pytest.mark.parametrize(
    ("previous", "end", "period"),
    [
        (date(2025, 6, 30), date(2026, 6, 30), "20260630"),
        (date(2025, 6, 30), None, "open"),
    ],
)
def test_an_end_date_moved_later_is_a_renewal(
    previous: date, end: date | None, period: str
) -> None:
    event = renewed(member(date(2024, 7, 1), end), previous, TODAY)
    assert event is not None
    assert (event.kind, event.period, event.due, event.template) == (
        EventKind.RENEWAL, period, TODAY, "renewal"
    )
    assert event.key == event_key(EventKind.RENEWAL, PERSON, period)


@pytest.mark.parametrize(
    ("previous", "end"),
    [(date(2025, 6, 30), date(2025, 6, 1)), (date(2025, 6, 30), date(2025, 6, 30)),
     (None, date(2026, 6, 30))],
)
def test_an_end_date_moved_earlier_kept_or_set_first_is_no_renewal(
    previous: date | None, end: date
) -> None:
    assert renewed(member(date(2024, 7, 1), end), previous, TODAY) is None


def test_a_follow_up_is_keyed_by_trigger_and_row_and_fits_the_key_column() -> None:
    row = "5F0C1B2A-3D4E-4F50-8A9B-0C1D2E3F4A5B"
    event = follow_up(ATTENDED, row, PERSON.upper(), TODAY)
    again = follow_up(ATTENDED, row.lower(), PERSON, TODAY)
    other = follow_up(ATTENDED, "5f0c1b2a-3d4e-4f50-8a9b-0c1d2e3f4a5c", PERSON, TODAY)
    assert event.key == again.key != other.key
    assert event.kind is EventKind.FOLLOW_UP
    assert event.template == "follow-up-attended"
    assert event.person_id == PERSON
    assert len(event.period) <= 40 and len(event.key) <= 100
    longest = ATTENDED.model_copy(update={"name": "a" * 23})
    assert len(follow_up(longest, row, PERSON, TODAY).period) == 40


def test_a_trigger_matches_only_its_value_of_the_same_type() -> None:
    assert ATTENDED.matches(True)
    assert not ATTENDED.matches(False)
    assert not ATTENDED.matches(1)
    assert not ATTENDED.matches(None)
    choice = ATTENDED.model_copy(update={"value": 100000001})
    assert choice.matches(100000001) and not choice.matches(True)


def test_trigger_names_are_checked_and_unique() -> None:
    with pytest.raises(ValidationError):
        FollowUpTrigger(**{**ATTENDED.model_dump(), "name": "Attended_Event"})
    with pytest.raises(ValidationError, match="unique"):
        FollowUpRules(enabled=True, triggers=(ATTENDED, ATTENDED))

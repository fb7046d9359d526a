"""Membership lifecycle scheduling: every rule with plain values."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from plugins.sync.lifecycle import (
    Approval,
    DueEvent,
    EventKind,
    LifecycleRules,
    Membership,
    MembershipStatus,
    Window,
    anniversary_of,
    birthday_in,
    catch_up_window,
    event_key,
    schedule,
    status_on,
)

RULES = LifecycleRules(
    reminder_offsets_days=(30, 7),
    grace_days=30,
    onboarding_days=(0, 7, 30),
    anniversary_years=(1, 5),
    max_catch_up_days=7,
)
PERSON = "0f8fad5b-d9cb-469f-a165-70867728950e"


def membership(
    start: date = date(2020, 1, 10),
    end: date | None = date(2025, 6, 30),
    *,
    id: str = "m1",
    person: str = PERSON,
    type: str | None = "standard",
    status: MembershipStatus | None = MembershipStatus.ACTIVE,
    automatic_renewal: bool = False,
    renewal_active: bool = False,
) -> Membership:
    return Membership(
        id, person, type, start, end, status, automatic_renewal, renewal_active
    )


def day(text: str) -> Window:
    """The window of a daily run on ``text`` after a run the day before."""
    today = date.fromisoformat(text)
    return Window(today - timedelta(days=1), today)


def due(
    memberships: list[Membership], window: Window, rules: LifecycleRules = RULES, **kwargs: object
) -> list[DueEvent]:
    return schedule(memberships, window, rules, **kwargs).events  # type: ignore[arg-type]


def kinds(events: list[DueEvent]) -> list[tuple[EventKind, str]]:
    return sorted((e.kind, e.period) for e in events)


# ------------------------------------------------------------------ statuses


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        ("2025-06-30", MembershipStatus.ACTIVE),
        ("2025-07-01", MembershipStatus.GRACE),
        ("2025-07-30", MembershipStatus.GRACE),
        ("2025-07-31", MembershipStatus.LAPSED),
    ],
)
def test_status_runs_active_then_grace_then_lapsed(on: str, expected: MembershipStatus) -> None:
    assert status_on(membership(), date.fromisoformat(on), RULES) is expected


def test_without_grace_period_a_membership_lapses_the_day_after_its_end() -> None:
    rules = RULES.model_copy(update={"grace_days": 0})
    assert status_on(membership(), date(2025, 7, 1), rules) is MembershipStatus.LAPSED


def test_open_ended_membership_stays_active_and_ended_stays_ended() -> None:
    assert status_on(membership(end=None), date(2090, 1, 1), RULES) is MembershipStatus.ACTIVE
    ended = membership(status=MembershipStatus.ENDED)
    assert status_on(ended, date(2021, 1, 1), RULES) is MembershipStatus.ENDED


def test_status_changes_are_reported_only_where_the_stored_status_differs() -> None:
    stored_grace = membership(id="a", status=MembershipStatus.GRACE)
    stored_active = membership(id="b", status=MembershipStatus.ACTIVE)
    empty = membership(id="c", status=None, end=None)
    result = schedule([stored_grace, stored_active, empty], day("2025-07-01"), RULES)
    changes = {(c.membership_id, c.old, c.new) for c in result.status_changes}
    assert changes == {
        ("b", MembershipStatus.ACTIVE, MembershipStatus.GRACE),
        ("c", None, MembershipStatus.ACTIVE),
    }


def test_lapse_is_reported_when_the_grace_period_is_over() -> None:
    grace = membership(status=MembershipStatus.GRACE)
    changes = schedule([grace], day("2025-07-31"), RULES).status_changes
    assert [(c.old, c.new) for c in changes] == [(MembershipStatus.GRACE, MembershipStatus.LAPSED)]


# ----------------------------------------------------------- expiry reminders


@pytest.mark.parametrize(("on", "offset"), [("2025-05-31", 30), ("2025-06-23", 7)])
def test_expiry_reminders_at_each_offset_before_the_end(on: str, offset: int) -> None:
    events = due([membership()], day(on))
    assert kinds(events) == [(EventKind.EXPIRY_REMINDER, f"20250630-d{offset}")]
    assert events[0].due == date.fromisoformat(on)
    assert events[0].membership_id == "m1"
    assert events[0].template == f"expiry-reminder-d{offset}"


def test_no_reminder_on_other_days() -> None:
    assert due([membership()], day("2025-06-22")) == []
    assert due([membership()], day("2025-06-24")) == []


def test_no_reminder_to_automatic_renewer_whose_renewal_is_active() -> None:
    renewing = membership(automatic_renewal=True, renewal_active=True)
    assert due([renewing], day("2025-06-23")) == []


def test_reminder_to_automatic_renewer_whose_renewal_stopped() -> None:
    stopped = membership(automatic_renewal=True, renewal_active=False)
    assert kinds(due([stopped], day("2025-06-23"))) == [
        (EventKind.EXPIRY_REMINDER, "20250630-d7")
    ]


def test_open_ended_membership_gets_no_reminders() -> None:
    assert due([membership(end=None, start=date(2019, 3, 3))], day("2025-06-23")) == []


def test_reminder_is_not_sent_late_once_the_membership_has_expired() -> None:
    rules = RULES.model_copy(update={"reminder_offsets_days": (1,)})
    # Runs missed on 29 and 30 June; the catch-up on 1 July sends the grace notice instead.
    events = due([membership()], Window(date(2025, 6, 28), date(2025, 7, 1)), rules)
    assert kinds(events) == [(EventKind.GRACE_NOTICE, "20250630")]


def test_renewed_membership_gets_reminders_for_its_new_end_only() -> None:
    renewed = membership(end=date(2026, 6, 30))
    assert due([renewed], day("2025-06-23")) == []
    assert kinds(due([renewed], day("2026-06-23"))) == [
        (EventKind.EXPIRY_REMINDER, "20260630-d7")
    ]


# ------------------------------------------------------- grace and lapse notices


def test_grace_notice_the_day_after_the_end() -> None:
    events = due([membership(status=MembershipStatus.ACTIVE)], day("2025-07-01"))
    assert kinds(events) == [(EventKind.GRACE_NOTICE, "20250630")]
    assert events[0].template == "grace-notice"


def test_grace_notice_also_to_automatic_renewer_whose_renewal_failed() -> None:
    renewing = membership(automatic_renewal=True, renewal_active=True)
    assert kinds(due([renewing], day("2025-07-01"))) == [(EventKind.GRACE_NOTICE, "20250630")]


def test_lapse_notice_the_first_day_after_the_grace_period() -> None:
    events = due([membership(status=MembershipStatus.GRACE)], day("2025-07-31"))
    assert kinds(events) == [(EventKind.LAPSE_NOTICE, "20250630")]
    assert events[0].due == date(2025, 7, 31)


def test_without_grace_period_no_grace_notice_and_lapse_the_next_day() -> None:
    rules = RULES.model_copy(update={"grace_days": 0})
    assert kinds(due([membership()], day("2025-07-01"), rules)) == [
        (EventKind.LAPSE_NOTICE, "20250630")
    ]


def test_grace_notice_is_dropped_once_the_lapse_date_has_passed() -> None:
    rules = RULES.model_copy(update={"grace_days": 2, "max_catch_up_days": 10})
    # The end was 30 June; a run on 4 July after missing 1-3 July only says "lapsed".
    events = due([membership()], catch_up_window(date(2025, 6, 30), date(2025, 7, 4), rules), rules)
    assert kinds(events) == [(EventKind.LAPSE_NOTICE, "20250630")]


def test_ended_membership_gets_nothing() -> None:
    ended = membership(status=MembershipStatus.ENDED)
    assert due([ended], day("2025-06-23")) == []
    assert due([ended], day("2025-07-01")) == []


# ------------------------------------------------------------------ onboarding


@pytest.mark.parametrize(("on", "step"), [("2025-03-01", 0), ("2025-03-08", 7), ("2025-03-31", 30)])
def test_onboarding_series_after_joining(on: str, step: int) -> None:
    joined = membership(start=date(2025, 3, 1), end=date(2026, 2, 28))
    events = due([joined], day(on))
    assert kinds(events) == [(EventKind.ONBOARDING, f"20250301-d{step}")]
    assert events[0].template == f"onboarding-d{step}"


def test_onboarding_after_approval_and_one_series_when_joining_the_same_day() -> None:
    approval = Approval(PERSON, date(2025, 3, 1))
    alone = due([], day("2025-03-08"), approvals=[approval])
    assert kinds(alone) == [(EventKind.ONBOARDING, "20250301-d7")]
    assert alone[0].membership_id is None
    joined = membership(start=date(2025, 3, 1), end=date(2026, 2, 28))
    both = due([joined], day("2025-03-08"), approvals=[approval])
    assert len(both) == 1


def test_no_onboarding_after_a_membership_ended() -> None:
    short = membership(start=date(2025, 3, 1), end=date(2025, 3, 5))
    assert due([short], day("2025-03-08")) == []


# ------------------------------------------------------------------- birthdays


def test_birthday_for_a_member() -> None:
    events = due([membership()], day("2025-05-17"), birth_dates={PERSON: date(1990, 5, 17)})
    assert kinds(events) == [(EventKind.BIRTHDAY, "2025")]
    assert events[0].template == "birthday"
    assert events[0].membership_id is None


@pytest.mark.parametrize(
    ("on", "expected"),
    [("2025-02-28", True), ("2025-03-01", False), ("2024-02-29", True), ("2024-02-28", False)],
)
def test_leap_day_birthday_is_celebrated_on_28_february_in_other_years(
    on: str, expected: bool
) -> None:
    member = membership(start=date(2010, 1, 1), end=None)
    events = due([member], day(on), birth_dates={PERSON: date(2000, 2, 29)})
    assert bool(events) is expected


def test_leap_day_helpers() -> None:
    assert birthday_in(2025, date(2000, 2, 29)) == date(2025, 2, 28)
    assert birthday_in(2028, date(2000, 2, 29)) == date(2028, 2, 29)
    assert birthday_in(2100, date(2000, 2, 29)) == date(2100, 2, 28)
    assert anniversary_of(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert anniversary_of(date(2024, 3, 1), 4) == date(2028, 3, 1)


def test_no_birthday_greeting_to_someone_without_a_running_membership() -> None:
    lapsed = membership(end=date(2024, 1, 31), status=MembershipStatus.LAPSED)
    birth = {PERSON: date(1990, 5, 17)}
    assert due([lapsed], day("2025-05-17"), birth_dates=birth) == []
    ended = membership(status=MembershipStatus.ENDED)
    assert due([ended], day("2025-05-17"), birth_dates=birth) == []


def test_one_greeting_for_a_person_with_two_memberships() -> None:
    first = membership(id="a", type="standard")
    second = membership(id="b", type="student", start=date(2021, 2, 2))
    events = due([first, second], day("2025-05-17"), birth_dates={PERSON: date(1990, 5, 17)})
    assert kinds(events) == [(EventKind.BIRTHDAY, "2025")]


def test_birthdays_can_be_switched_off() -> None:
    rules = RULES.model_copy(update={"birthdays": False})
    birth = {PERSON: date(1990, 5, 17)}
    assert due([membership()], day("2025-05-17"), rules, birth_dates=birth) == []


# --------------------------------------------------------------- anniversaries


@pytest.mark.parametrize(("on", "years"), [("2021-01-10", 1), ("2025-01-10", 5)])
def test_anniversary_at_configured_years(on: str, years: int) -> None:
    events = due([membership()], day(on))
    assert kinds(events) == [(EventKind.ANNIVERSARY, f"20200110-y{years}")]
    assert events[0].template == f"anniversary-y{years}"


def test_no_anniversary_at_other_years_or_after_the_end() -> None:
    assert due([membership()], day("2023-01-10")) == []
    gone = membership(end=date(2024, 12, 31), status=MembershipStatus.LAPSED)
    assert due([gone], day("2025-01-10")) == []


def test_anniversary_of_a_leap_day_start() -> None:
    leap = membership(start=date(2024, 2, 29), end=None)
    assert kinds(due([leap], day("2025-02-28"))) == [(EventKind.ANNIVERSARY, "20240229-y1")]


# ------------------------------------------------------------- catch-up windows


def test_window_after_a_daily_run_covers_today() -> None:
    assert catch_up_window(date(2025, 6, 22), date(2025, 6, 23), RULES) == day("2025-06-23")


def test_rerun_the_same_day_covers_nothing() -> None:
    window = catch_up_window(date(2025, 6, 23), date(2025, 6, 23), RULES)
    assert due([membership()], window) == []


def test_first_run_covers_today_only() -> None:
    assert catch_up_window(None, date(2025, 6, 23), RULES) == day("2025-06-23")


def test_catch_up_is_limited_and_a_future_last_run_covers_nothing() -> None:
    assert catch_up_window(date(2025, 1, 1), date(2025, 6, 23), RULES).after == date(2025, 6, 16)
    future = catch_up_window(date(2025, 7, 1), date(2025, 6, 23), RULES)
    assert future.after == future.until


def test_run_after_two_missed_days_sends_everything_due_once() -> None:
    people = [
        membership(id="r", person="p-reminder"),  # reminder due 23 June
        membership(id="o", person="p-onboard", start=date(2025, 6, 22), end=None),
        membership(id="b", person="p-birthday", end=None),
    ]
    birth = {"p-birthday": date(1980, 6, 24)}
    caught_up = due(people, catch_up_window(date(2025, 6, 21), date(2025, 6, 24), RULES),
                    birth_dates=birth)
    daily = [
        e
        for on in ("2025-06-22", "2025-06-23", "2025-06-24")
        for e in due(people, day(on), birth_dates=birth)
    ]
    assert sorted(e.key for e in caught_up) == sorted(e.key for e in daily)
    assert len(caught_up) == 3


def test_overlapping_windows_give_the_same_keys() -> None:
    first = due([membership()], Window(date(2025, 6, 20), date(2025, 6, 23)))
    second = due([membership()], Window(date(2025, 6, 22), date(2025, 6, 24)))
    assert [e.key for e in first] == [e.key for e in second]


# ---------------------------------------------------------- keys and bad records


def test_key_is_deterministic_and_safe_in_an_alternate_key_url() -> None:
    key = event_key(EventKind.EXPIRY_REMINDER, PERSON.upper(), "20250630-d7")
    assert key == f"expiry-reminder_{PERSON}_20250630-d7"
    assert not re.search(r"[/#<>*%&:\\?+]", key)
    assert len(key) <= 100


def test_bad_records_are_reported_and_skipped_and_the_rest_is_scheduled() -> None:
    backwards = membership(id="bad-dates", start=date(2025, 7, 1), end=date(2025, 6, 30))
    unknown = membership(id="bad-type", type="platinum", person="other")
    good = membership(id="good")
    result = schedule(
        [backwards, unknown, good], day("2025-06-23"), RULES, known_types=frozenset({"standard"})
    )
    assert {(p.record_id, p.reason) for p in result.problems} == {
        ("bad-dates", "end date before start date"),
        ("bad-type", "unknown membership type"),
    }
    assert [e.membership_id for e in result.events] == ["good"]
    assert {c.membership_id for c in result.status_changes} == set()


def test_rules_are_validated() -> None:
    with pytest.raises(ValidationError):
        LifecycleRules(reminder_offsets_days=(0,))
    with pytest.raises(ValidationError):
        LifecycleRules(onboarding_days=(-1,))
    with pytest.raises(ValidationError):
        LifecycleRules(anniversary_years=(0,))

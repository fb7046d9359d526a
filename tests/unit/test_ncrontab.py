"""NCRONTAB and TimeSpan timer schedules: parsing and next occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sandbox.host.ncrontab import (
    CronSchedule,
    IntervalSchedule,
    ScheduleError,
    parse_ncrontab,
    parse_schedule,
    parse_timespan,
)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def nexts(expression: str, start: datetime, count: int) -> list[datetime]:
    schedule = parse_schedule(expression)
    found: list[datetime] = []
    moment = start
    for _ in range(count):
        following = schedule.next_after(moment)
        assert following is not None
        found.append(following)
        moment = following
    return found


def test_fields_in_order_second_to_day_of_week() -> None:
    schedule = parse_ncrontab("5 10 3 7 8 2")
    assert (schedule.seconds, schedule.minutes, schedule.hours) == ((5,), (10,), (3,))
    assert (schedule.days, schedule.months, schedule.weekdays) == ((7,), (8,), frozenset({2}))


def test_star_means_every_value() -> None:
    schedule = parse_ncrontab("* * * * * *")
    assert schedule.seconds == tuple(range(60)) and schedule.hours == tuple(range(24))
    assert schedule.days == tuple(range(1, 32)) and schedule.months == tuple(range(1, 13))
    assert schedule.weekdays == frozenset(range(7))


def test_ranges_lists_and_steps() -> None:
    schedule = parse_ncrontab("10-50/20 5/15 */6 1,15,28-30 * 1-5")
    assert schedule.seconds == (10, 30, 50)
    assert schedule.minutes == (5, 20, 35, 50)
    assert schedule.hours == (0, 6, 12, 18)
    assert schedule.days == (1, 15, 28, 29, 30)
    assert schedule.weekdays == frozenset({1, 2, 3, 4, 5})


def test_month_and_day_names_any_case_short_or_long() -> None:
    schedule = parse_ncrontab("0 30 9 * jan,MAR-May Mon,friday")
    assert schedule.months == (1, 3, 4, 5)
    assert schedule.weekdays == frozenset({1, 5})
    assert parse_ncrontab("0 0 0 * * SUN-SAT").weekdays == frozenset(range(7))


def test_five_fields_mean_second_zero() -> None:
    assert parse_ncrontab("*/15 * * * *") == parse_ncrontab("0 */15 * * * *")


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *  * *",
        "* * * *",
        "60 * * * * *",
        "* 60 * * * *",
        "* * 24 * * *",
        "* * * 0 * *",
        "* * * 32 * *",
        "* * * * 13 *",
        "* * * * * 7",
        "*/0 * * * * *",
        "5-1 * * * * *",
        "* * * * FOO *",
        "a * * * * *",
        "1- * * * * *",
        "",
    ],
)
def test_invalid_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_ncrontab(expression)


def test_every_five_minutes() -> None:
    assert nexts("0 */5 * * * *", at(2026, 11, 22, 10, 3, 7), 3) == [
        at(2026, 11, 22, 10, 5), at(2026, 11, 22, 10, 10), at(2026, 11, 22, 10, 15),
    ]


def test_next_is_strictly_after_and_ignores_microseconds() -> None:
    schedule = parse_ncrontab("0 0 * * * *")
    assert schedule.next_after(at(2026, 1, 1, 10)) == at(2026, 1, 1, 11)
    assert schedule.next_after(at(2026, 1, 1, 10, 59, 59) + timedelta(microseconds=999_999)) == (
        at(2026, 1, 1, 11)
    )


def test_every_second() -> None:
    assert nexts("* * * * * *", at(2026, 12, 31, 23, 59, 58), 3) == [
        at(2026, 12, 31, 23, 59, 59), at(2027, 1, 1), at(2027, 1, 1, 0, 0, 1),
    ]


def test_weekdays_roll_over_the_weekend() -> None:
    # 2026-11-20 is a Friday.
    assert nexts("0 30 9 * * MON-FRI", at(2026, 11, 20, 9, 30), 2) == [
        at(2026, 11, 23, 9, 30), at(2026, 11, 24, 9, 30),
    ]


def test_across_month_end() -> None:
    assert parse_ncrontab("0 0 0 1 * *").next_after(at(2026, 1, 31, 23, 59, 59)) == at(2026, 2, 1)
    assert parse_ncrontab("0 0 12 31 * *").next_after(at(2026, 4, 1)) == at(2026, 5, 31, 12)


def test_across_year_end() -> None:
    assert parse_ncrontab("0 0 0 1 1 *").next_after(at(2026, 6, 1)) == at(2027, 1, 1)
    assert parse_ncrontab("0 15 10 * DEC *").next_after(at(2026, 12, 31, 10, 15)) == (
        at(2027, 12, 1, 10, 15)
    )


def test_leap_day() -> None:
    assert parse_ncrontab("0 0 0 29 2 *").next_after(at(2026, 3, 1)) == at(2028, 2, 29)


def test_day_and_weekday_must_both_match_as_in_ncrontab() -> None:
    fridays_13th = nexts("0 0 0 13 * FRI", at(2026, 1, 1), 3)
    assert fridays_13th == [at(2026, 2, 13), at(2026, 3, 13), at(2026, 11, 13)]


def test_first_monday_of_january() -> None:
    assert parse_ncrontab("0 30 9 1-7 Jan Mon").next_after(at(2026, 2, 1)) == at(2027, 1, 4, 9, 30)


def test_impossible_date_has_no_next() -> None:
    assert parse_ncrontab("0 0 0 30 2 *").next_after(at(2026, 1, 1)) is None


def test_time_zone_is_kept() -> None:
    stockholm = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 1, 8, 0, tzinfo=stockholm)
    assert parse_ncrontab("0 0 9 * * *").next_after(moment) == datetime(
        2026, 1, 1, 9, tzinfo=stockholm
    )


def test_timespan_form() -> None:
    assert parse_timespan("00:05:00") == IntervalSchedule(timedelta(minutes=5))
    assert parse_timespan("1.02:03:04") == IntervalSchedule(
        timedelta(days=1, hours=2, minutes=3, seconds=4)
    )
    assert nexts("00:00:30", at(2026, 1, 1), 2) == [at(2026, 1, 1, 0, 0, 30), at(2026, 1, 1, 0, 1)]


@pytest.mark.parametrize("text", ["24:00:00", "00:60:00", "00:00:60", "00:00:00", "1:2", "x"])
def test_invalid_timespans_are_rejected(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_timespan(text)


def test_parse_schedule_tells_the_forms_apart() -> None:
    assert isinstance(parse_schedule("0 */5 * * * *"), CronSchedule)
    assert isinstance(parse_schedule(" 01:00:00 "), IntervalSchedule)

"""Timer-trigger schedules as Azure Functions reads them: NCRONTAB and the TimeSpan form.

NCRONTAB has six fields ``{second} {minute} {hour} {day} {month} {day-of-week}``; the
five-field form without seconds is accepted too, as NCrontab does. Each field takes ``*``,
values, ranges ``a-b``, lists ``a,b``, steps ``*/n``, ``a-b/n`` and ``a/n`` (from ``a`` to the
field's end), and for month and day-of-week the English names (``JAN``/``January``,
``MON``/``Monday``; Sunday is 0). As in NCrontab (and unlike Vixie cron) a time must match
both the day-of-month and the day-of-week field.

The TimeSpan form ``[d.]hh:mm:ss`` runs every interval, counted from the previous occurrence.

Times are wall-clock fields of the datetime given (the host passes UTC, as Azure does unless
``WEBSITE_TIME_ZONE`` is set). Pure: standard library only.
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

MONTH_NAMES = [m.lower() for m in calendar.month_name[1:]]
DAY_NAMES = [d.lower() for d in ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
                                 "Friday", "Saturday")]
SEARCH_YEARS = 400
TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})$")


class ScheduleError(ValueError):
    """A schedule expression that neither NCRONTAB nor TimeSpan accepts."""


class Schedule(Protocol):
    """When a timer runs next."""

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after ``moment``; None when there is none."""
        ...


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_offset: int = 0


FIELDS = (
    _Field("second", 0, 59),
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day", 1, 31),
    _Field("month", 1, 12, tuple(MONTH_NAMES), 1),
    _Field("day-of-week", 0, 6, tuple(DAY_NAMES), 0),
)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed NCRONTAB expression; each field is the sorted list of values it allows."""

    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: frozenset[int]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching second strictly after ``moment`` (tzinfo kept)."""
        start = moment.replace(microsecond=0) + timedelta(seconds=1)
        for year in range(start.year, start.year + SEARCH_YEARS):
            for month in _from(self.months, start.month if year == start.year else 1):
                found = self._in_month(year, month, start)
                if found is not None:
                    return found
        return None

    def _in_month(self, year: int, month: int, start: datetime) -> datetime | None:
        this_month = (year, month) == (start.year, start.month)
        for day in self._days_in(year, month, start.day if this_month else 1):
            same_day = this_month and day == start.day
            for hour in _from(self.hours, start.hour if same_day else 0):
                same_hour = same_day and hour == start.hour
                for minute in _from(self.minutes, start.minute if same_hour else 0):
                    same_minute = same_hour and minute == start.minute
                    for second in _from(self.seconds, start.second if same_minute else 0):
                        return start.replace(
                            year=year, month=month, day=day, hour=hour, minute=minute,
                            second=second,
                        )
        return None

    def _days_in(self, year: int, month: int, first: int) -> list[int]:
        last = calendar.monthrange(year, month)[1]
        return [
            day
            for day in _from(self.days, first)
            if day <= last and _weekday(year, month, day) in self.weekdays
        ]


@dataclass(frozen=True)
class IntervalSchedule:
    """The TimeSpan form: every ``interval`` after the previous occurrence."""

    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        """``moment`` plus the interval."""
        return moment + self.interval


def parse_schedule(expression: str) -> CronSchedule | IntervalSchedule:
    """Parse a timer trigger's ``schedule`` (NCRONTAB or TimeSpan)."""
    text = expression.strip()
    if TIMESPAN.match(text):
        return parse_timespan(text)
    return parse_ncrontab(text)


def parse_timespan(text: str) -> IntervalSchedule:
    """``[d.]hh:mm:ss`` (hours < 24, minutes and seconds < 60, not zero)."""
    match = TIMESPAN.match(text.strip())
    if match is None:
        raise ScheduleError(f"'{text}' is not a TimeSpan ([d.]hh:mm:ss)")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ScheduleError(f"'{text}' is not a valid TimeSpan")
    interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not interval:
        raise ScheduleError(f"'{text}': a TimeSpan schedule must be longer than zero")
    return IntervalSchedule(interval)


def parse_ncrontab(text: str) -> CronSchedule:
    """Parse a five- or six-field NCRONTAB expression."""
    parts = text.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise ScheduleError(
            f"'{text}' is not a valid NCRONTAB expression: expected 6 fields "
            "({second} {minute} {hour} {day} {month} {day-of-week})"
        )
    values = [sorted(_parse_field(part, spec)) for part, spec in zip(parts, FIELDS, strict=True)]
    seconds, minutes, hours, days, months, weekdays = values
    return CronSchedule(
        tuple(seconds), tuple(minutes), tuple(hours), tuple(days), tuple(months),
        frozenset(weekdays),
    )


def _parse_field(text: str, spec: _Field) -> set[int]:
    allowed: set[int] = set()
    for item in text.split(","):
        allowed.update(_parse_item(item, spec))
    return allowed


def _parse_item(item: str, spec: _Field) -> range:
    body, slash, step_text = item.partition("/")
    step = _number(step_text, spec, item) if slash else 1
    if step < 1:
        raise ScheduleError(f"{spec.name} field '{item}': the step must be at least 1")
    if body == "*":
        first, last = spec.low, spec.high
    elif "-" in body:
        low_text, _, high_text = body.partition("-")
        first, last = _value(low_text, spec, item), _value(high_text, spec, item)
    else:
        first = _value(body, spec, item)
        last = spec.high if slash else first
    if first > last:
        raise ScheduleError(f"{spec.name} field '{item}': the range runs backwards")
    return range(first, last + 1, step)


def _value(text: str, spec: _Field, item: str) -> int:
    lowered = text.lower()
    for index, name in enumerate(spec.names):
        if lowered in (name, name[:3]):
            return index + spec.name_offset
    value = _number(text, spec, item)
    if not spec.low <= value <= spec.high:
        raise ScheduleError(
            f"{spec.name} field '{item}': {value} is outside {spec.low}-{spec.high}"
        )
    return value


def _number(text: str, spec: _Field, item: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ScheduleError(f"{spec.name} field '{item}': '{text}' is not a number")
    return int(text)


def _from(values: tuple[int, ...], first: int) -> tuple[int, ...]:
    return values[bisect.bisect_left(values, first):]


def _weekday(year: int, month: int, day: int) -> int:
    # calendar counts Monday as 0; NCRONTAB counts Sunday as 0.
    return (calendar.weekday(year, month, day) + 1) % 7

"""Membership lifecycle scheduling (pure): statuses and the messages due in a window.

A membership runs from ``start`` to ``end`` (open-ended when ``end`` is None). Its status on
a day follows from the dates and the configured grace period:

- ``active`` up to and including the end date;
- ``grace`` for ``grace_days`` days after it;
- ``lapsed`` after that;
- ``ended`` when the office ended it (a stored status no date changes).

A run schedules the events whose due date lies in its window ``(after, until]``: ``after``
is the day of the last successful run, so a rerun the same day finds nothing new and a run
after missed days catches up on every day in between (at most ``max_catch_up_days`` back,
so a long outage does not send last month's birthday greetings). Each event has a
deterministic key, ``<kind>_<person>_<period>``; the service stores it under an alternate key
and creates it with ``If-None-Match: *``, so overlapping windows never send twice.

The events, and when each is due:

- ``expiry-reminder``: ``offset`` days before the end date, for each configured offset;
  never to an automatic renewer whose renewal is active, and not once the end date has
  passed on the day of the run (the grace notice says it then);
- ``grace-notice``: the day after the end date (only with a grace period), not once the
  lapse date has passed on the day of the run;
- ``lapse-notice``: the first day after the grace period;
- ``onboarding``: ``n`` days after the membership starts (joining) or after a registration
  was approved, for each configured step; a membership and an approval on the same day make
  one series, because the key names the anchor day, not the record;
- ``birthday``: on the birthday of a person with a membership running that day;
- ``anniversary``: ``n`` years after the start, for each configured ``n``, while the
  membership runs.

Two more kinds are started by Dataverse events, not by dates (:mod:`.triggers`): ``renewal``
(a membership's end date moved later) and ``follow-up`` (a configured table change).

A birthday on 29 February is celebrated on 28 February in other years (the last day of the
person's birth month, which is also how the Nordic registers count ages). A membership that
started on 29 February has its anniversaries on 28 February too.

Records that cannot be scheduled (end before start, a type the organisation has not
configured) are returned as problems with the record id and left out; the rest is scheduled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    GRACE = "grace"
    LAPSED = "lapsed"
    ENDED = "ended"


class EventKind(StrEnum):
    EXPIRY_REMINDER = "expiry-reminder"
    GRACE_NOTICE = "grace-notice"
    LAPSE_NOTICE = "lapse-notice"
    ONBOARDING = "onboarding"
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    RENEWAL = "renewal"
    FOLLOW_UP = "follow-up"
    ADDRESS_REQUEST = "address-request"
    DATA_CHECK = "data-check"
    PAYMENT_REMINDER = "payment-reminder"


class LifecycleRules(BaseModel):
    """The organisation's lifecycle periods (``SYNC__LIFECYCLE__...``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reminder_offsets_days: tuple[int, ...] = Field(
        default=(30, 7), description="expiry reminders, days before the end date"
    )
    grace_days: int = Field(default=30, ge=0, description="days after the end date in grace")
    onboarding_days: tuple[int, ...] = Field(
        default=(0, 7, 30), description="onboarding steps, days after joining or approval"
    )
    anniversary_years: tuple[int, ...] = Field(
        default=(1, 5, 10, 25), description="membership anniversaries celebrated"
    )
    birthdays: bool = Field(default=True, description="send birthday greetings to members")
    max_catch_up_days: int = Field(
        default=7, ge=1, description="how far back a run catches up on missed days"
    )

    @model_validator(mode="after")
    def _check(self) -> LifecycleRules:
        if any(d < 1 for d in self.reminder_offsets_days):
            raise ValueError("reminder offsets must be at least 1 day before the end")
        if any(d < 0 for d in self.onboarding_days):
            raise ValueError("onboarding steps cannot be before joining")
        if any(y < 1 for y in self.anniversary_years):
            raise ValueError("anniversaries are at least 1 year")
        return self


@dataclass(frozen=True, slots=True)
class Membership:
    """One membership as stored; ``status`` is the stored one (None when empty)."""

    id: str
    person_id: str
    type: str | None
    start: date
    end: date | None
    status: MembershipStatus | None = None
    automatic_renewal: bool = False
    renewal_active: bool = False


@dataclass(frozen=True, slots=True)
class Approval:
    """A registration approved on ``approved_on``: it starts an onboarding series."""

    person_id: str
    approved_on: date


@dataclass(frozen=True, slots=True)
class Window:
    """The due dates a run covers: after ``after``, up to and including ``until``."""

    after: date
    until: date


@dataclass(frozen=True, slots=True)
class DueEvent:
    """One message due; ``key`` identifies it across runs."""

    key: str
    person_id: str
    kind: EventKind
    period: str
    due: date
    membership_id: str | None = None
    channel: str | None = None
    """The channel the event goes by (None: the lifecycle's configured channel)."""

    @property
    def template(self) -> str:
        """The template name: the kind, with the step for stepped kinds (``onboarding-d7``)
        and the trigger's name for a follow-up (``follow-up-attended``)."""
        head, _, step = self.period.rpartition("-")
        if self.kind in (EventKind.ONBOARDING, EventKind.EXPIRY_REMINDER, EventKind.ANNIVERSARY):
            return f"{self.kind}-{step}"
        if self.kind is EventKind.FOLLOW_UP:
            return f"{self.kind}-{head}"
        return str(self.kind)


@dataclass(frozen=True, slots=True)
class StatusChange:
    membership_id: str
    old: MembershipStatus | None
    new: MembershipStatus


@dataclass(frozen=True, slots=True)
class Problem:
    """A record that was left out, and why."""

    record_id: str
    reason: str


@dataclass
class Schedule:
    """What one run must do."""

    events: list[DueEvent] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def event_key(kind: EventKind, person_id: str, period: str) -> str:
    """The deterministic key of an event; only characters safe in an alternate-key URL."""
    return f"{kind}_{person_id.lower()}_{period}"


def catch_up_window(last_run: date | None, today: date, rules: LifecycleRules) -> Window:
    """The window of a run on ``today`` after a last successful run on ``last_run``.

    Without a previous run only today is covered; a previous run in the future (a clock
    moved back) covers nothing.
    """
    earliest = today - timedelta(days=rules.max_catch_up_days)
    if last_run is None:
        return Window(today - timedelta(days=1), today)
    return Window(min(max(last_run, earliest), today), today)


def anniversary_of(day: date, years: int) -> date:
    """``day`` moved ``years`` years on; 29 February becomes 28 February in other years."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not _leap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def birthday_in(year: int, birth_date: date) -> date:
    """The day a person born on ``birth_date`` celebrates in ``year``."""
    return anniversary_of(birth_date, year - birth_date.year)


def birthdays_due(birth_dates: Mapping[str, date], window: Window) -> list[DueEvent]:
    """Birthday greetings due in ``window`` for these people, membership or not (under the
    same key as a member's greeting, so nobody is greeted twice)."""
    events = []
    for person_id, born in sorted(birth_dates.items()):
        for year in range(window.after.year, window.until.year + 1):
            due = birthday_in(year, born)
            if window.after < due <= window.until and due > born:
                key = event_key(EventKind.BIRTHDAY, person_id, str(year))
                events.append(DueEvent(key, person_id, EventKind.BIRTHDAY, str(year), due))
    return events


def status_on(membership: Membership, day: date, rules: LifecycleRules) -> MembershipStatus:
    """The membership's status on ``day``."""
    if membership.status is MembershipStatus.ENDED:
        return MembershipStatus.ENDED
    end = membership.end
    if end is None or day <= end:
        return MembershipStatus.ACTIVE
    if day <= end + timedelta(days=rules.grace_days):
        return MembershipStatus.GRACE
    return MembershipStatus.LAPSED


def problem_of(membership: Membership, known_types: frozenset[str] | None) -> str | None:
    """Why ``membership`` cannot be scheduled, or None. ``known_types`` None accepts any."""
    if membership.end is not None and membership.end < membership.start:
        return "end date before start date"
    if known_types is not None and membership.type not in known_types:
        return "unknown membership type"
    return None


def schedule(
    memberships: Iterable[Membership],
    window: Window,
    rules: LifecycleRules,
    *,
    birth_dates: Mapping[str, date] | None = None,
    approvals: Iterable[Approval] = (),
    known_types: frozenset[str] | None = None,
) -> Schedule:
    """Status changes as of ``window.until`` and the events due in ``window``, each once.

    ``birth_dates`` maps person ids to birth dates (people without one get no greeting).
    """
    planner = _Planner(window, rules)
    result = Schedule()
    running: dict[str, list[Membership]] = {}
    for membership in memberships:
        problem = problem_of(membership, known_types)
        if problem is not None:
            result.problems.append(Problem(membership.id, problem))
            continue
        status = status_on(membership, window.until, rules)
        if status is not membership.status:
            result.status_changes.append(StatusChange(membership.id, membership.status, status))
        if status is MembershipStatus.ENDED:
            continue
        running.setdefault(membership.person_id, []).append(membership)
        planner.membership(membership)
    for approval in approvals:
        planner.onboarding(approval.person_id, approval.approved_on, None)
    if rules.birthdays and birth_dates:
        for person_id, held in running.items():
            birth_date = birth_dates.get(person_id)
            if birth_date is not None:
                planner.birthday(person_id, birth_date, held)
    result.events = list(planner.events.values())
    return result


class _Planner:
    """Collects the events of one window, each key once.

    Most memberships have nothing due in a window of a few days, so each rule first rejects
    on day numbers (ordinals) and builds dates and keys only for the few that are due: this
    keeps 100,000 memberships well under a second.
    """

    def __init__(self, window: Window, rules: LifecycleRules) -> None:
        self.rules = rules
        self.after = window.after.toordinal()
        self.until = window.until.toordinal()
        self.years = range(window.after.year, window.until.year + 1)
        self.anniversary_years = frozenset(rules.anniversary_years)
        self.last_onboarding = max(rules.onboarding_days, default=0)
        self.first_reminder = min(rules.reminder_offsets_days, default=0)
        self.last_reminder = max(rules.reminder_offsets_days, default=0)
        self.events: dict[str, DueEvent] = {}

    def due(self, day: int) -> bool:
        return self.after < day <= self.until

    def add(
        self, kind: EventKind, person_id: str, period: str, due: date, membership: Membership | None
    ) -> None:
        key = event_key(kind, person_id, period)
        if key not in self.events:
            membership_id = membership.id if membership is not None else None
            self.events[key] = DueEvent(key, person_id, kind, period, due, membership_id)

    def membership(self, membership: Membership) -> None:
        self.onboarding(membership.person_id, membership.start, membership)
        self.anniversaries(membership)
        if membership.end is not None:
            self.end_events(membership, membership.end)

    def onboarding(self, person_id: str, anchor: date, membership: Membership | None) -> None:
        first = anchor.toordinal()
        if not self.after - self.last_onboarding < first <= self.until:
            return
        for days in self.rules.onboarding_days:
            if self.due(first + days):
                due = anchor + timedelta(days=days)
                if membership is None or _runs_on(membership, due):
                    period = f"{stamp(anchor)}-d{days}"
                    self.add(EventKind.ONBOARDING, person_id, period, due, membership)

    def anniversaries(self, membership: Membership) -> None:
        start = membership.start
        for year in self.years:
            years = year - start.year
            if years in self.anniversary_years:
                due = anniversary_of(start, years)
                if self.due(due.toordinal()) and _runs_on(membership, due):
                    period = f"{stamp(start)}-y{years}"
                    self.add(EventKind.ANNIVERSARY, membership.person_id, period, due, membership)

    def end_events(self, membership: Membership, end: date) -> None:
        last = end.toordinal()
        grace = self.rules.grace_days
        lapse = last + grace + 1
        if lapse <= self.after or last - self.last_reminder > self.until:
            return
        person = membership.person_id
        renews = membership.automatic_renewal and membership.renewal_active
        if not renews and self.until <= last and self.after < last - self.first_reminder:
            for days in self.rules.reminder_offsets_days:
                if self.due(last - days):
                    due = end - timedelta(days=days)
                    period = f"{stamp(end)}-d{days}"
                    self.add(EventKind.EXPIRY_REMINDER, person, period, due, membership)
        if grace > 0 and self.until < lapse and self.due(last + 1):
            due = end + timedelta(days=1)
            self.add(EventKind.GRACE_NOTICE, person, stamp(end), due, membership)
        if self.due(lapse):
            due = end + timedelta(days=grace + 1)
            self.add(EventKind.LAPSE_NOTICE, person, stamp(end), due, membership)

    def birthday(self, person_id: str, birth_date: date, held: list[Membership]) -> None:
        for year in self.years:
            due = birthday_in(year, birth_date)
            if not self.due(due.toordinal()) or due <= birth_date:
                continue
            if any(_runs_on(m, due) for m in held):
                self.add(EventKind.BIRTHDAY, person_id, str(year), due, None)


def _runs_on(membership: Membership, day: date) -> bool:
    end = membership.end
    return membership.start <= day and (end is None or day <= end)


def stamp(day: date) -> str:
    """A day as it appears in event periods: ``YYYYMMDD``."""
    return day.strftime("%Y%m%d")


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)

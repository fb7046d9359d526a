"""Membership types and what they mean for dates and money (pure).

A type (kept by the office in Dataverse) has a fee per period, a currency, a period in
months and grace days. From it follow:

- a new membership starting on ``start`` runs one period: ``start`` to the day before
  ``start`` plus the period. A free type simply runs the period. A paid type runs, until the
  invoice is paid, only to the invoice's due date plus the type's grace days; payment moves
  the end to the end of the period. So a member who never pays drops out through the
  lifecycle's own grace and lapse (with its notices), without anything new to schedule;
- a renewal covers the next period, from the day after the current end; its invoice is
  issued ``renewal_days`` before the end and falls due on the end date;
- a period is counted in calendar months: 31 January plus one month is 28 (29) February.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class MembershipType:
    """One row of the membership type table."""

    id: str
    code: str
    name: str
    fee: Decimal
    currency: str
    period_months: int
    grace_days: int
    category: int | None = None

    @property
    def paid(self) -> bool:
        """Whether memberships of this type are invoiced."""
        return self.fee > 0


@dataclass(frozen=True, slots=True)
class Period:
    """The days a fee covers, both included."""

    start: date
    end: date


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on, kept within the target month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_from(start: date, kind: MembershipType) -> Period:
    """The period of ``kind`` starting on ``start``."""
    return Period(start, add_months(start, kind.period_months) - timedelta(days=1))


def renewal_period(current_end: date, kind: MembershipType) -> Period:
    """The period after a membership that ends on ``current_end``."""
    return period_from(current_end + timedelta(days=1), kind)


def unpaid_end(due: date, kind: MembershipType) -> date:
    """How long a new paid membership runs while its invoice is unpaid."""
    return due + timedelta(days=kind.grace_days)


def renewal_due(end: date, today: date, renewal_days: int) -> bool:
    """Whether a membership ending on ``end`` is invoiced for renewal on ``today``."""
    return end - timedelta(days=renewal_days) <= today <= end


def invoice_key(membership_id: str, period: Period) -> str:
    """The invoice's deterministic key: one invoice per membership and period."""
    return f"{membership_id.lower()}_{period.start:%Y%m%d}"

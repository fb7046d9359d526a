"""Payment reminders due (pure): at each configured offset after the due date, once.

A reminder for an unpaid invoice is due ``offset`` days after its due date; a run on
``today`` sends the ones that fell due in the last ``catch_up_days`` days (a run after missed
days catches up; older ones are left, the next offset says it better). Each reminder's key
(:func:`plugins.sync.lifecycle.event_key` of kind ``payment-reminder``, person and
``<invoice number>-d<offset>``) is recorded in the lifecycle event table, so it goes out once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from plugins.sync.lifecycle import EventKind, event_key


@dataclass(frozen=True, slots=True)
class DueReminder:
    key: str
    person_id: str
    invoice_id: str
    period: str
    due: date
    offset: int


def reminders_due(
    invoice_id: str,
    person_id: str,
    number: str,
    due: date,
    offsets: tuple[int, ...],
    today: date,
    catch_up_days: int,
) -> list[DueReminder]:
    """The reminders of one unpaid invoice that are due on ``today`` (latest offset only)."""
    found = [
        offset for offset in offsets
        if today - timedelta(days=catch_up_days) < due + timedelta(days=offset) <= today
    ]
    if not found:
        return []
    offset = max(found)
    period = f"{number}-d{offset}"
    key = event_key(EventKind.PAYMENT_REMINDER, person_id, period)
    return [DueReminder(key, person_id.lower(), invoice_id, period,
                        due + timedelta(days=offset), offset)]

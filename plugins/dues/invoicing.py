"""Which invoices a run issues (pure): one per new or renewing paid membership and period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .references import ReferenceScheme, make_reference, reference_base
from .terms import MembershipType, Period, invoice_key


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """An invoice to create. ``number`` is the reference's base; ``reference`` carries the
    scheme's check digits."""

    key: str
    number: str
    reference: str
    person_id: str
    membership_id: str
    amount: Decimal
    currency: str
    invoice_date: date
    due: date
    period: Period


def draft_invoice(
    membership_id: str,
    person_id: str,
    kind: MembershipType,
    period: Period,
    invoice_date: date,
    due: date,
    scheme: ReferenceScheme,
) -> InvoiceDraft:
    """The invoice for ``membership_id``'s ``period``; the same inputs give the same invoice."""
    key = invoice_key(membership_id, period)
    number = reference_base(key)
    return InvoiceDraft(
        key=key,
        number=number,
        reference=make_reference(number, scheme),
        person_id=person_id.lower(),
        membership_id=membership_id.lower(),
        amount=kind.fee,
        currency=kind.currency,
        invoice_date=invoice_date,
        due=due,
        period=period,
    )


def new_membership_due(today: date, terms_days: int) -> date:
    """The due date of a new member's first invoice."""
    return today + timedelta(days=terms_days)

"""Matching payments to invoices by reference (pure).

Each payment is matched by its references (normalised: no spaces) to the open invoices that
carry them, and recorded as one payment row per invoice it pays (a payment quoting several
invoices is split over them in the order given, each up to what is still owed, the rest on
the last). What cannot be matched is never dropped: it becomes a payment row without an
invoice, on the review list, with the reason:

- no reference, or references no invoice carries (``unknown-reference``);
- a deduction the bank made (``deduction``);
- a currency other than the invoice's, or an invoice that was cancelled (``unknown-reference``
  too: the office decides).

An invoice paid in part is ``partly-paid``; paid in full ``paid``; paid more than its amount
``overpaid``, and that payment goes on the review list so the office can refund. When an
invoice becomes paid, its membership runs to the end of the invoiced period (never shorter
than it already runs) and is active again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from .bankfile import BankPayment
from .references import normalise_reference

OPEN_STATUSES = frozenset({"open", "partly-paid"})


@dataclass(frozen=True, slots=True)
class InvoiceState:
    """An invoice as the matcher needs it; ``etag`` guards its update."""

    id: str
    reference: str
    amount: Decimal
    currency: str
    paid_amount: Decimal
    status: str
    period_end: date | None
    membership_id: str | None
    membership_end: date | None
    etag: str | None = None
    paid_on: date | None = None


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One payment row to create."""

    key: str
    amount: Decimal
    currency: str
    reference: str
    paid_on: date
    match: str
    needs_review: bool
    invoice_id: str | None = None


@dataclass(frozen=True, slots=True)
class Extension:
    """A membership to run to ``end``, active."""

    membership_id: str
    end: date


@dataclass
class Applied:
    """What a group of payments changes."""

    rows: list[PaymentRow] = field(default_factory=list)
    invoices: dict[str, InvoiceState] = field(default_factory=dict)
    extensions: dict[str, Extension] = field(default_factory=dict)


def apply_payments(
    payments: Iterable[BankPayment], invoices: Mapping[str, InvoiceState], source: str
) -> Applied:
    """Match ``payments`` in order against ``invoices`` (by normalised reference).

    ``Applied.invoices`` holds every invoice whose state changed (its final state);
    ``source`` names where the payments came from (kept on each row).
    """
    applied = Applied()
    state = dict(invoices)
    for payment in payments:
        for row, invoice in _match(payment, state, source):
            applied.rows.append(row)
            if invoice is None:
                continue
            before = state[normalise_reference(invoice.reference)]
            state[normalise_reference(invoice.reference)] = invoice
            applied.invoices[invoice.id] = invoice
            extension = _extension(before, invoice)
            if extension is not None:
                applied.extensions[extension.membership_id] = extension
    return applied


def invoice_status(amount: Decimal, paid: Decimal) -> str:
    """The status of an invoice of ``amount`` after ``paid`` came in."""
    if paid <= 0:
        return "open"
    if paid < amount:
        return "partly-paid"
    return "paid" if paid == amount else "overpaid"


def _match(
    payment: BankPayment, state: dict[str, InvoiceState], source: str
) -> list[tuple[PaymentRow, InvoiceState | None]]:
    shown = " ".join(payment.references)[:100]
    if payment.deduction:
        return [(_review(payment, payment.key, payment.amount, "deduction", shown), None)]
    found = []
    for reference in payment.references:
        invoice = state.get(normalise_reference(reference))
        if invoice is not None and invoice.id not in {i.id for i in found}:
            found.append(invoice)
    usable = [
        i for i in found if i.currency == payment.currency and i.status != "cancelled"
    ]
    if not usable:
        return [(_review(payment, payment.key, payment.amount, "unknown-reference", shown), None)]
    results = []
    left = payment.amount
    for index, invoice in enumerate(usable):
        last = index == len(usable) - 1
        owed = max(invoice.amount - invoice.paid_amount, Decimal(0))
        part = left if last else min(left, owed)
        left -= part
        key = payment.key if len(usable) == 1 else f"{payment.key}-{index + 1}"
        paid = invoice.paid_amount + part
        status = invoice_status(invoice.amount, paid)
        match = {"paid": "matched", "overpaid": "overpaid"}.get(status, "partial")
        row = PaymentRow(
            key=key, amount=part, currency=payment.currency, reference=invoice.reference,
            paid_on=payment.paid_on, match=match, needs_review=status == "overpaid",
            invoice_id=invoice.id,
        )
        paid_on = payment.paid_on if status in ("paid", "overpaid") else invoice.paid_on
        results.append((row, replace(invoice, paid_amount=paid, status=status, paid_on=paid_on)))
    return results


def _review(payment: BankPayment, key: str, amount: Decimal, why: str, shown: str) -> PaymentRow:
    return PaymentRow(
        key=key, amount=amount, currency=payment.currency, reference=shown,
        paid_on=payment.paid_on, match=why, needs_review=True,
    )


def _extension(before: InvoiceState, after: InvoiceState) -> Extension | None:
    newly_paid = before.status in OPEN_STATUSES and after.status not in OPEN_STATUSES
    if not newly_paid or after.membership_id is None or after.period_end is None:
        return None
    current = after.membership_end
    end = after.period_end if current is None else max(current, after.period_end)
    return Extension(after.membership_id, end)

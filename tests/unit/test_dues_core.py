"""Dues core: periods, renewals, invoice drafts, matching, reminders and channels."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from plugins.dues.bankfile import BankPayment
from plugins.dues.channels import email_channel, invoice_channel
from plugins.dues.invoicing import draft_invoice
from plugins.dues.matching import InvoiceState, apply_payments
from plugins.dues.references import ReferenceScheme, valid_reference
from plugins.dues.reminders import reminders_due
from plugins.dues.terms import MembershipType, add_months, period_from, renewal_period
from plugins.sync.policy import Channel, Recipient

PAID = MembershipType("t1", "standard", "Standard", Decimal("450"), "SEK", 12, 14)


def test_periods_are_calendar_months() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert period_from(date(2026, 1, 10), PAID).end == date(2027, 1, 9)
    renewal = renewal_period(date(2027, 1, 9), PAID)
    assert (renewal.start, renewal.end) == (date(2027, 1, 10), date(2028, 1, 9))


def test_invoice_draft_is_deterministic() -> None:
    period = period_from(date(2026, 1, 10), PAID)
    one = draft_invoice("M1", "P1", PAID, period, date(2026, 1, 10), date(2026, 2, 9),
                        ReferenceScheme.NO_KID_MOD11)
    two = draft_invoice("m1", "p1", PAID, period, date(2026, 1, 11), date(2026, 2, 9),
                        ReferenceScheme.NO_KID_MOD11)
    assert one.key == two.key == "m1_20260110" and one.reference == two.reference
    assert valid_reference(one.reference, ReferenceScheme.NO_KID_MOD11)


def invoice(reference: str = "12344", paid: str = "0", status: str = "open") -> InvoiceState:
    return InvoiceState(
        id="i1", reference=reference, amount=Decimal("450"), currency="SEK",
        paid_amount=Decimal(paid), status=status, period_end=date(2027, 1, 9),
        membership_id="m1", membership_end=date(2026, 2, 23),
    )


def pay(amount: str, *refs: str, key: str = "k1", currency: str = "SEK",
        deduction: bool = False) -> BankPayment:
    return BankPayment(key, Decimal(amount), currency, date(2026, 1, 20), refs, 3,
                       deduction=deduction)


def test_partial_then_full_extends_once() -> None:
    applied = apply_payments([pay("200", "12344"), pay("250", "1234 4", key="k2")],
                             {"12344": invoice()}, "file")
    assert [r.match for r in applied.rows] == ["partial", "matched"]
    assert applied.invoices["i1"].status == "paid"
    assert applied.invoices["i1"].paid_on == date(2026, 1, 20)
    assert applied.extensions["m1"].end == date(2027, 1, 9)


def test_overpayment_goes_to_review() -> None:
    applied = apply_payments([pay("500", "12344")], {"12344": invoice()}, "file")
    assert applied.rows[0].match == "overpaid" and applied.rows[0].needs_review
    assert applied.invoices["i1"].status == "overpaid"


def test_nothing_is_lost() -> None:
    applied = apply_payments(
        [pay("10", key="a"), pay("10", "777", key="b"), pay("10", "12344", key="c",
                                                             currency="EUR"),
         pay("-5", "12344", key="d", deduction=True)],
        {"12344": invoice()}, "file",
    )
    assert [(r.key, r.match, r.needs_review, r.invoice_id) for r in applied.rows] == [
        ("a", "unknown-reference", True, None), ("b", "unknown-reference", True, None),
        ("c", "unknown-reference", True, None), ("d", "deduction", True, None),
    ]
    assert applied.invoices == {} and applied.extensions == {}


def test_one_payment_over_two_invoices() -> None:
    other = InvoiceState("i2", "55555", Decimal("100"), "SEK", Decimal(0), "open",
                         date(2027, 5, 1), "m2", None)
    applied = apply_payments([pay("600", "12344", "55555")],
                             {"12344": invoice(), "55555": other}, "file")
    assert [(r.key, r.amount) for r in applied.rows] == [
        ("k1-1", Decimal("450")), ("k1-2", Decimal("150"))
    ]
    assert applied.invoices["i2"].status == "overpaid"


def test_reminders_once_per_offset_and_caught_up() -> None:
    due = date(2026, 2, 9)
    assert reminders_due("i1", "P1", "N", due, (7, 21), date(2026, 2, 15), 7) == []
    [first] = reminders_due("i1", "P1", "N", due, (7, 21), date(2026, 2, 16), 7)
    assert first.period == "N-d7" and first.key == "payment-reminder_p1_N-d7"
    [late] = reminders_due("i1", "P1", "N", due, (7, 21), date(2026, 3, 5), 7)
    assert late.offset == 21
    assert reminders_due("i1", "P1", "N", due, (7, 21), date(2026, 4, 1), 7) == []


def test_post_only_for_unprotected_people_who_chose_it() -> None:
    post = Recipient("p", protected=False, channels=frozenset({Channel.POST}),
                     has_address=True, has_email=True)
    assert invoice_channel(post)[0] is Channel.POST
    protected = Recipient("p", protected=True, channels=frozenset({Channel.POST}),
                          has_address=True, has_email=True)
    assert invoice_channel(protected)[0] is Channel.EMAIL
    unreachable = Recipient("p", protected=True, channels=frozenset({Channel.POST}),
                            has_address=True)
    channel, verdict = invoice_channel(unreachable)
    assert channel is None and verdict.reason == "unreachable"
    assert email_channel(Recipient("p", has_email=True, do_not_email=True))[0] is None

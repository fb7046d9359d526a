"""The payment webhook's signature check and payload (pure)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from plugins.dues.webhook import WebhookError, payment_of, signature_of, signature_ok

SECRET = b"s" * 32


def body(**changes: object) -> bytes:
    data = {"id": "pay_1", "reference": "12344", "amount": "450.00", "currency": "SEK",
            "paid_on": "2026-01-20", **changes}
    return json.dumps(data).encode()


def test_signature_is_over_the_raw_body() -> None:
    raw = body()
    assert signature_ok(SECRET, raw, signature_of(SECRET, raw))
    assert not signature_ok(SECRET, raw + b" ", signature_of(SECRET, raw))
    assert not signature_ok(b"t" * 32, raw, signature_of(SECRET, raw))
    assert not signature_ok(SECRET, raw, None)
    assert not signature_ok(SECRET, raw, "")


@pytest.mark.parametrize("header", ["sha256=\u00e9", "\u00e9", "\udcff", "sha256=" + "\u00e9" * 64])
def test_a_signature_that_is_not_ascii_is_refused_not_a_crash(header: str) -> None:
    assert not signature_ok(SECRET, body(), header)


def test_payment_keyed_by_provider_id() -> None:
    payment = payment_of(body())
    assert payment.key == "webhook-pay_1"
    assert (payment.amount, payment.currency, payment.paid_on, payment.references) == (
        Decimal("450.00"), "SEK", date(2026, 1, 20), ("12344",))


@pytest.mark.parametrize("raw", [
    b"not json", b"[]", body(id="../x"), body(id=""), body(reference=""),
    body(currency="kr"), body(amount="-1"), body(amount="1.234"), body(amount="NaN"),
    body(paid_on="yesterday"),
])
def test_bad_payloads(raw: bytes) -> None:
    with pytest.raises(WebhookError):
        payment_of(raw)

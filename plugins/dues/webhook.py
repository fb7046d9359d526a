"""A payment provider's webhook (pure): the signature check and the payment it reports.

The provider signs the raw request body with HMAC-SHA256 under the shared secret and sends
``X-Signature: sha256=<hex digest>``. The body is JSON::

    {"id": "pay_123", "reference": "12345678901234", "amount": "450.00",
     "currency": "SEK", "paid_on": "2026-01-20"}

``id`` is the provider's own payment id: the payment is recorded under ``webhook-<id>``, so a
delivery the provider repeats records nothing twice. The signature is checked (in constant
time) before the body is parsed; a missing or wrong one is refused and nothing is read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from .bankfile import BankPayment

SIGNATURE_HEADER = "x-signature"
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
SOURCE = "webhook"


class WebhookError(ValueError):
    """A body that is not a payment this webhook understands."""


def signature_of(secret: bytes, body: bytes) -> str:
    """The header value a provider sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret``."""
    if not header:
        return False
    # Bytes, not str: compare_digest refuses str with non-ASCII characters (a 500, not a 401).
    given = header.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(signature_of(secret, body).encode("ascii"), given)


def payment_of(body: bytes) -> BankPayment:
    """The payment a (signed) body reports; :class:`WebhookError` when it is not one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError("the body is not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookError("the body is not a JSON object")
    payment_id = data.get("id")
    reference = data.get("reference")
    currency = data.get("currency")
    if not isinstance(payment_id, str) or not _ID.match(payment_id):
        raise WebhookError("'id' is missing or not a payment id")
    if not isinstance(reference, str) or not 0 < len(reference) <= 35:
        raise WebhookError("'reference' is missing or too long")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise WebhookError("'currency' is not a currency code")
    try:
        amount = Decimal(str(data.get("amount")))
        paid_on = date.fromisoformat(str(data.get("paid_on")))
    except (InvalidOperation, ValueError) as exc:
        raise WebhookError("'amount' or 'paid_on' is not readable") from exc
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise WebhookError("'amount' must be positive with at most two decimals")
    return BankPayment(
        key=f"{SOURCE}-{payment_id}",
        amount=amount,
        currency=currency,
        paid_on=paid_on,
        references=(reference,),
        line=0,
    )

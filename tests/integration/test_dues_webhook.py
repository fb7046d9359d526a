"""The payment provider's webhook through the local Functions host: signed payments are
recorded once; a bad signature (401) or an oversized body (413) writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from dues_harness import SETTINGS, add_type, approve_registration
from selfservice_harness import BO_ID, SelfServiceEnv, selfservice_env
from sync_harness import SCHEMA, client_for

from plugins.dues.service import DuesRun
from plugins.dues.webhook import signature_of

SECRET = "webhook-secret-0123456789-abcdefghij"
INV, PAY = SCHEMA.invoice, SCHEMA.payment


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SelfServiceEnv]:
    with selfservice_env(
        tmp_path_factory.mktemp("webhook"), DUES__WEBHOOK_SECRET=SECRET,
        DUES__WEBHOOK_MAX_BYTES="1024",
    ) as running:
        with client_for(running.sandbox) as client:
            add_type(client)
            approve_registration(client, BO_ID, datetime(2026, 1, 10, 1, tzinfo=UTC))
            DuesRun(client, SCHEMA, SETTINGS, "Alumni").run(datetime(2026, 1, 10, 3, tzinfo=UTC))
        yield running


def post(env: SelfServiceEnv, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Signature"] = signature
    return requests.post(f"{env.host.base_url}/api/payments/webhook", data=body,
                         headers=headers, timeout=30)


def payload(reference: str, payment_id: str = "pay_1", amount: str = "450.00") -> bytes:
    return json.dumps({"id": payment_id, "reference": reference, "amount": amount,
                       "currency": "SEK", "paid_on": "2026-01-21"}).encode()


def test_signed_payment_is_recorded_once(env: SelfServiceEnv) -> None:
    reference = env.rows(INV.entity_set)[0][INV.reference]
    body = payload(reference)
    first = post(env, body, signature_of(SECRET.encode(), body))
    assert first.status_code == 200 and first.json() == {"outcome": "matched"}
    again = post(env, body, signature_of(SECRET.encode(), body))
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}
    assert len(env.rows(PAY.entity_set)) == 1
    assert env.rows(INV.entity_set)[0][INV.status] == INV.status_values["paid"]


@pytest.mark.parametrize("signature", [None, "sha256=00", "sha256=" + "0" * 64])
def test_bad_signature_gets_401_and_writes_nothing(env: SelfServiceEnv, signature: str) -> None:
    before = len(env.rows(PAY.entity_set))
    body = payload("12345678903", payment_id="pay_forged", amount="1.00")
    answer = post(env, body, signature)
    assert answer.status_code == 401
    assert len(env.rows(PAY.entity_set)) == before


def test_oversized_body_gets_413(env: SelfServiceEnv) -> None:
    body = payload("1" * 20) + b" " * 2048
    assert post(env, body, signature_of(SECRET.encode(), body)).status_code == 413


def test_signed_nonsense_gets_400(env: SelfServiceEnv) -> None:
    body = b'{"id": "x", "amount": "-5"}'
    assert post(env, body, signature_of(SECRET.encode(), body)).status_code == 400


def test_unknown_reference_goes_to_review(env: SelfServiceEnv) -> None:
    body = payload("99999999", payment_id="pay_unknown", amount="12.50")
    answer = post(env, body, signature_of(SECRET.encode(), body))
    assert answer.status_code == 200 and answer.json() == {"outcome": "unknown-reference"}
    [review] = env.rows(PAY.entity_set, f"{PAY.key} eq 'webhook-pay_unknown'")
    assert review[PAY.needs_review] is True and Decimal(str(review[PAY.amount])) == Decimal("12.5")

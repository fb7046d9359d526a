"""Reaching people without a deliverable e-mail address (pure: no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from plugins.registration.model import Category
from plugins.sync.data_check_report import confirmation_rates
from plugins.sync.outreach import address_request_channel, e164, request_period
from plugins.sync.policy import Channel, Recipient

NO_EMAIL = Recipient(
    person_id="p1",
    protected=False,
    channels=frozenset({Channel.SMS, Channel.POST}),
    consented=True,
    has_mobile=True,
    has_address=True,
)


def test_sms_first_then_a_letter_then_nobody() -> None:
    assert address_request_channel(NO_EMAIL) is Channel.SMS
    assert address_request_channel(replace(NO_EMAIL, do_not_phone=True)) is Channel.POST
    assert address_request_channel(replace(NO_EMAIL, has_mobile=False)) is Channel.POST
    only_sms = replace(NO_EMAIL, channels=frozenset({Channel.SMS}))
    assert address_request_channel(replace(only_sms, has_mobile=False)) is None
    protected = replace(NO_EMAIL, channels=frozenset({Channel.POST}), protected=True)
    assert address_request_channel(protected) is None
    assert address_request_channel(replace(NO_EMAIL, has_email=True)) is None
    assert address_request_channel(replace(NO_EMAIL, no_communication=True)) is None


def test_one_request_per_interval() -> None:
    first = request_period(date(2025, 6, 23), 90)
    assert request_period(date(2025, 6, 24), 90) == first
    days = [date(2025, 1, 1).toordinal() + n for n in range(400)]
    periods = {request_period(date.fromordinal(d), 90) for d in days}
    assert len(periods) in (5, 6)
    with pytest.raises(ValueError):
        request_period(date(2025, 6, 23), 0)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("070-123 45 67", "+46701234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("+47 900 12 345", "+4790012345"),
        ("(070) 123.45.67", "+46701234567"),
        ("12", None),
        ("", None),
        (None, None),
        ("+0 123", None),
    ],
)
def test_numbers_become_e164(typed: str | None, expected: str | None) -> None:
    assert e164(typed, "+46") == expected


def test_confirmation_rates_per_wave_and_category() -> None:
    member = frozenset({Category.ALUMNUS, Category.MEMBER})
    alumnus = frozenset({Category.ALUMNUS})
    rates = confirmation_rates([
        ("20250101", member, True), ("20250101", alumnus, False), ("20250101", alumnus, True),
        ("20250630", alumnus, False), ("20250630", frozenset(), True),
    ])
    assert [(r.wave, r.category, r.sent, r.confirmed) for r in rates] == [
        ("20250101", "Alumnus", 2, 1), ("20250101", "Member", 1, 1),
        ("20250630", "Alumnus", 1, 0), ("20250630", "Other", 1, 1),
    ]
    assert rates[0].rate == 0.5

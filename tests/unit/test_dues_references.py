"""Payment references: every scheme's check digits, and what banks refuse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.dues.references import (
    ReferenceError,
    ReferenceScheme,
    make_reference,
    reference_base,
    valid_reference,
)


@pytest.mark.parametrize(
    ("base", "scheme", "expected"),
    [
        # Luhn: 1234 -> 4 (the Bankgirot OCR check digit, and KID MOD10).
        ("1234", ReferenceScheme.SE_OCR, "12344"),
        ("1234", ReferenceScheme.NO_KID_MOD10, "12344"),
        # Length digit: 4 digits + length + check = 6 characters -> "6", then Luhn.
        ("1234", ReferenceScheme.SE_OCR_LENGTH, "123463"),
        # MOD11, weights 2..7 from the right: 4*2+3*3+2*4+1*5 = 30, 11 - 30 % 11 = 3.
        ("1234", ReferenceScheme.NO_KID_MOD11, "12343"),
        # Finnish 7-3-1: 4*7+3*3+2*1+1*7 = 46 -> 4.
        ("1234", ReferenceScheme.FI, "12344"),
        # 1*7+6*3+5*1+4*7+3*3+2*1+1*7 = 76 -> 4.
        ("1234561", ReferenceScheme.FI, "12345614"),
    ],
)
def test_check_digits(base: str, scheme: ReferenceScheme, expected: str) -> None:
    assert make_reference(base, scheme) == expected
    assert valid_reference(expected, scheme)


def test_mod11_remainder_ten_is_a_dash_and_eleven_a_zero() -> None:
    # 6*2 = 12, 12 % 11 = 1, 11 - 1 = 10 -> "-", which banks refuse: the product issues the
    # next base instead (7*2 = 14, 11 - 3 = 8), but still reads a "-" it is given.
    # 0 -> 11 - 0 = 11 -> "0".
    assert make_reference("6", ReferenceScheme.NO_KID_MOD11) == "78"
    assert valid_reference("6-", ReferenceScheme.NO_KID_MOD11)
    assert make_reference("0", ReferenceScheme.NO_KID_MOD11) == "00"


@pytest.mark.parametrize("scheme", list(ReferenceScheme))
def test_one_wrong_digit_is_caught(scheme: ReferenceScheme) -> None:
    reference = make_reference("40012345", scheme)
    wrong = reference[:2] + str((int(reference[2]) + 1) % 10) + reference[3:]
    assert not valid_reference(wrong, scheme)


def test_length_digit_is_checked() -> None:
    assert valid_reference("123463", ReferenceScheme.SE_OCR_LENGTH)
    assert not valid_reference("12344", ReferenceScheme.SE_OCR_LENGTH)


def test_bad_bases_and_lengths() -> None:
    with pytest.raises(ReferenceError):
        make_reference("12a4", ReferenceScheme.SE_OCR)
    with pytest.raises(ReferenceError):
        make_reference("1" * 20, ReferenceScheme.FI)
    assert not valid_reference("", ReferenceScheme.SE_OCR)
    assert not valid_reference("١٢٣٤٤", ReferenceScheme.SE_OCR)


@given(st.text(min_size=1, max_size=60), st.sampled_from(list(ReferenceScheme)))
def test_every_invoice_key_gives_a_valid_reference(key: str, scheme: ReferenceScheme) -> None:
    base = reference_base(key)
    assert len(base) == 14 and base[0] != "0" and base == reference_base(key)
    assert valid_reference(make_reference(base, scheme), scheme)


def test_a_kid_never_needs_a_dash_as_its_mod11_check_digit() -> None:
    bases = [str(10**13 + n) for n in range(200)]
    kids = [make_reference(base, ReferenceScheme.NO_KID_MOD11) for base in bases]
    assert all(kid.isdigit() for kid in kids)
    assert all(valid_reference(kid, ReferenceScheme.NO_KID_MOD11) for kid in kids)

"""Identity numbers of the four countries: canonical keys, birth dates and rejection reasons."""

from __future__ import annotations

from datetime import date

import pytest

from plugins.identity import Country, IdKind, InvalidReason, parse_national_id

TODAY = date(2025, 6, 1)


def valid(value: str, country: str):
    result = parse_national_id(value, country, today=TODAY)
    assert result.valid, result
    return result


def reason(value: str | None, country: str) -> InvalidReason:
    result = parse_national_id(value, country, today=TODAY)
    assert not result.valid, result
    return result.reason


# ------------------------------------------------------------------ Sweden


@pytest.mark.parametrize(
    "value",
    ["811228-9874", "8112289874", "19811228-9874", "198112289874", " 811228 9874 ", "811228:9874"],
)
def test_swedish_forms_share_one_twelve_digit_key(value: str) -> None:
    result = valid(value, "SE")
    assert result.canonical == "198112289874"
    assert result.kind is IdKind.PERSONNUMMER
    assert result.birth_date == date(1981, 12, 28)
    assert result.sex == "male"


def test_swedish_serial_gives_sex() -> None:
    assert valid("890102-3286", "SE").sex == "female"


@pytest.mark.parametrize("value", ["701063-2391", "7010632391", "19701063-2391", "197010632391"])
def test_samordningsnummer_day_plus_sixty(value: str) -> None:
    result = valid(value, "SE")
    assert result.kind is IdKind.SAMORDNINGSNUMMER
    assert result.canonical == "197010632391"
    assert result.birth_date == date(1970, 10, 3)


def test_plus_separator_means_a_hundred_years_earlier() -> None:
    assert valid("121212+1212", "SE").canonical == "191212121212"
    assert valid("121212-1212", "SE").canonical == "201212121212"


def test_twelve_digits_carry_the_century_whatever_the_separator() -> None:
    assert valid("19121212+1212", "SE").canonical == "191212121212"


def test_ten_digit_century_is_the_latest_year_not_after_today() -> None:
    assert valid("0505051235", "SE").canonical == "200505051235"
    later = parse_national_id("0505051235", "SE", today=date(2004, 1, 1))
    assert later.valid and later.canonical == "190505051235"


def test_leap_day_depends_on_the_inferred_century() -> None:
    assert valid("000229-1235", "SE").birth_date == date(2000, 2, 29)
    assert reason("000229+1235", "SE") is InvalidReason.IMPOSSIBLE_DATE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("811228-9875", InvalidReason.BAD_CHECKSUM),
        ("811328-9874", InvalidReason.IMPOSSIBLE_DATE),
        ("701093-2395", InvalidReason.IMPOSSIBLE_DATE),
        ("2507011233", InvalidReason.IMPOSSIBLE_DATE),
        ("81122898", InvalidReason.WRONG_LENGTH),
        ("1981122898740", InvalidReason.WRONG_LENGTH),
        ("811228/9874", InvalidReason.UNKNOWN_FORMAT),
        ("1981-12-28-9874", InvalidReason.UNKNOWN_FORMAT),
        ("960105-T000", InvalidReason.INTERIM_NUMBER),
        ("19960105T00A", InvalidReason.INTERIM_NUMBER),
        ("", InvalidReason.EMPTY),
        ("   ", InvalidReason.EMPTY),
        (None, InvalidReason.EMPTY),
    ],
)
def test_swedish_rejections_name_the_reason(value: str | None, expected: InvalidReason) -> None:
    assert reason(value, "SE") is expected


def test_rejection_detail_never_repeats_the_number() -> None:
    result = parse_national_id("811228-9875", "SE", today=TODAY)
    assert "9875" not in result.detail and "811228" not in result.detail


# ------------------------------------------------------------------ Norway


def test_norwegian_fodselsnummer() -> None:
    result = valid("09052400284", "NO")
    assert result.kind is IdKind.FODSELSNUMMER
    assert result.canonical == "09052400284"
    assert result.birth_date == date(1924, 5, 9)
    assert result.sex == "female"


def test_norwegian_number_with_space() -> None:
    assert valid("010180 36742", "NO").canonical == "01018036742"


def test_d_number_day_plus_forty() -> None:
    result = valid("41018036736", "NO")
    assert result.kind is IdKind.D_NUMBER
    assert result.birth_date == date(1980, 1, 1)


def test_h_number_month_plus_forty() -> None:
    result = valid("01508012302", "NO")
    assert result.kind is IdKind.H_NUMBER
    assert result.birth_date == date(1980, 10, 1)


def test_individual_number_range_gives_the_2000s() -> None:
    assert valid("15050551242", "NO").birth_date == date(2005, 5, 15)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("09052400285", InvalidReason.BAD_CHECKSUM),
        ("09052400294", InvalidReason.BAD_CHECKSUM),
        ("81018012359", InvalidReason.UNSUPPORTED_KIND),
        ("01018575570", InvalidReason.INVALID_SERIAL),
        ("29020012380", InvalidReason.IMPOSSIBLE_DATE),
        ("01013051255", InvalidReason.IMPOSSIBLE_DATE),
        ("0905240028", InvalidReason.WRONG_LENGTH),
        ("0905240028X", InvalidReason.UNKNOWN_FORMAT),
    ],
)
def test_norwegian_rejections(value: str, expected: InvalidReason) -> None:
    assert reason(value, "NO") is expected


# ------------------------------------------------------------------ Finland


@pytest.mark.parametrize(
    ("value", "born"),
    [
        ("131052-308T", date(1952, 10, 13)),
        ("131052Y308T", date(1952, 10, 13)),
        ("131052U308T", date(1952, 10, 13)),
        ("010101A123N", date(2001, 1, 1)),
        ("010101F123N", date(2001, 1, 1)),
        ("010150+3089", date(1850, 1, 1)),
        ("290200A1239", date(2000, 2, 29)),
    ],
)
def test_hetu_century_signs_including_the_2023_ones(value: str, born: date) -> None:
    result = valid(value, "FI")
    assert result.kind is IdKind.HETU
    assert result.birth_date == born
    assert result.canonical == value


def test_hetu_is_upper_cased_and_the_century_sign_kept() -> None:
    assert valid(" 131052y308t ", "FI").canonical == "131052Y308T"
    assert valid("131052-308T", "FI").canonical != valid("131052Y308T", "FI").canonical


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("131052-308U", InvalidReason.BAD_CHECKSUM),
        ("290200-1239", InvalidReason.IMPOSSIBLE_DATE),
        ("311352-308T", InvalidReason.IMPOSSIBLE_DATE),
        ("010130A123N", InvalidReason.IMPOSSIBLE_DATE),
        ("131052-000V", InvalidReason.INVALID_SERIAL),
        ("131052-901X", InvalidReason.UNSUPPORTED_KIND),
        ("131052G308T", InvalidReason.UNKNOWN_FORMAT),
        ("131052-308", InvalidReason.WRONG_LENGTH),
    ],
)
def test_hetu_rejections(value: str, expected: InvalidReason) -> None:
    assert reason(value, "FI") is expected


# ------------------------------------------------------------------ Denmark


@pytest.mark.parametrize("value", ["0101901234", "010190-1234"])
def test_cpr_without_modulus_eleven(value: str) -> None:
    result = valid(value, "DK")
    assert result.kind is IdKind.CPR
    assert result.canonical == "0101901234"
    assert result.birth_date == date(1990, 1, 1)


def test_cpr_seventh_digit_gives_the_century() -> None:
    assert valid("0101054000", "DK").birth_date == date(2005, 1, 1)
    assert valid("0101604000", "DK").birth_date == date(1960, 1, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3102901234", InvalidReason.IMPOSSIBLE_DATE),
        ("0101304000", InvalidReason.IMPOSSIBLE_DATE),
        ("010190123", InvalidReason.WRONG_LENGTH),
        ("01019O1234", InvalidReason.UNKNOWN_FORMAT),
    ],
)
def test_cpr_rejections(value: str, expected: InvalidReason) -> None:
    assert reason(value, "DK") is expected


# ------------------------------------------------------------------ any country


def test_unsupported_country_is_a_result_not_an_exception() -> None:
    result = parse_national_id("123", "XX", today=TODAY)
    assert not result.valid
    assert result.country is None
    assert result.reason is InvalidReason.UNKNOWN_FORMAT


def test_country_enum_and_code_are_interchangeable() -> None:
    expected = valid("811228-9874", "SE")
    assert parse_national_id("811228-9874", Country.SE, today=TODAY) == expected
    assert parse_national_id("811228-9874", "se", today=TODAY) == expected


def test_today_defaults_to_the_current_date() -> None:
    assert parse_national_id("811228-9874", "SE").valid

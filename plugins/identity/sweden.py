"""Swedish personnummer and samordningsnummer (pure).

Rules (Skatteverket, see the registries reference §9.1): ``YYMMDD`` + 3-digit serial (odd =
male) + a Luhn check digit over those 9 digits. The separator is ``-``, and ``+`` from the
calendar year the person turns 100; a 12-digit form carries the century and needs no
separator. A samordningsnummer adds 60 to the day. The canonical key is the 12-digit form.

``stdnum.se.personnummer`` is not used for the whole job: it infers the century from the
machine's clock rather than a given "today" and rejects every samordningsnummer (it checks
day 63 as a calendar date). Its Luhn implementation is reused.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import luhn

from .model import Country, IdKind, IdResult, InvalidReason, NationalId, invalid

_NUMBER = re.compile(r"(?P<century>\d{2})?(?P<date>\d{6})(?P<sep>[-+]?)(?P<tail>\d{4})")
# Ladok's interim ("alias") numbers keep the date but put a letter in the last four.
_INTERIM = re.compile(r"(\d{2})?\d{6}[-+]?(?=[0-9A-Z]{4}$)[0-9]*[A-Z][0-9A-Z]*")
_IGNORED = re.compile(r"[\s:]")
_SAMORDNING_OFFSET = 60


def parse_swedish(value: str, today: date) -> IdResult:
    """Parse a personnummer or samordningsnummer, 10 or 12 digits, with or without separator."""
    text = _IGNORED.sub("", value).upper()
    if not text:
        return invalid(Country.SE, InvalidReason.EMPTY, "no number given")
    if _INTERIM.fullmatch(text):
        return invalid(
            Country.SE,
            InvalidReason.INTERIM_NUMBER,
            "interim number with a letter in the serial part; needs manual review",
        )
    match = _NUMBER.fullmatch(text)
    if match is None:
        digits = re.sub(r"[-+]", "", text)
        if digits.isascii() and digits.isdigit() and len(digits) not in (10, 12):
            return invalid(Country.SE, InvalidReason.WRONG_LENGTH, "expected 10 or 12 digits")
        return invalid(Country.SE, InvalidReason.UNKNOWN_FORMAT, "not a Swedish identity number")

    short = match["date"] + match["tail"]
    year = _full_year(match["century"], short[:2], match["sep"] == "+", today)
    month, day = int(short[2:4]), int(short[4:6])
    kind = IdKind.PERSONNUMMER
    if day > _SAMORDNING_OFFSET:
        kind = IdKind.SAMORDNINGSNUMMER
        day -= _SAMORDNING_OFFSET
    try:
        birth_date = date(year, month, day)
    except ValueError:
        return invalid(Country.SE, InvalidReason.IMPOSSIBLE_DATE, "no such birth date")
    if birth_date > today:
        return invalid(Country.SE, InvalidReason.IMPOSSIBLE_DATE, "birth date in the future")
    if not luhn.is_valid(short):
        return invalid(Country.SE, InvalidReason.BAD_CHECKSUM, "Luhn check digit does not match")
    return NationalId(
        country=Country.SE,
        kind=kind,
        canonical=f"{year // 100:02d}{short}",
        birth_date=birth_date,
        sex="male" if int(short[8]) % 2 else "female",
    )


def _full_year(century: str | None, yy: str, plus: bool, today: date) -> int:
    """The 4-digit birth year: explicit, or the latest year not after today's (minus 100 for +)."""
    if century is not None:
        return int(century + yy)
    year = today.year - (today.year - int(yy)) % 100
    return year - 100 if plus else year

"""Norwegian fødselsnummer, D-number and H-number (pure).

11 digits: ``DDMMYY`` + 3-digit individual number + two mod-11 check digits. A D-number adds
40 to the day, an H-number (health-sector help number) 40 to the month. The century follows
from the individual-number range; FH-numbers (first digit 8 or 9) carry no birth date and
are not accepted. The check digits come from ``stdnum.no.fodselsnummer``; its birth-date
function is not used because it reports "impossible date" and "no century" alike and checks
the future against the machine's clock rather than a given "today".

Numbers of the 2032 scheme (four possible first check digits, century no longer encoded) are
rejected with a bad checksum, as python-stdnum 2.2 does: none are issued before 2032.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.no import fodselsnummer

from .model import Country, IdKind, IdResult, InvalidReason, NationalId, invalid

_IGNORED = re.compile(r"[\s\-:]")
_OFFSET = 40


def parse_norwegian(value: str, today: date) -> IdResult:
    """Parse a fødselsnummer, D-number or H-number (11 digits, spaces allowed)."""
    text = _IGNORED.sub("", value)
    if not text:
        return invalid(Country.NO, InvalidReason.EMPTY, "no number given")
    if not (text.isascii() and text.isdigit()):
        return invalid(Country.NO, InvalidReason.UNKNOWN_FORMAT, "not a Norwegian identity number")
    if len(text) != 11:
        return invalid(Country.NO, InvalidReason.WRONG_LENGTH, "expected 11 digits")
    if (
        fodselsnummer.calc_check_digit1(text) != text[9]
        or fodselsnummer.calc_check_digit2(text) != text[10]
    ):
        return invalid(Country.NO, InvalidReason.BAD_CHECKSUM, "mod-11 check digits do not match")

    day, month, yy, individual = int(text[0:2]), int(text[2:4]), int(text[4:6]), int(text[6:9])
    kind = IdKind.FODSELSNUMMER
    if day >= 80:
        return invalid(
            Country.NO, InvalidReason.UNSUPPORTED_KIND, "FH-number: carries no birth date"
        )
    if day > _OFFSET:
        kind, day = IdKind.D_NUMBER, day - _OFFSET
    if month > _OFFSET:
        kind, month = IdKind.H_NUMBER, month - _OFFSET
    century = _century(individual, yy)
    if century is None:
        return invalid(
            Country.NO, InvalidReason.INVALID_SERIAL, "individual number gives no century"
        )
    try:
        birth_date = date(century + yy, month, day)
    except ValueError:
        return invalid(Country.NO, InvalidReason.IMPOSSIBLE_DATE, "no such birth date")
    if birth_date > today:
        return invalid(Country.NO, InvalidReason.IMPOSSIBLE_DATE, "birth date in the future")
    return NationalId(
        country=Country.NO,
        kind=kind,
        canonical=text,
        birth_date=birth_date,
        sex="male" if fodselsnummer.get_gender(text) == "M" else "female",
    )


def _century(individual: int, yy: int) -> int | None:
    """The century the individual-number range assigns (Skatteetaten's table)."""
    if individual < 500:
        return 1900
    if individual < 750 and yy >= 54:
        return 1800
    if yy < 40:
        return 2000
    if individual >= 900:
        return 1900
    return None

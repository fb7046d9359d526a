"""Danish CPR number (pure).

10 digits: ``DDMMYY`` + 4-digit serial whose first digit, with the year, gives the century.
No check digit is enforced: the modulus-11 rule was abandoned in 2007 (numbers ran out, and
immigrants get numbers with old birth dates), so a number is valid when its date is. The
century rule is ``stdnum.dk.cpr``'s; the future is judged against the given "today".
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.dk import cpr
from stdnum.exceptions import ValidationError

from .model import Country, IdKind, IdResult, InvalidReason, NationalId, invalid

_IGNORED = re.compile(r"[\s\-]")


def parse_danish(value: str, today: date) -> IdResult:
    """Parse a CPR number (10 digits, optionally ``DDMMYY-SSSS``)."""
    text = _IGNORED.sub("", value)
    if not text:
        return invalid(Country.DK, InvalidReason.EMPTY, "no number given")
    if not (text.isascii() and text.isdigit()):
        return invalid(Country.DK, InvalidReason.UNKNOWN_FORMAT, "not a Danish CPR number")
    if len(text) != 10:
        return invalid(Country.DK, InvalidReason.WRONG_LENGTH, "expected 10 digits")
    try:
        birth_date = cpr.get_birth_date(text)
    except ValidationError:
        return invalid(Country.DK, InvalidReason.IMPOSSIBLE_DATE, "no such birth date")
    if birth_date > today:
        return invalid(Country.DK, InvalidReason.IMPOSSIBLE_DATE, "birth date in the future")
    return NationalId(country=Country.DK, kind=IdKind.CPR, canonical=text, birth_date=birth_date)

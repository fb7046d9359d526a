"""Finnish personal identity code, HETU (pure).

``DDMMYY`` + century sign + 3-digit individual number + a mod-31 check character. Century
signs: ``+`` 1800s; ``-`` and, from 2023, ``Y X W V U`` 1900s; ``A`` and, from 2023,
``B C D E F`` 2000s. Individual numbers 000-001 are never issued and 900-999 are temporary
identifiers (not population-register identities), so both are rejected. The canonical key is
the code in upper case: the century sign is part of the number, so ``-`` and ``Y`` with the
same digits are two different people. ``stdnum.fi.hetu`` gives the final verdict on the
check character.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fi import hetu

from .model import Country, IdKind, IdResult, InvalidReason, NationalId, invalid

_CENTURIES = {"+": 1800} | dict.fromkeys("-YXWVU", 1900) | dict.fromkeys("ABCDEF", 2000)
_HETU = re.compile(
    r"(?P<day>\d{2})(?P<month>\d{2})(?P<yy>\d{2})(?P<sign>[-+A-FU-Y])"
    r"(?P<individual>\d{3})[0-9A-FHJ-NPR-Y]"
)
_TEMPORARY = range(900, 1000)


def parse_finnish(value: str, today: date) -> IdResult:
    """Parse a HETU with any of the century signs in use since 2023."""
    text = re.sub(r"\s", "", value).upper()
    if not text:
        return invalid(Country.FI, InvalidReason.EMPTY, "no number given")
    match = _HETU.fullmatch(text)
    if match is None:
        if len(text) != 11:
            return invalid(Country.FI, InvalidReason.WRONG_LENGTH, "expected 11 characters")
        return invalid(Country.FI, InvalidReason.UNKNOWN_FORMAT, "not a Finnish HETU")
    try:
        birth_date = date(
            _CENTURIES[match["sign"]] + int(match["yy"]), int(match["month"]), int(match["day"])
        )
    except ValueError:
        return invalid(Country.FI, InvalidReason.IMPOSSIBLE_DATE, "no such birth date")
    if birth_date > today:
        return invalid(Country.FI, InvalidReason.IMPOSSIBLE_DATE, "birth date in the future")
    individual = int(match["individual"])
    if individual < 2:
        return invalid(Country.FI, InvalidReason.INVALID_SERIAL, "individual number never issued")
    if individual in _TEMPORARY:
        return invalid(Country.FI, InvalidReason.UNSUPPORTED_KIND, "temporary identifier (900-999)")
    try:
        hetu.validate(text)
    except InvalidChecksum:
        return invalid(Country.FI, InvalidReason.BAD_CHECKSUM, "check character does not match")
    except ValidationError:
        return invalid(Country.FI, InvalidReason.UNKNOWN_FORMAT, "not a Finnish HETU")
    return NationalId(country=Country.FI, kind=IdKind.HETU, canonical=text, birth_date=birth_date)

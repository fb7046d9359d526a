"""What parsing a national identity number yields: the number, or why it is not one (pure).

A parser never raises for bad input. It returns either a :class:`NationalId` (valid, with
its canonical key, birth date and kind) or an :class:`InvalidNationalId` naming the reason,
so callers branch on ``result.valid``. Neither carries the raw input, so both are safe to log.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Country(StrEnum):
    """The countries whose identity numbers the product understands (ISO 3166 alpha-2)."""

    SE = "SE"
    NO = "NO"
    FI = "FI"
    DK = "DK"


class IdKind(StrEnum):
    """Which kind of number within its country."""

    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"
    FODSELSNUMMER = "fodselsnummer"
    D_NUMBER = "d-number"
    H_NUMBER = "h-number"
    HETU = "hetu"
    CPR = "cpr"


class InvalidReason(StrEnum):
    """Why a value is not a valid identity number."""

    EMPTY = "empty"
    UNKNOWN_FORMAT = "unknown-format"
    WRONG_LENGTH = "wrong-length"
    BAD_CHECKSUM = "bad-checksum"
    IMPOSSIBLE_DATE = "impossible-date"
    INVALID_SERIAL = "invalid-serial"
    UNSUPPORTED_KIND = "unsupported-kind"
    INTERIM_NUMBER = "interim-number"


Sex = Literal["female", "male"]


class NationalId(BaseModel):
    """A valid identity number in its canonical form.

    ``canonical`` is the one key per person used for matching and as the Dataverse alternate
    key: Sweden 12 digits (century included), Norway 11 digits, Finland the 11-character HETU
    in upper case (its century sign is part of the number), Denmark 10 digits. The forms
    cannot collide across countries: only Sweden has 12 characters, only Finland has a
    non-digit, and Norway (11) and Denmark (10) differ in length.
    """

    model_config = ConfigDict(frozen=True)

    valid: Literal[True] = True
    country: Country
    kind: IdKind
    canonical: str
    birth_date: date
    sex: Sex | None = None


class InvalidNationalId(BaseModel):
    """A value that is not a valid identity number of ``country``, and why.

    ``country`` is None when the country asked for is not one the product supports.
    """

    model_config = ConfigDict(frozen=True)

    valid: Literal[False] = False
    country: Country | None
    reason: InvalidReason
    detail: str


IdResult = NationalId | InvalidNationalId


def invalid(country: Country | None, reason: InvalidReason, detail: str) -> InvalidNationalId:
    """Shorthand the country parsers use for a rejection."""
    return InvalidNationalId(country=country, reason=reason, detail=detail)

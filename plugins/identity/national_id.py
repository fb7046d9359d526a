"""One entry point for parsing an identity number of any supported country (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from .denmark import parse_danish
from .finland import parse_finnish
from .model import Country, IdResult, InvalidReason, invalid
from .norway import parse_norwegian
from .sweden import parse_swedish

_PARSERS: dict[Country, Callable[[str, date], IdResult]] = {
    Country.SE: parse_swedish,
    Country.NO: parse_norwegian,
    Country.FI: parse_finnish,
    Country.DK: parse_danish,
}


def parse_national_id(
    value: str | None, country: Country | str, *, today: date | None = None
) -> IdResult:
    """Validate and normalise ``value`` as an identity number of ``country``.

    ``today`` decides the century of a 10-digit Swedish number and which birth dates lie in
    the future; it defaults to the current date. Never raises for bad input: an invalid or
    missing value gives an :class:`~plugins.identity.model.InvalidNationalId` with the reason.
    """
    code = str(country).upper()
    if code not in _PARSERS:
        return invalid(None, InvalidReason.UNKNOWN_FORMAT, "unsupported country")
    if value is None:
        return invalid(Country(code), InvalidReason.EMPTY, "no number given")
    return _PARSERS[Country(code)](value, today or date.today())

"""Small readers for the values registries send (dates, decimals, multilingual names)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any


def text_or_none(value: Any) -> str | None:
    """A stripped string, or None for a missing or blank value."""
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def date_or_none(value: Any) -> date | None:
    """An ISO date, also from a timestamp (``2019-06-05T09:33:23+02:00`` -> 2019-06-05)."""
    stripped = text_or_none(value)
    return date.fromisoformat(stripped[:10]) if stripped else None


def decimal_or_none(value: Any) -> Decimal | None:
    """A decimal number; accepts a decimal comma (``"7,5"``), as Swedish systems write it."""
    stripped = text_or_none(value)
    if stripped is None:
        return None
    try:
        return Decimal(stripped.replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {stripped!r}") from exc


def name_in(names: Any, *languages: str) -> str | None:
    """The first present of ``languages`` in a ``{"sv": ..., "en": ...}`` map."""
    if not isinstance(names, dict):
        return None
    for language in languages:
        found = text_or_none(names.get(language))
        if found:
            return found
    return None

"""Value kinds: how stored values of each kind compare, and their Edm type names.

Stored values follow the store's conventions (``"2024-05-01T10:00:00Z"`` datetimes,
``"2024-05-01"`` dates, ``"1,2"`` multi-select choices). Comparisons follow SQL Server's
default collation: strings and GUIDs compare case-insensitively.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

EDM_TYPE = {
    "string": "Edm.String",
    "multichoice": "Edm.String",
    "integer": "Edm.Int32",
    "decimal": "Edm.Decimal",
    "boolean": "Edm.Boolean",
    "guid": "Edm.Guid",
    "datetime": "Edm.DateTimeOffset",
    "date": "Edm.Date",
    "null": "null",
}

NUMERIC = ("integer", "decimal")
DATES = ("datetime", "date")


def parse_multichoice(text: str) -> frozenset[int]:
    """``"1, 9"`` -> ``{1, 9}``; raises ValueError for anything else."""
    return frozenset(int(part) for part in text.split(",") if part.strip())


def _casefold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _choices(value: Any) -> frozenset[int]:
    return parse_multichoice(value) if isinstance(value, str) else frozenset()


_NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "string": _casefold,
    "guid": _lower,
    "multichoice": _choices,
}


def normalizer(kind: str) -> Callable[[Any], Any] | None:
    """The function that makes stored values of ``kind`` comparable; None = as stored."""
    return _NORMALIZERS.get(kind)


def normalize_datetime(text: str) -> str:
    """An ISO-8601 datetime (any offset, or none = UTC) as the store writes it, in UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_date(text: str) -> str:
    """A ``YYYY-MM-DD`` date, validated."""
    return datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")

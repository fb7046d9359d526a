"""Degree rows and registry degrees, one into the other (pure).

A row is keyed by the register and its own id of the certificate (``ladok:<UtfardatBevisUID>``),
so recording the same certificate again changes the row instead of adding one. A removed
certificate keeps its row, marked ``removed``, and is no fact for the alumni rule.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from plugins.core.schema_map import DegreeMap
from plugins.registries.models import Degree

_TITLE_LENGTH = 200


def degree_key(source: str, certificate_id: str) -> str:
    """The alternate-key value of a certificate's row."""
    return f"{source}:{certificate_id}"


def degree_of(row: dict[str, Any], columns: DegreeMap) -> Degree:
    """A recorded row as the registry-neutral degree the alumni rule reads."""
    title = row.get(columns.title_sv) or row.get(columns.title_en) or row.get(columns.name)
    credits = row.get(columns.credits)
    issued = row.get(columns.issued_on)
    completed = row.get(columns.completed_on)
    return Degree(
        title=str(title or row.get(columns.code) or "degree"),
        title_en=row.get(columns.title_en),
        code=row.get(columns.code),
        key=str(row[columns.key]).split(":", 1)[-1] if row.get(columns.key) else None,
        awarded_on=str(issued)[:10] if issued else None,
        completed_on=str(completed)[:10] if completed else None,
        programme=row.get(columns.programme),
        national_type=row.get(columns.national_type),
        credits=Decimal(str(credits)) if credits is not None else None,
        institution=row.get(columns.institution),
    )


def degree_values(degree: Degree, columns: DegreeMap) -> dict[str, Any]:
    """The columns a degree fills (key, person and register are the caller's)."""
    return {
        columns.name: degree.title[:_TITLE_LENGTH],
        columns.title_sv: degree.title[:_TITLE_LENGTH],
        columns.title_en: degree.title_en[:_TITLE_LENGTH] if degree.title_en else None,
        columns.code: degree.code,
        columns.national_type: degree.national_type,
        columns.programme: degree.programme,
        columns.credits: degree.credits,
        columns.issued_on: degree.awarded_on,
        columns.completed_on: degree.completed_on,
        columns.institution: degree.institution,
        columns.removed: False,
    }


def read_columns(columns: DegreeMap) -> tuple[str, ...]:
    """The columns :func:`degree_of` reads."""
    return (
        columns.name, columns.key, columns.title_sv, columns.title_en, columns.code,
        columns.national_type, columns.programme, columns.credits, columns.issued_on,
        columns.completed_on, columns.institution,
    )

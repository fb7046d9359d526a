"""Study information on the person, from the student register's facts (pure).

On the contact: the programmes studied (code and name, one line), the first and the last
year of study (from programme and course periods, and the year a degree was issued), the
passed credits and the student register's id of the person. Each degree goes to the degree
table, keyed like the degree feed keys it (``ladok:<certificate>``), so a degree the feed
recorded for the student before the person existed is linked to them, not added twice.
These columns are the register's facts; nothing the person told us (name, e-mail,
telephone, address) is among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from plugins.core.schema_map import ContactMap, DegreeMap
from plugins.degrees.records import degree_key, degree_values
from plugins.registries.models import RegistryPerson

_PROGRAMMES_LENGTH = 2000


def study_columns(student: RegistryPerson | None, c: ContactMap) -> dict[str, Any]:
    """The contact's study columns from the student register's view of the person (only
    those the register gave a value for)."""
    if student is None or student.study is None:
        return {}
    study = student.study
    programmes = "; ".join(
        " ".join(part for part in (p.code, p.name) if part) for p in study.programmes
    )
    starts = [d for d in _dates(student, "start") if d is not None]
    ends = [d for d in _dates(student, "end") if d is not None]
    values: dict[str, Any] = {
        c.student_ref: student.registry_ref,
        c.study_programmes: programmes[:_PROGRAMMES_LENGTH] or None,
        c.first_study_year: min(starts).year if starts else None,
        c.last_study_year: max(ends).year if ends else None,
        c.study_credits: study.credits,
    }
    return {column: value for column, value in values.items() if value is not None}


def degree_rows(student: RegistryPerson | None, d: DegreeMap) -> list[tuple[str, dict[str, Any]]]:
    """The degree-table rows (key, columns) of the student's degrees; the person link is the
    caller's."""
    if student is None or student.study is None or student.registry_ref is None:
        return []
    source = student.source.value
    rows = []
    for degree in student.study.degrees:
        certificate = degree.key or f"{student.registry_ref}/{degree.code}/{degree.awarded_on}"
        values = degree_values(degree, d)
        values.update({d.source: source, d.student_ref: student.registry_ref})
        rows.append((degree_key(source, certificate), values))
    return rows


def _dates(student: RegistryPerson, which: str) -> Iterator[date | None]:
    study = student.study
    if study is None:
        return
    for period in (*study.programmes, *study.enrolments):
        yield getattr(period, which)
    if which == "end":
        yield from (degree.awarded_on for degree in study.degrees)

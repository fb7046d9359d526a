"""What a run of degree events changes in the degree table (pure).

Events are folded per certificate in feed order, so a certificate issued and then removed in
the same run is written once, removed; a corrected or changed certificate replaces what was
recorded; a moved one keeps its record and belongs to the new student identity (Ladok says
both identities are the same person, so the link to the person stays). The rows are keyed by
register and certificate, which makes writing the same run twice change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from plugins.core.schema_map import DegreeMap
from plugins.dataverse import odata
from plugins.degrees.records import degree_key, degree_values
from plugins.registries.degree_events import (
    DegreeEvent,
    DegreeEventKind,
    DegreeTitle,
)
from plugins.registries.models import Degree

_FULL = (DegreeEventKind.ISSUED, DegreeEventKind.CORRECTED, DegreeEventKind.CHANGED)


@dataclass(frozen=True)
class CertificateChange:
    """The state of one certificate after the run's events (``removed`` None: this run
    did not say)."""

    certificate: str
    student: str | None
    record: DegreeEvent | None
    removed: bool | None


def fold(events: Iterable[DegreeEvent]) -> list[CertificateChange]:
    """One change per certificate, in the order the certificates first appeared."""
    changes: dict[str, CertificateChange] = {}
    for event in events:
        before = changes.get(event.certificate)
        if event.kind in _FULL:
            changes[event.certificate] = CertificateChange(
                event.certificate, event.student, event, removed=False
            )
        elif event.kind is DegreeEventKind.REMOVED:
            changes[event.certificate] = CertificateChange(
                event.certificate,
                event.student or (before.student if before else None),
                before.record if before else None,
                removed=True,
            )
        else:
            changes[event.certificate] = CertificateChange(
                event.certificate,
                event.student,
                before.record if before else None,
                removed=before.removed if before else None,
            )
    return list(changes.values())


def degree_of_event(event: DegreeEvent, title: DegreeTitle | None) -> Degree:
    """The degree a full event records, with its title from the reference data."""
    title = title or DegreeTitle()
    return Degree(
        title=title.sv or title.en or title.code or "degree",
        title_en=title.en,
        code=title.code,
        key=event.certificate,
        national_type=event.national_type,
        awarded_on=event.issued_on,
        completed_on=event.completed_on,
        credits=event.credits,
        institution=event.institution,
    )


def degree_row(
    change: CertificateChange,
    source: str,
    titles: Mapping[str, DegreeTitle],
    columns: DegreeMap,
    contacts: str,
    person_id: str | None,
) -> tuple[str, dict[str, Any]]:
    """The key and columns to upsert for one change (``contacts``: the contacts' entity
    set, for the person link)."""
    values: dict[str, Any] = {columns.source: source}
    if change.record is not None:
        title = titles.get(change.record.title_ref or "")
        values.update(degree_values(degree_of_event(change.record, title), columns))
    if change.student is not None:
        values[columns.student_ref] = change.student
    if change.removed is not None:
        values[columns.removed] = change.removed
    if person_id is not None:
        values[f"{columns.person_nav}@odata.bind"] = odata.bind(contacts, person_id)
    return degree_key(source, change.certificate), values

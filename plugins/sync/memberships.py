"""Membership rows as the lifecycle's plain :class:`~plugins.sync.lifecycle.Membership`.

Column names and choice numbers come from the schema map; a type number the organisation
has not mapped stays visible as its number, so the scheduler reports it as unknown.
"""

from __future__ import annotations

from typing import Any

from plugins.core.schema_map import MembershipMap

from .lifecycle import Membership, Problem
from .repository import date_of, lookup_value


class MembershipRows:
    """Reads membership rows named by one schema-map entry."""

    def __init__(self, columns: MembershipMap) -> None:
        self._columns = columns
        self._types = {number: name for name, number in columns.type_values.items()}
        self._statuses = {number: status for status, number in columns.status_values.items()}

    @property
    def select(self) -> tuple[str, ...]:
        """The columns :meth:`parse` needs (for ``$select``)."""
        m = self._columns
        return (m.id, lookup_value(m.person), m.type, m.start, m.end, m.status,
                m.automatic_renewal, m.renewal_active)

    def parse(self, row: dict[str, Any]) -> Membership | Problem:
        """The membership a row holds, or the problem that keeps it from being scheduled."""
        m = self._columns
        record_id = str(row[m.id])
        person = row.get(lookup_value(m.person))
        start = date_of(row.get(m.start))
        if person is None or start is None:
            missing = "person" if person is None else "start date"
            return Problem(record_id, f"no {missing}")
        number = row.get(m.type)
        return Membership(
            id=record_id,
            person_id=str(person).lower(),
            type=self._types.get(number, None if number is None else str(number)),
            start=start,
            end=date_of(row.get(m.end)),
            status=self._statuses.get(row.get(m.status)),
            automatic_renewal=bool(row.get(m.automatic_renewal)),
            renewal_active=bool(row.get(m.renewal_active)),
        )

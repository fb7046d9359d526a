"""Reading and writing the degree table, through the one Dataverse client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plugins.core.schema_map import DegreeMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registries.models import Degree
from plugins.sync.repository import MappedTable

from .records import degree_of, read_columns


class DegreeTable:
    """The degrees recorded for people (``mp_degree``, alternate key on ``mp_key``)."""

    def __init__(self, client: DataverseClient, columns: DegreeMap) -> None:
        self.client = client
        self.columns = columns

    def for_students(
        self, students: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Degree]]:
        """The degrees recorded for each (register, student ref) of ``students``, removed
        ones not, oldest first: one query however many students (every student asked is in
        the answer, with an empty list when nothing is recorded)."""
        c = self.columns
        found: dict[tuple[str, str], list[Degree]] = {key: [] for key in students}
        if not found:
            return found
        # Dataverse compares strings without regard to case; so does the answer's index.
        index = {(source.casefold(), ref.casefold()): (source, ref) for source, ref in found}
        rows = self.client.query(
            c.entity_set,
            select=(*read_columns(c), c.source, c.student_ref),
            filter=odata.and_(
                odata.or_(*(
                    odata.and_(odata.eq(c.source, source), odata.eq(c.student_ref, ref))
                    for source, ref in found
                )),
                odata.ne(c.removed, True),
            ),
            orderby=(odata.asc(c.issued_on),),
        )
        for row in rows:
            key = index.get((str(row[c.source]).casefold(), str(row[c.student_ref]).casefold()))
            if key is not None:
                found[key].append(degree_of(row, c))
        return found

    def upsert(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Create or change rows by key, in as few UpsertMultiple requests as the chunk
        size allows."""
        items = [({self.columns.key: key}, values) for key, values in rows]
        if items:
            self.client.upsert_multiple(MappedTable.of(self.columns), items)

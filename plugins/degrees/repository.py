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

    def for_student(self, source: str, student_ref: str) -> list[Degree]:
        """The degrees recorded for a student of register ``source`` (removed ones not)."""
        c = self.columns
        rows = self.client.query(
            c.entity_set,
            select=read_columns(c),
            filter=odata.and_(
                odata.eq(c.source, source),
                odata.eq(c.student_ref, student_ref),
                odata.ne(c.removed, True),
            ),
            orderby=(odata.asc(c.issued_on),),
        )
        return [degree_of(row, c) for row in rows]

    def upsert(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Create or change rows by key, in as few UpsertMultiple requests as the chunk
        size allows."""
        items = [({self.columns.key: key}, values) for key, values in rows]
        if items:
            self.client.upsert_multiple(MappedTable.of(self.columns), items)

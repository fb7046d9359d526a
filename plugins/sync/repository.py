"""The sync jobs' reads and writes of their own tables: checkpoints and tombstones.

Also the small translations every sync service needs between schema-map entries, Web API
values and Python values. All I/O goes through :class:`~plugins.dataverse.client.DataverseClient`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from plugins.core.schema_map import CheckpointMap, TombstoneMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import DuplicateRecordError

from .tombstone import identity_hash

T = TypeVar("T")


class _Mapped(Protocol):
    @property
    def table(self) -> str: ...

    @property
    def entity_set(self) -> str: ...

    @property
    def id(self) -> str: ...


@dataclass(frozen=True)
class MappedTable:
    """A schema-map entry as the client's table reference (for the bulk actions)."""

    logical_name: str
    entity_set: str
    primary_id: str

    @classmethod
    def of(cls, mapped: _Mapped) -> MappedTable:
        return cls(mapped.table, mapped.entity_set, mapped.id)


def lookup_value(column: str) -> str:
    """The property a lookup column's GUID is read from: ``_<column>_value``."""
    return f"_{column}_value"


def date_of(value: Any) -> date | None:
    """A date-only or date-and-time Web API value as a date (None when empty)."""
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def datetime_of(value: Any) -> datetime | None:
    """A date-and-time Web API value (UTC) as an aware datetime (None when empty)."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Checkpoint:
    """Where a job got to: its own position text and its last successful run."""

    value: str | None = None
    last_successful_run: datetime | None = None


class Checkpoints:
    """Checkpoints by job name (``mp_checkpoint``, alternate key on the name)."""

    def __init__(self, client: DataverseClient, columns: CheckpointMap) -> None:
        self._client = client
        self._columns = columns

    def read(self, name: str) -> Checkpoint:
        """The job's checkpoint; an empty one before its first run."""
        columns = self._columns
        rows = self._client.query(
            columns.entity_set,
            select=(columns.value, columns.last_successful_run),
            filter=odata.eq(columns.name, name),
            top=1,
        )
        row = next(iter(rows), None)
        if row is None:
            return Checkpoint()
        return Checkpoint(row.get(columns.value), datetime_of(row.get(columns.last_successful_run)))

    def save_position(self, name: str, value: str | None) -> None:
        """Record progress within a run (a failed run resumes from here)."""
        self._upsert(name, {self._columns.value: value})

    def save_success(self, name: str, finished: datetime, value: str | None = None) -> None:
        """Record a successful run finished at ``finished`` (and its final position)."""
        columns = self._columns
        self._upsert(name, {columns.value: value, columns.last_successful_run: finished})

    def _upsert(self, name: str, record: dict[str, Any]) -> None:
        self._client.upsert(self._columns.entity_set, {self._columns.name: name}, record)


class Tombstones:
    """Erased people, remembered only by the keyed hash of their identity number."""

    def __init__(self, client: DataverseClient, columns: TombstoneMap) -> None:
        self._client = client
        self._columns = columns

    def all_hashes(self) -> frozenset[str]:
        """Every tombstone's hash (erasures are rare: one read, paged)."""
        column = self._columns.identity_hash
        rows = self._client.query(self._columns.entity_set, select=(column,))
        return frozenset(str(row[column]) for row in rows if row.get(column))

    def any_of(self, hashes: Iterable[str]) -> frozenset[str]:
        """Which of ``hashes`` belong to erased people."""
        wanted = sorted(set(hashes))
        column = self._columns.identity_hash
        found: set[str] = set()
        for part in chunks(wanted, 50):
            rows = self._client.query(
                self._columns.entity_set, select=(column,), filter=odata.in_(column, part)
            )
            found.update(str(row[column]) for row in rows)
        return frozenset(found)

    def erased(self, national_ids: Iterable[str], key: str) -> frozenset[str]:
        """Which of these (canonical) identity numbers belong to erased people, hashed with
        ``key`` as the tombstones were (one read per 50 numbers)."""
        hashes = {identity_hash(number, key): number for number in national_ids}
        return frozenset(hashes[found] for found in self.any_of(hashes))

    def add(self, identity_hash: str, erased_on: datetime) -> None:
        """Remember an erased person; nothing changes when they are already remembered."""
        columns = self._columns
        try:
            self._client.upsert(
                columns.entity_set,
                {columns.identity_hash: identity_hash},
                {columns.erased_on: erased_on},
                mode=UpsertMode.CREATE_ONLY,
            )
        except DuplicateRecordError:
            return

"""The sandbox's in-memory tables: rows, row versions, alternate keys and transactions.

Values are kept in their Web API JSON form (strings for GUIDs, ``"2024-05-01T10:00:00Z"``
for datetimes and ``"2024-05-01"`` for date-only columns, numbers, booleans, ints for
choices, ``"1,2"`` strings for multi-select choices), except lookups, which are a
:class:`Lookup` (table and id, since a lookup may point at several tables), so reads serialise
them without conversion. Type checking of what a client
sends belongs to the Web API layer; the store guarantees atomicity, unique alternate keys and
a fresh row version on every write.

Concurrency: writes run under one re-entrant lock inside :meth:`Store.transaction`, which
keeps an undo log so that a failed change set, bulk action or synchronous step leaves nothing
behind. Reads take no lock: they copy a table's rows in one C-level step, which the GIL makes
atomic, so a slow reader never blocks the writers.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from plugins.core.schema import Schema, Table

from . import errors


def utc_now_text() -> str:
    """Now, as Dataverse writes datetimes: ISO-8601 UTC with a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Lookup:
    """The value of a lookup column: which table's row it points at."""

    table: str
    id: str


@dataclass(frozen=True)
class Row:
    """One row: its id, its values (Web API JSON form) and its row version (the ETag)."""

    id: str
    values: dict[str, Any]
    version: int

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'


@dataclass(frozen=True)
class Caller:
    """Who made a Web API request and with which pipeline context."""

    user_id: str
    tag: str | None = None
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    depth: int = 1
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    user_agent: str = ""


@dataclass(frozen=True)
class ChangeEvent:
    """A committed (or committing) Create, Update or Delete, as the event pipeline sees it."""

    message: str
    table: str
    row_id: str
    target: dict[str, Any]
    pre: dict[str, Any] | None
    post: dict[str, Any] | None
    caller: Caller
    operation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_on: datetime = field(default_factory=lambda: datetime.now(UTC))


class ChangeListener(Protocol):
    """Receives the events of a transaction.

    ``before_commit`` runs inside the transaction (synchronous steps); raising an
    :class:`~sandbox.errors.ODataError` there rolls the whole transaction back.
    ``after_commit`` runs once the writes are final (asynchronous steps).
    """

    def before_commit(self, events: list[ChangeEvent]) -> None: ...

    def after_commit(self, events: list[ChangeEvent]) -> None: ...


@dataclass
class _Transaction:
    caller: Caller
    undo: list[Callable[[], None]] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)


class Store:
    """All rows of all tables of one sandbox environment."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._tables = {t.logical_name: t for t in schema.tables}
        self._rows: dict[str, dict[str, Row]] = {name: {} for name in self._tables}
        self._keys: dict[tuple[str, str], dict[tuple[Any, ...], str]] = {
            (t.logical_name, k.name): {} for t in schema.tables for k in t.keys
        }
        self._lock = threading.RLock()
        self._local = threading.local()
        self._versions = itertools.count(1_000_001)
        self.listeners: list[ChangeListener] = []

    # ----------------------------------------------------------------- reading

    def table(self, logical_name: str) -> Table:
        return self._tables[logical_name]

    def get(self, table: str, row_id: str) -> Row | None:
        return self._rows[table].get(row_id.lower())

    def rows(self, table: str) -> list[Row]:
        """A consistent copy of a table's rows, in insertion order."""
        return list(self._rows[table].values())

    def count(self, table: str) -> int:
        return len(self._rows[table])

    def find_by_key(self, table: str, key_name: str, values: dict[str, Any]) -> Row | None:
        """The row whose alternate key ``key_name`` has these values, if any."""
        key = self._key(table, key_name)
        index = self._keys[(table, key.name)]
        row_id = index.get(self._key_tuple(key.columns, values))
        return self._rows[table].get(row_id) if row_id else None

    # ----------------------------------------------------------------- writing

    @contextmanager
    def transaction(self, caller: Caller) -> Iterator[None]:
        """Run writes atomically; nested calls join the outer transaction."""
        with self._lock:
            current: _Transaction | None = getattr(self._local, "tx", None)
            if current is not None:
                # The joined writes are the nested caller's (a $batch part's own tag).
                outer_caller, current.caller = current.caller, caller
                try:
                    yield
                finally:
                    current.caller = outer_caller
                return
            tx = _Transaction(caller)
            self._local.tx = tx
            try:
                yield
                for listener in self.listeners:
                    listener.before_commit(tx.events)
            except BaseException:
                for undo in reversed(tx.undo):
                    undo()
                raise
            finally:
                self._local.tx = None
        for listener in self.listeners:
            listener.after_commit(tx.events)

    def insert(self, table: str, values: dict[str, Any], row_id: str | None = None) -> Row:
        """Create a row; the id comes from ``row_id``, the primary key column or a new GUID."""
        meta = self._tables[table]
        with self._writing() as tx:
            new_id = (row_id or values.get(meta.primary_id) or str(uuid.uuid4())).lower()
            if new_id in self._rows[table]:
                raise errors.ODataError(
                    412, "0x80040237", "Cannot insert duplicate key."
                )
            now = utc_now_text()
            stored = {**values, meta.primary_id: new_id, "createdon": now, "modifiedon": now}
            stored = self._with_defaults(meta, stored)
            row = Row(new_id, stored, next(self._versions))
            self._index(meta, row, None)
            self._rows[table][new_id] = row
            tx.undo.append(lambda: self._unput(meta, new_id, row, None))
            target = {**values, meta.primary_id: new_id}
            tx.events.append(ChangeEvent("Create", table, new_id, target, None, stored, tx.caller))
            return row

    def update(self, table: str, row_id: str, changes: dict[str, Any]) -> Row:
        """Apply changes to an existing row and give it a new version."""
        meta = self._tables[table]
        with self._writing() as tx:
            old = self._rows[table].get(row_id.lower())
            if old is None:
                raise errors.row_not_found(table, row_id)
            changes = {k: v for k, v in changes.items() if k != meta.primary_id}
            now = utc_now_text()
            merged = self._derived(meta, {**old.values, **changes, "modifiedon": now})
            row = Row(old.id, merged, next(self._versions))
            self._index(meta, row, old)
            self._rows[table][old.id] = row
            tx.undo.append(lambda: self._unput(meta, old.id, row, old))
            target = {**changes, meta.primary_id: old.id, "modifiedon": now}
            if meta.primary_name in merged and merged.get(meta.primary_name) != old.values.get(
                meta.primary_name
            ):
                target[meta.primary_name] = merged[meta.primary_name]
            tx.events.append(
                ChangeEvent("Update", table, old.id, target, old.values, merged, tx.caller)
            )
            return row

    def delete(self, table: str, row_id: str) -> Row:
        """Remove a row."""
        meta = self._tables[table]
        with self._writing() as tx:
            old = self._rows[table].get(row_id.lower())
            if old is None:
                raise errors.row_not_found(table, row_id)
            self._unindex(meta, old)
            del self._rows[table][old.id]
            tx.undo.append(lambda: self._unput(meta, old.id, None, old))
            target = {"__reference__": True, "id": old.id}
            tx.events.append(
                ChangeEvent("Delete", table, old.id, target, old.values, None, tx.caller)
            )
            return old

    # ------------------------------------------------------------------ schema

    def alter_schema(self, change: Callable[[Schema], Schema]) -> Schema:
        """Replace the schema with ``change(current)``, atomically: metadata created at run
        time. The new schema keeps every table and may add tables, columns, alternate keys
        and choices; rows are kept and new keys are indexed over them (a collision raises
        the duplicate-key error and changes nothing)."""
        with self._lock:
            schema = change(self.schema)
            tables = {t.logical_name: t for t in schema.tables}
            if not self._tables.keys() <= tables.keys():
                raise ValueError("a schema change may add tables, never remove them")
            keys: dict[tuple[str, str], dict[tuple[Any, ...], str]] = {}
            for table in schema.tables:
                for key in table.keys:
                    slot = (table.logical_name, key.name)
                    keys[slot] = (
                        self._keys[slot]
                        if slot in self._keys
                        else self._built_index(table, key.name, key.columns)
                    )
            for name in tables.keys() - self._rows.keys():
                self._rows[name] = {}
            self.schema, self._tables, self._keys = schema, tables, keys
            return schema

    def _built_index(
        self, table: Table, key_name: str, columns: tuple[str, ...]
    ) -> dict[tuple[Any, ...], str]:
        index: dict[tuple[Any, ...], str] = {}
        for row in self._rows.get(table.logical_name, {}).values():
            key_tuple = self._key_tuple(columns, row.values)
            if any(v is None for v in key_tuple):
                continue
            if key_tuple in index:
                raise errors.duplicate_key(table.logical_name, key_name)
            index[key_tuple] = row.id
        return index

    # ---------------------------------------------------------------- internals

    @contextmanager
    def _writing(self) -> Iterator[_Transaction]:
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is None:
            raise RuntimeError("store writes must run inside Store.transaction()")
        yield tx

    def _key(self, table: str, key_name: str):
        for key in self._tables[table].keys:
            if key.name == key_name:
                return key
        raise KeyError(key_name)

    @staticmethod
    def _key_tuple(columns: tuple[str, ...], values: dict[str, Any]) -> tuple[Any, ...]:
        # SQL Server's default collation is case-insensitive, and so are Dataverse's keys.
        return tuple(
            values.get(c).casefold() if isinstance(values.get(c), str) else values.get(c)
            for c in columns
        )

    def _index(self, meta: Table, row: Row, old: Row | None) -> None:
        for key in meta.keys:
            index = self._keys[(meta.logical_name, key.name)]
            new_tuple = self._key_tuple(key.columns, row.values)
            if any(v is None for v in new_tuple):
                continue
            holder = index.get(new_tuple)
            if holder is not None and holder != row.id:
                raise errors.duplicate_key(meta.logical_name, key.name)
        if old is not None:
            self._unindex(meta, old)
        for key in meta.keys:
            new_tuple = self._key_tuple(key.columns, row.values)
            if all(v is not None for v in new_tuple):
                self._keys[(meta.logical_name, key.name)][new_tuple] = row.id

    def _unindex(self, meta: Table, row: Row) -> None:
        for key in meta.keys:
            index = self._keys[(meta.logical_name, key.name)]
            key_tuple = self._key_tuple(key.columns, row.values)
            if index.get(key_tuple) == row.id:
                del index[key_tuple]

    def _unput(self, meta: Table, row_id: str, current: Row | None, previous: Row | None) -> None:
        """Undo one write: put ``previous`` back where ``current`` stands."""
        if current is not None:
            self._unindex(meta, current)
            self._rows[meta.logical_name].pop(row_id, None)
        if previous is not None:
            self._rows[meta.logical_name][row_id] = previous
            for key in meta.keys:
                key_tuple = self._key_tuple(key.columns, previous.values)
                if all(v is not None for v in key_tuple):
                    self._keys[(meta.logical_name, key.name)][key_tuple] = row_id

    def _with_defaults(self, meta: Table, values: dict[str, Any]) -> dict[str, Any]:
        for name, column in meta.columns.items():
            if column.type == "state" and values.get(name) is None:
                values[name] = 0
            elif column.type == "status" and values.get(name) is None:
                choice = self.schema.choices[column.choices or ""]
                values[name] = min(choice.options)
        return self._derived(meta, values)

    @staticmethod
    def _derived(meta: Table, values: dict[str, Any]) -> dict[str, Any]:
        # Dataverse computes a contact's full name from its parts on every write.
        if meta.primary_name == "fullname" and "firstname" in meta.columns:
            parts = [values.get("firstname"), values.get("lastname")]
            values["fullname"] = " ".join(p for p in parts if p) or None
        return values

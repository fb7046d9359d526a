"""``$orderby`` the way Dataverse's SQL Server does it, plus positions for keyset paging.

Nulls sort first ascending and last descending; strings compare case-insensitively; lookups
sort by the related row's primary name, choices by their integer value. The primary key is
always the last key, so the order is total and a page can start "after the last row of the
previous page" even while rows are inserted.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from itertools import compress, repeat
from operator import attrgetter, is_not, not_
from typing import Any

from ..store import Lookup, Row
from .fields import RowFields
from .kinds import normalizer
from .options import OrderItem

KeyGetter = Callable[[Mapping[str, Any]], Any]
KEY_KIND = {"integer": "number", "decimal": "number", "boolean": "boolean"}


@dataclass(frozen=True)
class SortKey:
    """One ``$orderby`` term, resolved: how to read its (comparable) key from a row."""

    name: str
    descending: bool
    kind: str
    """``text``, ``number`` or ``boolean``: how the key is written into a paging cookie"""
    get: KeyGetter
    stable: bool = True
    """False when the key reads other rows (a lookup's related name), so a table's order
    can change without any of its own rows changing"""


class Ordering:
    """A total order over a table's rows: the ``$orderby`` keys, then the primary key."""

    def __init__(self, keys: Sequence[SortKey], primary_id: str) -> None:
        self.keys = tuple(keys)
        self.primary_id = primary_id
        self.stable = all(key.stable for key in self.keys)
        directions = (*(key.descending for key in self.keys), False)
        self._key_class = cmp_to_key(lambda a, b: _compare(a, b, directions))

    def sort(self, rows: list[Row]) -> None:
        """Sort ``rows`` in place."""
        rows[:] = map(rows.__getitem__, self.sorted_positions(rows))

    def sorted_positions(self, rows: Sequence[Row]) -> list[int]:
        """The positions of ``rows`` in this order.

        Stable passes, least significant key first. Keys are read in the rows' own order
        and only positions move, which keeps memory access sequential on large tables;
        nulls are split off instead of wrapped in tuples, so the sorts compare plain values.
        """
        positions = list(range(len(rows)))
        positions.sort(key=list(map(attrgetter("id"), rows)).__getitem__)
        for key in reversed(self.keys):
            keys = [key.get(row.values) for row in rows]
            present = bytes(map(is_not, map(keys.__getitem__, positions), repeat(None)))
            nulls = list(compress(positions, map(not_, present)))
            values = list(compress(positions, present))
            values.sort(key=keys.__getitem__, reverse=key.descending)
            positions = values + nulls if key.descending else nulls + values
        return positions

    def position(self, row: Row) -> tuple[Any, ...]:
        """Where ``row`` stands in this order: its keys, then its id."""
        return (*(key.get(row.values) for key in self.keys), row.id)

    def index_after(self, rows: Sequence[Row], position: tuple[Any, ...]) -> int:
        """The index of the first row of sorted ``rows`` that comes after ``position``."""
        wrap = self._key_class
        return bisect_right(rows, wrap(position), key=lambda row: wrap(self.position(row)))


def ordering_for(fields: RowFields, items: Sequence[OrderItem]) -> Ordering:
    """The ordering of ``$orderby`` items on a table (unknown names -> Dataverse's 400)."""
    keys = [_sort_key(fields, item) for item in items]
    return Ordering(keys, fields.info.table.primary_id)


def _sort_key(fields: RowFields, item: OrderItem) -> SortKey:
    info = fields.info
    field = fields.own(item.name)
    column = info.table.columns[info.properties[item.name]]
    if column.type == "lookup":
        related = _related_name(fields, info.properties[item.name])
        return SortKey(item.name, item.descending, "text", related, stable=False)
    norm = normalizer(field.kind)
    if field.kind == "multichoice" or norm is None:
        get = field.get
    else:
        read, fold = field.get, norm

        def get(values: Mapping[str, Any]) -> Any:
            value = read(values)
            return fold(value) if value is not None else None

    return SortKey(item.name, item.descending, KEY_KIND.get(field.kind, "text"), get)


def _related_name(fields: RowFields, column: str) -> KeyGetter:
    """Lookups sort by the primary name of the row they point at."""
    store = fields.catalog.store
    names = {t.logical_name: t.primary_name for t in store.schema.tables}

    def get(values: Mapping[str, Any]) -> Any:
        ref: Lookup | None = values.get(column)
        if ref is None:
            return None
        row = store.get(ref.table, ref.id)
        name = row.values.get(names[ref.table]) if row is not None else None
        return name.casefold() if isinstance(name, str) else None

    return get


def _compare(a: tuple[Any, ...], b: tuple[Any, ...], descending: tuple[bool, ...]) -> int:
    for x, y, desc in zip(a, b, descending, strict=True):
        if x == y:
            continue
        if x is None:
            less = True
        elif y is None:
            less = False
        else:
            less = x < y
        return (1 if less else -1) if desc else (-1 if less else 1)
    return 0

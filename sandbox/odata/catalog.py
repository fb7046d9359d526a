"""What each table of a store exposes over OData, computed once per store.

A table's *properties* are its readable columns, with lookups renamed ``_<column>_value``.
Its *single-valued navigation properties* come from its own lookup columns (one per target:
``LookupTarget.nav``); its *collection-valued* ones from the lookups of other tables that
point at it (named by ``LookupTarget.relationship``).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from plugins.core.schema import Table

from ..store import Store

T = TypeVar("T")

KIND_OF_TYPE = {
    "uniqueidentifier": "guid",
    "string": "string",
    "memo": "string",
    "integer": "integer",
    "bigint": "integer",
    "decimal": "decimal",
    "money": "decimal",
    "float": "decimal",
    "boolean": "boolean",
    "datetime": "datetime",
    "date": "date",
    "choice": "integer",
    "state": "integer",
    "status": "integer",
    "multichoice": "multichoice",
    "lookup": "guid",
}


@dataclass(frozen=True)
class SingleNav:
    """A lookup seen from the referencing row: ``regardingobjectid_contact_task``."""

    name: str
    column: str
    target: str


@dataclass(frozen=True)
class CollectionNav:
    """A lookup seen from the referenced row: ``Contact_Tasks`` lists ``task`` rows."""

    name: str
    table: str
    column: str


@dataclass
class TableInfo:
    """One table's OData surface."""

    table: Table
    type_name: str
    properties: dict[str, str] = field(default_factory=dict)
    """property name -> column name (``_x_value`` -> ``x``; others map to themselves)"""
    kinds: dict[str, str] = field(default_factory=dict)
    """property name -> value kind (see :data:`KIND_OF_TYPE`)"""
    single_navs: dict[str, SingleNav] = field(default_factory=dict)
    collection_navs: dict[str, CollectionNav] = field(default_factory=dict)

    @property
    def logical_name(self) -> str:
        """The table's logical name."""
        return self.table.logical_name


class Memo:
    """A small thread-safe least-recently-used cache of derived objects."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The cached value for ``key``, built (outside the lock) on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = build()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class Catalog:
    """All tables of one store, plus a cache of what requests derive from them (compiled
    filters, orderings, column plans), which lives and dies with the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.schema = schema = store.schema
        self.memo = Memo(2048)
        self.tables: dict[str, TableInfo] = {}
        for table in schema.tables:
            self.tables[table.logical_name] = _describe(table)
        for table in schema.tables:
            for name, column in table.columns.items():
                for target, link in (column.targets or {}).items():
                    self.tables[table.logical_name].single_navs[link.nav] = SingleNav(
                        link.nav, name, target
                    )
                    self.tables[target].collection_navs[link.relationship] = CollectionNav(
                        link.relationship, table.logical_name, name
                    )

    def info(self, logical_name: str) -> TableInfo:
        """The surface of one table."""
        return self.tables[logical_name]


def _describe(table: Table) -> TableInfo:
    info = TableInfo(table, f"Microsoft.Dynamics.CRM.{table.logical_name}")
    for name, column in table.columns.items():
        if column.write_only:
            continue
        prop = f"_{name}_value" if column.type == "lookup" else name
        info.properties[prop] = name
        info.kinds[prop] = KIND_OF_TYPE[column.type]
    return info


_CATALOGS: weakref.WeakKeyDictionary[Store, Catalog] = weakref.WeakKeyDictionary()


def catalog(store: Store) -> Catalog:
    """The (cached) catalog of ``store``, rebuilt when its schema has changed."""
    found = _CATALOGS.get(store)
    if found is None or found.schema is not store.schema:
        found = _CATALOGS[store] = Catalog(store)
    return found

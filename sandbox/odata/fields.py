"""Property resolvers: how a name in ``$filter`` / ``$orderby`` reads a value from a record.

A resolver turns a property path into a :class:`Field` (value kind plus getter). Records are
mappings: a row's stored values, or a metadata object. Kinds are those of
:data:`sandbox.odata.catalog.KIND_OF_TYPE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .. import errors
from ..store import Lookup
from .catalog import Catalog, TableInfo
from .errors import invalid_query
from .nodes import Property

Getter = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Field:
    """A readable property: its kind, and either a plain key or a getter."""

    kind: str
    name: str
    get: Getter
    column: str | None = None
    """set when the value is simply ``record.get(column)``, so callers may inline it"""


class Resolver(Protocol):
    """Resolves property paths of one entity type."""

    type_name: str

    def field(self, prop: Property) -> Field:
        """The field a path names; Dataverse's 400 when there is no such property."""
        ...


def _plain(kind: str, name: str, column: str) -> Field:
    return Field(kind, name, lambda record: record.get(column), column)


class DictFields:
    """Properties of plain JSON objects (metadata), declared as name -> kind."""

    def __init__(self, type_name: str, kinds: Mapping[str, str]) -> None:
        self.type_name = type_name
        self.kinds = kinds

    def field(self, prop: Property) -> Field:
        """A declared top-level property."""
        name = prop.path[0]
        if len(prop.path) != 1 or name not in self.kinds:
            raise errors.unknown_property(prop.text, self.type_name.rsplit(".", 1)[-1])
        return _plain(self.kinds[name], name, name)


class RowFields:
    """Properties of a table's rows, including ``<single-valued nav>/<property>`` paths."""

    def __init__(self, catalog: Catalog, info: TableInfo) -> None:
        self.catalog = catalog
        self.info = info
        self.type_name = info.type_name

    def field(self, prop: Property) -> Field:
        """A property of the table, or of the row a single-valued navigation leads to."""
        if len(prop.path) == 1:
            return self.own(prop.path[0])
        if len(prop.path) == 2:
            return self._through_nav(prop)
        raise invalid_query(
            f"The property path '{prop.text}' is not supported: only one navigation "
            "level may be used in $filter."
        )

    def own(self, name: str) -> Field:
        """A property of this table by name."""
        info = self.info
        column = info.properties.get(name)
        if column is None:
            raise errors.unknown_property(name, info.logical_name)
        kind = info.kinds[name]
        if info.table.columns[column].type != "lookup":
            return _plain(kind, name, column)

        def lookup_id(record: Mapping[str, Any]) -> str | None:
            ref = record.get(column)
            return ref.id if ref is not None else None

        return Field(kind, name, lookup_id)

    def _through_nav(self, prop: Property) -> Field:
        nav_name, name = prop.path
        nav = self.info.single_navs.get(nav_name)
        if nav is None:
            if nav_name in self.info.collection_navs:
                raise invalid_query(
                    f"The collection-valued navigation property '{nav_name}' cannot be used "
                    "in a property path; use any() or all()."
                )
            raise errors.unknown_property(nav_name, self.info.logical_name)
        inner = RowFields(self.catalog, self.catalog.info(nav.target)).own(name)
        store = self.catalog.store
        column, target, read = nav.column, nav.target, inner.get

        def related(record: Mapping[str, Any]) -> Any:
            ref: Lookup | None = record.get(column)
            if ref is None or ref.table != target:
                return None
            row = store.get(target, ref.id)
            return read(row.values) if row is not None else None

        return Field(inner.kind, prop.text, related)

"""How rows are written in Web API responses: selected properties, annotations, ``$expand``.

A :class:`RowWriter` is prepared once per request and table (it checks ``$select``, resolves
the expansions and caches the column plan), then writes each row. Lookups appear as
``_<column>_value``; write-only columns (secrets) never appear.

Expansions follow Dataverse: single-valued navigation properties give the related row (no
``@odata.etag``) or null; collection-valued ones give up to 5000 related rows plus
``<nav>@odata.nextLink``, the related collection's URL with the nested options. When a nested
``$expand`` appears anywhere in the query and ``odata.maxpagesize`` is sent, each expanded
collection is paged as well, and only then does its next link carry a ``$skiptoken``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from plugins.core.schema import Choice, Column, Table

from .. import errors
from ..odata.catalog import Catalog, CollectionNav, SingleNav, TableInfo, catalog
from ..odata.compiler import Predicate
from ..odata.errors import invalid_query
from ..odata.options import Expansion
from ..odata.query import MAX_PAGE_SIZE, row_fields, row_filter, run_query
from ..store import Lookup, Row
from .annotations import (
    ASSOCIATED_NAVIGATION,
    FORMATTED_VALUE,
    LOOKUP_LOGICAL_NAME,
    Annotations,
    formatted_value,
)
from .context import ApiContext

PlanItem = tuple[str, str, Column, Choice | None, bool]
"""(property, column, column definition, its choice, is a lookup)"""

_ONLY_SELECT_AND_FILTER = (
    "Only $select and $filter clause can be provided while doing $expand on many-to-one "
    "relationship or nested one-to-many relationship."
)


def row_to_json(
    ctx: ApiContext,
    table: Table,
    row: Row,
    select: Sequence[str] | None = None,
    *,
    expand: Sequence[Expansion] = (),
) -> dict[str, Any]:
    """The JSON object for one row: ``@odata.etag``, the selected columns, the primary key.

    Annotations follow the request's ``Prefer: odata.include-annotations``.
    """
    annotations = Annotations.parse(ctx.prefer.annotations)
    return RowWriter(ctx, table, select, annotations=annotations, expand=expand).write(row)


def selection_text(select: Sequence[str] | None, expand: Sequence[Expansion]) -> str:
    """The ``(a,b,nav(c))`` part of an ``@odata.context`` ('' when everything is returned)."""
    parts = list(select or ())
    for item in expand:
        inner = selection_text(item.options.select, item.options.expand)
        parts.append(f"{item.nav}/$ref()" if item.ref else f"{item.nav}({inner})")
    return ",".join(parts)


def entity_context(
    ctx: ApiContext,
    table: Table,
    select: Sequence[str] | None = None,
    expand: Sequence[Expansion] = (),
) -> str:
    """``<root>$metadata#contacts(a,b)/$entity`` for a single row."""
    return f"{collection_context(ctx, table, select, expand)}/$entity"


def collection_context(
    ctx: ApiContext,
    table: Table,
    select: Sequence[str] | None = None,
    expand: Sequence[Expansion] = (),
) -> str:
    """``<root>$metadata#contacts(a,b)`` for a collection."""
    text = selection_text(select, expand)
    suffix = f"({text})" if text else ""
    return f"{ctx.service_root}$metadata#{table.entity_set}{suffix}"


class RowWriter:
    """Writes rows of one table for one request."""

    def __init__(
        self,
        ctx: ApiContext,
        table: Table,
        select: Sequence[str] | None = None,
        *,
        annotations: Annotations | None = None,
        expand: Sequence[Expansion] = (),
        etag: bool = True,
        paged_expansions: int | None = None,
    ) -> None:
        self.ctx = ctx
        self.catalog = catalog(ctx.store)
        self.info = self.catalog.info(table.logical_name)
        self.primary_id = table.primary_id
        self.annotations = annotations
        self.etag = etag
        self.plan = _plan(self.catalog, table.logical_name, _as_tuple(select))
        self.props = tuple(item[0] for item in self.plan)
        self.columns = tuple(item[1] for item in self.plan)
        self.lookups = tuple(item[0] for item in self.plan if item[4])
        if paged_expansions is None and ctx.prefer.maxpagesize and _has_nested(expand):
            paged_expansions = ctx.prefer.maxpagesize
        self.expansions = [_Expander(self, item, annotations, paged_expansions) for item in expand]

    def write(self, row: Row) -> dict[str, Any]:
        """The JSON object of one row."""
        values = row.values
        body: dict[str, Any] = {"@odata.etag": row.etag} if self.etag else {}
        if self.annotations is None:
            body.update(zip(self.props, map(values.get, self.columns), strict=True))
            for prop in self.lookups:
                ref = body[prop]
                if ref is not None:
                    body[prop] = ref.id
        else:
            self._write_annotated(values, body, self.annotations)
        body[self.primary_id] = row.id
        for expansion in self.expansions:
            expansion.apply(row, body)
        return body

    def _write_annotated(
        self, values: dict[str, Any], body: dict[str, Any], wanted: Annotations
    ) -> None:
        for prop, column_name, column, choice, is_lookup in self.plan:
            value = values.get(column_name)
            if value is None:
                body[prop] = None
                continue
            if is_lookup:
                self._annotate_lookup(prop, column, value, body, wanted)
                body[prop] = value.id
                continue
            if wanted.formatted:
                text = formatted_value(column, value, choice)
                if text is not None:
                    body[f"{prop}@{FORMATTED_VALUE}"] = text
            body[prop] = value

    def _annotate_lookup(
        self, prop: str, column: Column, ref: Lookup, body: dict[str, Any], wanted: Annotations
    ) -> None:
        if wanted.formatted:
            target = self.ctx.store.get(ref.table, ref.id)
            if target is not None:
                name = target.values.get(self.catalog.info(ref.table).table.primary_name)
                if name is not None:
                    body[f"{prop}@{FORMATTED_VALUE}"] = name
        link = (column.targets or {}).get(ref.table)
        if wanted.associated_navigation and link is not None:
            body[f"{prop}@{ASSOCIATED_NAVIGATION}"] = link.nav
        if wanted.lookup_logical_name:
            body[f"{prop}@{LOOKUP_LOGICAL_NAME}"] = ref.table


class _Expander:
    """One ``$expand`` item of a :class:`RowWriter`."""

    def __init__(
        self,
        owner: RowWriter,
        item: Expansion,
        annotations: Annotations | None,
        paged: int | None,
    ) -> None:
        self.owner = owner
        self.item = item
        self.paged = paged
        info = owner.info
        self.single: SingleNav | None = info.single_navs.get(item.nav)
        self.collection: CollectionNav | None = info.collection_navs.get(item.nav)
        if self.single is not None:
            target = self.single.target
        elif self.collection is not None:
            target = self.collection.table
        else:
            raise _not_navigable(info, item.nav)
        options = item.options
        if self.collection is not None and item.ref:
            raise invalid_query(
                "Expand with $ref is only supported on lookup type navigation property."
            )
        limited = options.orderby or options.top is not None
        if limited and (self.single is not None or options.expand):
            raise invalid_query(_ONLY_SELECT_AND_FILTER)
        self.target: TableInfo = owner.catalog.info(target)
        self.fields = row_fields(owner.catalog, target)
        self.keep: Predicate | None = (
            row_filter(self.fields, options.filter) if options.filter else None
        )
        select = options.select
        if self.collection is not None and select is not None:
            back = f"_{self.collection.column}_value"
            select = select if back in select else (*select, back)
        self.writer = RowWriter(
            owner.ctx,
            self.target.table,
            select,
            annotations=annotations,
            expand=options.expand,
            etag=self.collection is not None,
            paged_expansions=paged,
        )
        self._children: dict[str, list[Row]] | None = None

    def apply(self, row: Row, body: dict[str, Any]) -> None:
        """Add this expansion to the JSON object of ``row``."""
        if self.single is not None:
            body[self.item.nav] = self._single(row, self.single)
        elif self.collection is not None:
            self._collection(row, body, self.collection)

    def _single(self, row: Row, nav: SingleNav) -> dict[str, Any] | None:
        ref: Lookup | None = row.values.get(nav.column)
        if ref is None or ref.table != nav.target:
            return None
        related = self.owner.ctx.store.get(nav.target, ref.id)
        if related is None or (self.keep is not None and not self.keep(related.values)):
            return None
        if self.item.ref:
            return {"@odata.id": self.owner.ctx.entity_url(self.target.table, related.id)}
        return self.writer.write(related)

    def _collection(self, row: Row, body: dict[str, Any], link: CollectionNav) -> None:
        nav = self.item.nav
        options = self.item.options
        children = self._children_of(row.id, link)
        page_size = self.paged or MAX_PAGE_SIZE
        page = run_query(children, self.fields, options, page_size, options.top)
        body[nav] = [self.writer.write(child) for child in page.rows]
        url = f"{self.owner.ctx.entity_url(self.owner.info.table, row.id)}/{nav}"
        query = options.query_string()
        if self.paged is None:
            body[f"{nav}@odata.nextLink"] = f"{url}?{query}" if query else url
        elif page.skiptoken is not None:
            token = "$skiptoken=" + quote(page.skiptoken, safe="=/")
            body[f"{nav}@odata.nextLink"] = f"{url}?{query}&{token}" if query else f"{url}?{token}"

    def _children_of(self, parent_id: str, link: CollectionNav) -> list[Row]:
        """The related rows of one parent, from an index built on first use."""
        if self._children is None:
            parent = self.owner.info.logical_name
            index: dict[str, list[Row]] = {}
            for child in self.owner.ctx.store.rows(link.table):
                ref = child.values.get(link.column)
                if ref is not None and ref.table == parent:
                    index.setdefault(ref.id, []).append(child)
            self._children = index
        return self._children.get(parent_id, [])


def _not_navigable(info: TableInfo, name: str) -> Exception:
    if name in info.properties:
        return invalid_query(
            f"Property '{name}' on type '{info.type_name}' is not a navigation property or "
            "complex property. Only navigation properties can be expanded."
        )
    return errors.unknown_property(name, info.logical_name)


def _has_nested(expand: Sequence[Expansion]) -> bool:
    return any(item.options.expand for item in expand)


def _as_tuple(select: Sequence[str] | None) -> tuple[str, ...] | None:
    return tuple(select) if select is not None else None


def _plan(
    catalog_: Catalog, logical_name: str, select: tuple[str, ...] | None
) -> tuple[PlanItem, ...]:
    """The properties to write, in order, with what formatting them needs (cached)."""
    return catalog_.memo.get(
        ("plan", logical_name, select), lambda: _build_plan(catalog_, logical_name, select)
    )


def _build_plan(
    catalog_: Catalog, logical_name: str, select: tuple[str, ...] | None
) -> tuple[PlanItem, ...]:
    info = catalog_.info(logical_name)
    table = info.table
    choices = catalog_.store.schema.choices
    props: list[str] = []
    for name in select if select is not None else info.properties:
        prop = _property_name(info, name)
        if prop is not None and prop not in props:
            props.append(prop)
    plan: list[PlanItem] = []
    for prop in props:
        column_name = info.properties[prop]
        column = table.columns[column_name]
        choice = choices.get(column.choices) if column.choices else None
        plan.append((prop, column_name, column, choice, column.type == "lookup"))
    return tuple(plan)


def _property_name(info: TableInfo, name: str) -> str | None:
    """The property ``name`` selects: itself, or ``_x_value`` for a lookup's logical name.

    Write-only columns are silently left out; anything else unknown is Dataverse's 400.
    """
    if name in info.properties:
        return name
    column = info.table.columns.get(name)
    if column is not None and column.type == "lookup":
        return f"_{name}_value"
    if column is not None and column.write_only:
        return None
    raise errors.unknown_property(name, info.logical_name)

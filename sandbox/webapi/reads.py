"""GET handlers of the Web API: rows, collections, properties, navigation properties, refs.

Collections honour ``$select``, ``$filter``, ``$orderby``, ``$top``, ``$count`` and ``$expand``
and are paged with ``Prefer: odata.maxpagesize`` (default and maximum 5000): when rows remain,
``@odata.nextLink`` is the request URL plus a ``$skiptoken`` paging cookie, and ``$top`` is
ignored when a page size is requested. A single row answers ``If-None-Match`` with 304 when
its ETag still matches, unless ``$expand`` or annotations were asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, unquote

from werkzeug.wrappers import Response

from plugins.core.schema import Table

from .. import errors
from ..http import empty_response, json_response
from ..odata.catalog import CollectionNav, SingleNav, catalog
from ..odata.keyed import key_lookup
from ..odata.options import TOP_LEVEL, QueryOptions, parse_query
from ..odata.query import MAX_COUNT, MAX_PAGE_SIZE, row_fields, run_query
from ..store import Lookup, Row
from .annotations import COUNT_LIMIT_EXCEEDED, TOTAL_COUNT, Annotations
from .context import ApiContext
from .representation import RowWriter, collection_context, entity_context
from .resource import KeySpec

ENTITY_OPTIONS = ("$select", "$expand")
REF_OPTIONS = ("$filter", "$orderby", "$top", "$skiptoken")


def get_collection(ctx: ApiContext, table: Table) -> Response:
    """``GET <set>``: a page of rows."""
    options = _options(ctx, TOP_LEVEL)
    keyed = key_lookup(ctx.store, table, options.filter)
    if keyed is not None:
        return _collection(ctx, table, keyed, options)
    rows = ctx.store.rows(table.logical_name)
    return _collection(ctx, table, rows, options, whole_table=True)


def get_row(ctx: ApiContext, table: Table, key: KeySpec) -> Response:
    """``GET <set>(<key>)``: one row, or 304 when the client's ETag is current."""
    options = _options(ctx, ENTITY_OPTIONS)
    annotations = Annotations.parse(ctx.prefer.annotations)
    writer = RowWriter(ctx, table, options.select, annotations=annotations, expand=options.expand)
    row = ctx.require(table, key)
    if not options.expand and annotations is None and _not_modified(ctx, row):
        return empty_response(304, {"ETag": row.etag})
    body = {"@odata.context": entity_context(ctx, table, options.select, options.expand)}
    body.update(writer.write(row))
    return json_response(body, headers=_applied(ctx, annotations, paged=False))


def get_property(ctx: ApiContext, table: Table, key: KeySpec, prop: str) -> Response:
    """``GET <set>(<key>)/<prop>``: a column value, the related row or the related rows."""
    info = catalog(ctx.store).info(table.logical_name)
    single = info.single_navs.get(prop)
    if single is not None:
        return _related_row(ctx, table, key, single)
    collection = info.collection_navs.get(prop)
    if collection is not None:
        options = _options(ctx, TOP_LEVEL)
        children = _children(ctx, ctx.require(table, key), table, collection)
        return _collection(ctx, ctx.store.table(collection.table), children, options)
    column = info.properties.get(prop)
    if column is None:
        raise errors.unknown_segment(prop)
    return _property_value(ctx, table, key, prop, column)


def get_refs(ctx: ApiContext, table: Table, key: KeySpec, prop: str) -> Response:
    """``GET <set>(<key>)/<nav>/$ref``: the ``@odata.id`` of the related row(s)."""
    info = catalog(ctx.store).info(table.logical_name)
    single = info.single_navs.get(prop)
    if single is not None:
        _options(ctx, ())
        related = _related(ctx, ctx.require(table, key), single)
        if related is None:
            return empty_response(204)
        target = ctx.store.table(single.target)
        return json_response(
            {
                "@odata.context": f"{ctx.service_root}$metadata#$ref",
                "@odata.id": ctx.entity_url(target, related.id),
            }
        )
    collection = info.collection_navs.get(prop)
    if collection is None:
        raise errors.unknown_segment(prop)
    options = _options(ctx, REF_OPTIONS)
    child_table = ctx.store.table(collection.table)
    children = _children(ctx, ctx.require(table, key), table, collection)
    return _page_response(
        ctx,
        child_table,
        children,
        options,
        f"{ctx.service_root}$metadata#Collection($ref)",
        lambda row: {"@odata.id": ctx.entity_url(child_table, row.id)},
        annotations=None,
    )


# ------------------------------------------------------------------ helpers


def _related_row(ctx: ApiContext, table: Table, key: KeySpec, nav: SingleNav) -> Response:
    """The row a single-valued navigation property points at (204 when none)."""
    options = _options(ctx, ENTITY_OPTIONS)
    target = ctx.store.table(nav.target)
    annotations = Annotations.parse(ctx.prefer.annotations)
    writer = RowWriter(ctx, target, options.select, annotations=annotations, expand=options.expand)
    related = _related(ctx, ctx.require(table, key), nav)
    if related is None:
        return empty_response(204)
    body = {"@odata.context": entity_context(ctx, target, options.select, options.expand)}
    body.update(writer.write(related))
    return json_response(body, headers=_applied(ctx, annotations, paged=False))


def _property_value(
    ctx: ApiContext, table: Table, key: KeySpec, prop: str, column: str
) -> Response:
    """One column's value (204 when null, as OData answers for a null property)."""
    _options(ctx, ())
    row = ctx.require(table, key)
    value = row.values.get(column)
    if value is None:
        return empty_response(204)
    return json_response(
        {
            "@odata.context": f"{ctx.service_root}$metadata#{table.entity_set}({row.id})/{prop}",
            "value": value.id if isinstance(value, Lookup) else value,
        }
    )


def _collection(
    ctx: ApiContext,
    table: Table,
    rows: Sequence[Row],
    options: QueryOptions,
    whole_table: bool = False,
) -> Response:
    annotations = Annotations.parse(ctx.prefer.annotations)
    writer = RowWriter(ctx, table, options.select, annotations=annotations, expand=options.expand)
    context = collection_context(ctx, table, options.select, options.expand)
    return _page_response(
        ctx, table, rows, options, context, writer.write, annotations, whole_table
    )


def _page_response(
    ctx: ApiContext,
    table: Table,
    rows: Sequence[Row],
    options: QueryOptions,
    context: str,
    write: Callable[[Row], dict[str, Any]],
    annotations: Annotations | None,
    whole_table: bool = False,
) -> Response:
    """One page of ``rows`` as an OData collection, with count and next link."""
    maxpagesize = ctx.prefer.maxpagesize
    fields = row_fields(catalog(ctx.store), table.logical_name)
    top = None if maxpagesize else options.top
    page = run_query(
        rows, fields, options, maxpagesize or MAX_PAGE_SIZE, top, whole_table=whole_table
    )
    matched = page.matched
    body: dict[str, Any] = {"@odata.context": context}
    if annotations is not None and annotations.total_count:
        body[f"@{TOTAL_COUNT}"] = -1 if matched is None else min(matched, MAX_COUNT)
    if annotations is not None and annotations.count_limit_exceeded:
        body[f"@{COUNT_LIMIT_EXCEEDED}"] = matched is not None and matched > MAX_COUNT
    if matched is not None:
        body["@odata.count"] = min(matched, MAX_COUNT)
    body["value"] = [write(row) for row in page.rows]
    if page.skiptoken is not None:
        body["@odata.nextLink"] = _next_link(ctx, page.skiptoken)
    return json_response(body, headers=_applied(ctx, annotations, paged=True))


def _options(ctx: ApiContext, allowed: tuple[str, ...]) -> QueryOptions:
    return parse_query(ctx.request.args.items(multi=True), allowed)


def _next_link(ctx: ApiContext, skiptoken: str) -> str:
    """The request URL as sent, with its ``$skiptoken`` replaced by the next page's."""
    request = ctx.request
    kept = [
        part
        for part in request.query_string.decode("latin-1").split("&")
        if part and unquote(part.split("=", 1)[0]) != "$skiptoken"
    ]
    kept.append("$skiptoken=" + quote(skiptoken, safe="=/"))
    return f"{request.base_url}?{'&'.join(kept)}"


def _applied(ctx: ApiContext, annotations: Annotations | None, paged: bool) -> dict[str, str]:
    """The ``Preference-Applied`` header for the preferences this answer honoured."""
    applied: list[str] = []
    if annotations is not None:
        applied.append(annotations.applied)
    if paged and ctx.prefer.maxpagesize:
        applied.append(f"odata.maxpagesize={ctx.prefer.maxpagesize}")
    return {"Preference-Applied": ",".join(applied)} if applied else {}


def _not_modified(ctx: ApiContext, row: Row) -> bool:
    header = ctx.request.headers.get("If-None-Match")
    if not header:
        return False
    return row.etag in (tag.strip() for tag in header.split(","))


def _related(ctx: ApiContext, row: Row, nav: SingleNav) -> Row | None:
    ref: Lookup | None = row.values.get(nav.column)
    if ref is None or ref.table != nav.target:
        return None
    return ctx.store.get(nav.target, ref.id)


def _children(ctx: ApiContext, parent: Row, parent_table: Table, nav: CollectionNav) -> list[Row]:
    """The rows of the navigation's table whose lookup points at ``parent``."""
    wanted = Lookup(parent_table.logical_name, parent.id)
    return [row for row in ctx.store.rows(nav.table) if row.values.get(nav.column) == wanted]

"""Create, update, upsert and delete rows; set one property; associate and disassociate.

Every handler writes inside one store transaction, so a failing check leaves nothing behind.
Deleting a row also deletes the rows that reference it through a cascade-delete relationship
and clears every other reference to it (Dataverse's default "remove link" behaviour).
The row operations (:func:`insert_row`, :func:`update_row`, :func:`upsert_row`) are shared
with the bulk actions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from plugins.core.schema import Table

from .. import errors
from ..http import empty_response, json_response
from ..odata.catalog import CollectionNav, TableInfo, catalog
from ..odata.options import QueryOptions, parse_query
from ..store import Lookup, Row
from . import customization
from .annotations import Annotations
from .context import ApiContext
from .reads import ENTITY_OPTIONS
from .representation import RowWriter, entity_context
from .resource import KeySpec, is_guid
from .values import BodyReader, Changes, check_required, resolve_target

# Characters of a key segment that stay as they are in the echoed OData-EntityId.
_KEY_SAFE = "=',-_.~:@!$&*+;"


@dataclass(frozen=True)
class Conditions:
    """``If-Match`` / ``If-None-Match: *`` of a write request."""

    if_match: tuple[str, ...] = ()
    create_only: bool = False

    @classmethod
    def of(cls, request: Request) -> Conditions:
        """Read the headers; ``If-None-Match: null`` (sent by most clients) means nothing."""
        raw = request.headers.get("If-Match", "")
        tags = tuple(t.strip() for t in raw.split(",") if t.strip())
        none_match = request.headers.get("If-None-Match", "").strip()
        return cls(tags, none_match == "*")

    @property
    def update_only(self) -> bool:
        return bool(self.if_match)

    def check(self, row: Row) -> None:
        """412 when ``If-Match`` names a version the row no longer has."""
        if not self.if_match or "*" in self.if_match:
            return
        current = str(row.version)
        if not any(t.removeprefix("W/").strip('"') == current for t in self.if_match):
            raise errors.etag_mismatch()


# --------------------------------------------------------------------------- handlers


def create(ctx: ApiContext, table: Table) -> Response:
    """``POST <set>``: 204 + ``OData-EntityId``, or 201 + the row with representation."""
    body = object_body(ctx)
    representation = _Representation.of(ctx, table, expand=True)
    solution = customization.solution_for(ctx)
    with ctx.store.transaction(ctx.caller):
        changes = BodyReader(ctx, table).read(body)
        customization.check_create(ctx, table, changes.values)
        row = insert_row(ctx, table, changes)
        customization.record_created(ctx, table, row, solution)
    if representation is not None:
        return representation.response(row, 201, etag_header=False)
    return empty_response(204, {"OData-EntityId": ctx.entity_url(table, row.id)})


def patch(ctx: ApiContext, table: Table, key: KeySpec) -> Response:
    """``PATCH <set>(<key>)``: upsert by default, update-only with ``If-Match``,
    create-only with ``If-None-Match: *``."""
    body = object_body(ctx)
    # Dataverse ignores $expand when an update returns the row.
    representation = _Representation.of(ctx, table, expand=False)
    with ctx.store.transaction(ctx.caller):
        row, created = upsert_row(ctx, table, key, body, Conditions.of(ctx.request))
    if representation is not None:
        return representation.response(row, 201 if created else 200, etag_header=True)
    entity_id = f"{ctx.service_root}{table.entity_set}({quote(key.text(), safe=_KEY_SAFE)})"
    return empty_response(204, {"OData-EntityId": entity_id})


def delete_row(ctx: ApiContext, table: Table, key: KeySpec) -> Response:
    """``DELETE <set>(<key>)``: 204, 404 when absent, 412 when ``If-Match`` is stale."""
    conditions = Conditions.of(ctx.request)
    with ctx.store.transaction(ctx.caller):
        row = ctx.require(table, key)
        conditions.check(row)
        delete_cascading(ctx, table, row)
    return empty_response(204)


def put_property(ctx: ApiContext, table: Table, key: KeySpec, prop: str) -> Response:
    """``PUT <set>(<key>)/<column>`` with ``{"value": ...}``."""
    body = object_body(ctx)
    if "value" not in body:
        raise errors.malformed_json("the body needs a 'value' property")
    return _set_property(ctx, table, key, prop, body["value"])


def delete_property(ctx: ApiContext, table: Table, key: KeySpec, prop: str) -> Response:
    """``DELETE <set>(<key>)/<column>``: clears the column."""
    return _set_property(ctx, table, key, prop, None)


def add_ref(ctx: ApiContext, table: Table, key: KeySpec, prop: str) -> Response:
    """``POST <set>(<key>)/<collection nav>/$ref``: point the related row's lookup here."""
    info = catalog(ctx.store).info(table.logical_name)
    nav = info.collection_navs.get(prop)
    if nav is None:
        raise _wrong_nav(ctx, info, prop)
    url = _odata_id(ctx)
    with ctx.store.transaction(ctx.caller):
        row = ctx.require(table, key)
        related_table, related = resolve_target(ctx, prop, url, {nav.table})
        update_row(
            ctx, related_table, related, Changes({nav.column: Lookup(table.logical_name, row.id)})
        )
    return empty_response(204)


def put_ref(ctx: ApiContext, table: Table, key: KeySpec, prop: str) -> Response:
    """``PUT <set>(<key>)/<single nav>/$ref``: set this row's lookup."""
    info = catalog(ctx.store).info(table.logical_name)
    nav = info.single_navs.get(prop)
    if nav is None:
        raise _wrong_nav(ctx, info, prop)
    url = _odata_id(ctx)
    with ctx.store.transaction(ctx.caller):
        row = ctx.require(table, key)
        _, related = resolve_target(ctx, prop, url, {nav.target})
        update_row(ctx, table, row, Changes({nav.column: Lookup(nav.target, related.id)}))
    return empty_response(204)


def delete_ref(
    ctx: ApiContext, table: Table, key: KeySpec, prop: str, nav_key: KeySpec | None
) -> Response:
    """``DELETE .../<single nav>/$ref``, ``.../<collection nav>(<id>)/$ref`` or
    ``.../<collection nav>/$ref?$id=<url>``: remove the link."""
    info = catalog(ctx.store).info(table.logical_name)
    single = info.single_navs.get(prop)
    collection = info.collection_navs.get(prop)
    if single is None and collection is None:
        raise errors.unknown_segment(prop)
    with ctx.store.transaction(ctx.caller):
        row = ctx.require(table, key)
        if single is not None:
            current = row.values.get(single.column)
            if isinstance(current, Lookup) and current.table == single.target:
                update_row(ctx, table, row, Changes({single.column: None}))
        elif collection is not None:
            related = _related_row(ctx, collection, nav_key)
            if related.values.get(collection.column) == Lookup(table.logical_name, row.id):
                referencing = ctx.store.table(collection.table)
                update_row(ctx, referencing, related, Changes({collection.column: None}))
    return empty_response(204)


# ------------------------------------------------------------------ row operations


def object_body(ctx: ApiContext) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise errors.malformed_json("the body must be a JSON object")
    return body


def insert_row(ctx: ApiContext, table: Table, changes: Changes, row_id: str | None = None) -> Row:
    """Create a row from checked changes, point the linked rows at it, and create the
    related rows of a deep insert."""
    check_required(table, changes.values, creating=True)
    row = ctx.store.insert(table.logical_name, changes.values, row_id)
    _apply_links(ctx, table, row.id, changes)
    for nested in changes.nested:
        nested.changes.values[nested.column] = Lookup(table.logical_name, row.id)
        insert_row(ctx, nested.table, nested.changes)
    return row


def update_row(ctx: ApiContext, table: Table, row: Row, changes: Changes) -> Row:
    """Apply checked changes to an existing row (always a new row version)."""
    if changes.nested:
        # Dataverse creates related rows only with a new row; an update cannot (no deep update).
        raise errors.bad_request(
            "Deep insert is only supported when creating a row.", code="0x80048d19"
        )
    check_required(table, changes.values, creating=False)
    updated = ctx.store.update(table.logical_name, row.id, changes.values)
    _apply_links(ctx, table, row.id, changes)
    return updated


def upsert_row(
    ctx: ApiContext,
    table: Table,
    key: KeySpec,
    body: dict[str, Any],
    conditions: Conditions | None = None,
) -> tuple[Row, bool]:
    """Update the row ``key`` names or create it; returns the row and whether it was created.

    On update the body's values for the URL's key columns are dropped; on create they win
    over the URL's, which fill in the columns the body leaves out.
    """
    conditions = conditions or Conditions()
    reader = BodyReader(ctx, table)
    existing = ctx.require(table, key) if conditions.update_only else ctx.resolve(table, key)
    primary = is_primary_key(table, key)
    if existing is None:
        if primary:
            row_id = key.guid or str(key.parts[table.primary_id])
            if not is_guid(row_id):
                raise errors.invalid_key(table.logical_name)
            return insert_row(ctx, table, reader.read(body), row_id=row_id), True
        return insert_row(ctx, table, reader.read({**key.parts, **body})), True
    if conditions.create_only:
        raise errors.already_exists()
    conditions.check(existing)
    key_columns = {table.primary_id} if primary else set(key.parts)
    kept = {name: value for name, value in body.items() if name not in key_columns}
    changes = reader.read(kept)
    customization.check_create(ctx, table, {**existing.values, **changes.values})
    return update_row(ctx, table, existing, changes), False


def is_primary_key(table: Table, key: KeySpec) -> bool:
    """Whether ``key`` addresses a row by its primary key (bare or named)."""
    return key.guid is not None or set(key.parts) == {table.primary_id}


def delete_cascading(
    ctx: ApiContext, table: Table, row: Row, visited: set[tuple[str, str]] | None = None
) -> None:
    """Delete ``row``: cascade to referencing rows where the relationship says so, else
    clear their lookup."""
    visited = set() if visited is None else visited
    visited.add((table.logical_name, row.id))
    pointer = Lookup(table.logical_name, row.id)
    for nav in catalog(ctx.store).info(table.logical_name).collection_navs.values():
        referencing = nav.table
        targets = ctx.store.table(referencing).columns[nav.column].targets or {}
        cascade = targets[table.logical_name].cascade_delete
        for candidate in ctx.store.rows(referencing):
            # Earlier cascades in this loop may have changed or removed the row since the copy.
            other = ctx.store.get(referencing, candidate.id)
            if other is None or (referencing, other.id) in visited:
                continue
            if other.values.get(nav.column) != pointer:
                continue
            if cascade:
                delete_cascading(ctx, ctx.store.table(referencing), other, visited)
            else:
                ctx.store.update(referencing, other.id, {nav.column: None})
    ctx.store.delete(table.logical_name, row.id)


# -------------------------------------------------------------------------- helpers


def _set_property(ctx: ApiContext, table: Table, key: KeySpec, prop: str, value: Any) -> Response:
    reader = BodyReader(ctx, table)
    if prop not in table.columns and prop not in reader.single_navs:
        raise errors.unknown_segment(prop)
    with ctx.store.transaction(ctx.caller):
        row = ctx.require(table, key)
        update_row(ctx, table, row, reader.read({prop: value}))
    return empty_response(204)


def _apply_links(ctx: ApiContext, table: Table, row_id: str, changes: Changes) -> None:
    for link in changes.links:
        ctx.store.update(
            link.table.logical_name, link.row_id, {link.column: Lookup(table.logical_name, row_id)}
        )


def _related_row(ctx: ApiContext, nav: CollectionNav, nav_key: KeySpec | None) -> Row:
    if nav_key is not None:
        return ctx.require(ctx.store.table(nav.table), nav_key)
    url = ctx.request.args.get("$id")
    if not url:
        raise errors.bad_request(
            "Removing a link from a collection-valued navigation property needs the related "
            "row's key in the URL or a '$id' query option.",
            code="0x0",
        )
    _, related = resolve_target(ctx, "$id", url, {nav.table})
    return related


def _odata_id(ctx: ApiContext) -> str:
    body = object_body(ctx)
    url = body.get("@odata.id")
    if not isinstance(url, str) or not url:
        raise errors.malformed_json("the body needs an '@odata.id' entity URL")
    return url


def _wrong_nav(ctx: ApiContext, info: TableInfo, prop: str) -> errors.ODataError:
    if prop in info.single_navs or prop in info.collection_navs:
        return errors.method_not_allowed(ctx.request.method, ctx.request.url)
    return errors.unknown_segment(prop)


@dataclass(frozen=True)
class _Representation:
    """The row a write answers with under ``Prefer: return=representation``; prepared
    before writing so that a bad ``$select`` or ``$expand`` writes nothing."""

    ctx: ApiContext
    table: Table
    options: QueryOptions
    annotations: Annotations | None
    writer: RowWriter

    @classmethod
    def of(cls, ctx: ApiContext, table: Table, *, expand: bool) -> _Representation | None:
        if not ctx.prefer.return_representation:
            return None
        options = parse_query(ctx.request.args.items(multi=True), ENTITY_OPTIONS)
        if not expand:
            options = replace(options, expand=())
        annotations = Annotations.parse(ctx.prefer.annotations)
        writer = RowWriter(
            ctx, table, options.select, annotations=annotations, expand=options.expand
        )
        return cls(ctx, table, options, annotations, writer)

    def response(self, row: Row, status: int, *, etag_header: bool) -> Response:
        # Read again after commit: synchronous steps may have changed the row.
        current = self.ctx.store.get(self.table.logical_name, row.id) or row
        context = entity_context(self.ctx, self.table, self.options.select, self.options.expand)
        body = {"@odata.context": context, **self.writer.write(current)}
        applied = ["return=representation"]
        if self.annotations is not None:
            applied.append(self.annotations.applied)
        headers = {"Preference-Applied": ",".join(applied)}
        if etag_header:
            headers["ETag"] = current.etag
        return json_response(body, status, headers)

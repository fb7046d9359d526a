"""From a Web API JSON body to the values the store keeps, checked the way Dataverse checks.

:class:`BodyReader` validates each property against its column type (length, choices, number
ranges, datetime forms) and turns ``<nav>@odata.bind`` references into
:class:`~sandbox.store.Lookup` values, using the navigation properties of the OData catalog.
:func:`parse_reference` and :func:`resolve_reference` read entity URLs such as
``/contacts(<guid>)``, ``contacts(mp_nationalid='1990')`` or an absolute URL. An array of
objects under a collection-valued navigation property is a deep insert: the related rows are
created with the new row (``email_activity_parties`` on an e-mail is the common case).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from plugins.core.schema import Column, Table

from .. import errors
from ..odata.catalog import catalog
from ..store import Lookup, Row
from .context import API_PATH, ApiContext
from .resource import KeySpec, PathError, is_guid, parse_resource

OWNER_COLUMN = "ownerid"
_INT32 = (-2_147_483_648, 2_147_483_647)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EDM = {
    "uniqueidentifier": "Guid",
    "string": "String",
    "memo": "String",
    "integer": "Int32",
    "bigint": "Int64",
    "decimal": "Decimal",
    "money": "Decimal",
    "float": "Double",
    "boolean": "Boolean",
    "datetime": "DateTimeOffset",
    "date": "Date",
    "choice": "Int32",
    "multichoice": "String",
    "state": "Int32",
    "status": "Int32",
}


@dataclass(frozen=True)
class Link:
    """A row of another table whose lookup must point at the row being written."""

    table: Table
    column: str
    row_id: str


@dataclass
class Changes:
    """What a body asks for: column values for the row itself, links from other rows, and
    related rows to create with it (deep insert)."""

    values: dict[str, Any] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    nested: list[NestedRow] = field(default_factory=list)


@dataclass(frozen=True)
class NestedRow:
    """A related row of a deep insert; its lookup ``column`` will point at the new row."""

    table: Table
    column: str
    changes: Changes


def parse_reference(ctx: ApiContext, url: str) -> tuple[Table, KeySpec]:
    """The table and key an entity URL names; absolute or relative, with or without ``/``."""
    path = unquote(urlsplit(url).path if "://" in url else url.split("?", 1)[0])
    if API_PATH in path:
        path = path.split(API_PATH, 1)[1]
    try:
        resource = parse_resource(path.lstrip("/"))
    except PathError as exc:
        raise _bad_reference() from exc
    table = ctx.store.schema.by_entity_set(resource.name)
    if table is None or resource.key is None or resource.segments or resource.ref:
        raise _bad_reference()
    return table, resource.key


def resolve_reference(ctx: ApiContext, url: str) -> tuple[Table, Row]:
    """The existing row an entity URL names, or Dataverse's not-found error."""
    table, key = parse_reference(ctx, url)
    return table, ctx.require(table, key)


def check_required(table: Table, values: dict[str, Any], *, creating: bool) -> None:
    """Refuse a create without, or an update that empties, a system-required column."""
    for name, column in table.columns.items():
        if not column.required or column.readonly:
            continue
        if (creating or name in values) and values.get(name) in (None, ""):
            # Dataverse answers "Attribute '<name>' cannot be NULL" for a missing
            # SystemRequired column. The code is UNVERIFIED; 0x80040203 is InvalidArgument,
            # the code of the platform's other argument-null failures.
            raise errors.bad_request(f"Attribute '{name}' cannot be NULL", code="0x80040203")


class BodyReader:
    """Converts request bodies for one table into :class:`Changes`."""

    def __init__(self, ctx: ApiContext, table: Table) -> None:
        self.ctx = ctx
        self.table = table
        info = catalog(ctx.store).info(table.logical_name)
        self.single_navs = info.single_navs
        self.collection_navs = info.collection_navs

    def read(self, body: dict[str, Any]) -> Changes:
        """The checked changes a JSON object asks for; read-only columns are ignored."""
        changes = Changes()
        for name, value in body.items():
            if name.startswith("@"):
                continue
            prop, at, annotation = name.partition("@")
            if at:
                if annotation == "odata.bind":
                    self._bind(prop, value, changes)
                continue
            self._property(name, value, changes)
        return changes

    def _property(self, name: str, value: Any, changes: Changes) -> None:
        nav = self.single_navs.get(name)
        if nav is not None:
            if isinstance(value, dict):
                raise _deep_insert(name)
            if value is not None:
                raise _entity_reference_update()
            changes.values[nav.column] = None
            return
        if name in self.collection_navs:
            self._nested(name, value, changes)
            return
        column = self.table.columns.get(name)
        if column is None:
            if name.startswith("_") and name.endswith("_value"):
                raise _entity_reference_update()
            raise errors.unknown_property(name, self.table.logical_name)
        if column.type == "lookup":
            raise _entity_reference_update()
        if column.readonly:
            return
        changes.values[name] = self.convert(name, column, value)

    def _nested(self, name: str, value: Any, changes: Changes) -> None:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise errors.malformed_json(f"'{name}' takes an array of objects (deep insert)")
        nav = self.collection_navs[name]
        related = self.ctx.store.table(nav.table)
        reader = BodyReader(self.ctx, related)
        changes.nested.extend(NestedRow(related, nav.column, reader.read(item)) for item in value)

    def _bind(self, prop: str, value: Any, changes: Changes) -> None:
        nav = self.single_navs.get(prop)
        if nav is not None:
            changes.values[nav.column] = self._lookup(prop, value, {nav.target})
            return
        collection = self.collection_navs.get(prop)
        if collection is not None:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise errors.malformed_json(f"'{prop}@odata.bind' needs an array of entity URLs")
            for url in value:
                table, row = resolve_target(self.ctx, prop, url, {collection.table})
                changes.links.append(Link(table, collection.column, row.id))
            return
        owner = self.table.columns.get(OWNER_COLUMN) if prop == OWNER_COLUMN else None
        if owner is not None and owner.targets:
            changes.values[OWNER_COLUMN] = self._lookup(prop, value, set(owner.targets))
            return
        raise errors.bad_bind(prop)

    def _lookup(self, prop: str, value: Any, targets: set[str]) -> Lookup | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise errors.malformed_json(f"'{prop}@odata.bind' needs an entity URL")
        table, row = resolve_target(self.ctx, prop, value, targets)
        return Lookup(table.logical_name, row.id)

    def convert(self, name: str, column: Column, value: Any) -> Any:
        """One property value in its stored form, or Dataverse's 400."""
        if value is None:
            return None
        return _CONVERTERS[column.type](self, name, column, value)

    # ------------------------------------------------------------ per type

    def _text(self, name: str, column: Column, value: Any) -> str:
        text = _typed(value, str, column)
        if column.max_length is not None and len(text) > column.max_length:
            raise errors.validation(
                f"A validation error occurred.  The length of the '{name}' attribute of the "
                f"'{self.table.logical_name}' entity exceeded the maximum allowed length of "
                f"'{column.max_length}'."
            )
        return text

    def _guid(self, name: str, column: Column, value: Any) -> str:
        text = _typed(value, str, column)
        if not is_guid(text):
            raise _conversion(column)
        return text.lower()

    def _integer(self, name: str, column: Column, value: Any) -> int:
        number = _integral(value, column)
        if column.type == "integer" and not _INT32[0] <= number <= _INT32[1]:
            raise self._out_of_range(name, number)
        return number

    def _number(self, name: str, column: Column, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _conversion(column)
        return value

    def _boolean(self, name: str, column: Column, value: Any) -> bool:
        return _typed(value, bool, column)

    def _datetime(self, name: str, column: Column, value: Any) -> str:
        text = _typed(value, str, column)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise _conversion(column) from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _date(self, name: str, column: Column, value: Any) -> str:
        text = _typed(value, str, column)
        if not _DATE.match(text):
            raise _conversion(column)
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise _conversion(column) from exc

    def _choice(self, name: str, column: Column, value: Any) -> int:
        number = _integral(value, column)
        options = self._options(column)
        if number not in options:
            raise self._out_of_range(name, number, options)
        return number

    def _multichoice(self, name: str, column: Column, value: Any) -> str | None:
        text = _typed(value, str, column)
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            return None
        options = self._options(column)
        numbers: list[int] = []
        for item in items:
            if not re.fullmatch(r"-?\d+", item):
                raise _conversion(column)
            number = int(item)
            if number not in options:
                raise self._out_of_range(name, number, options)
            numbers.append(number)
        return ",".join(str(n) for n in numbers)

    def _options(self, column: Column) -> list[int]:
        return list(self.ctx.store.schema.choices[column.choices or ""].options)

    def _out_of_range(
        self, name: str, number: int, options: list[int] | None = None
    ) -> errors.ODataError:
        # Dataverse's validation wording for option sets and whole numbers; the code is
        # the general validation code (0x80044331), UNVERIFIED for this case.
        accepted = f" Accepted Values: {','.join(str(o) for o in options)}" if options else ""
        return errors.validation(
            f"A validation error occurred. The value {number} of '{name}' on record of type "
            f"'{self.table.logical_name}' is outside the valid range.{accepted}"
        )


Converter = Callable[[BodyReader, str, Column, Any], Any]

_CONVERTERS: dict[str, Converter] = {
    "uniqueidentifier": BodyReader._guid,
    "string": BodyReader._text,
    "memo": BodyReader._text,
    "integer": BodyReader._integer,
    "bigint": BodyReader._integer,
    "decimal": BodyReader._number,
    "money": BodyReader._number,
    "float": BodyReader._number,
    "boolean": BodyReader._boolean,
    "datetime": BodyReader._datetime,
    "date": BodyReader._date,
    "choice": BodyReader._choice,
    "state": BodyReader._choice,
    "status": BodyReader._choice,
    "multichoice": BodyReader._multichoice,
}


def _typed(value: Any, kind: type, column: Column) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _conversion(column)
    return value


def _integral(value: Any, column: Column) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _conversion(column)
    if isinstance(value, float) and not value.is_integer():
        raise _conversion(column)
    return int(value)


def resolve_target(
    ctx: ApiContext, prop: str, url: str, targets: set[str]
) -> tuple[Table, Row]:
    """The existing row an entity URL names (as :func:`resolve_reference`), refused when its
    table is not one of ``targets``, the tables the navigation property ``prop`` points at."""
    table, row = resolve_reference(ctx, url)
    if table.logical_name not in targets:
        raise errors.bad_request(
            f"The entity set '{table.entity_set}' is not a valid target of the navigation "
            f"property '{prop}'.",
            code="0x80048d19",
        )
    return table, row


def _conversion(column: Column) -> errors.ODataError:
    # The OData reader's wording; it names the type, not the value, which may be personal.
    return errors.bad_request(
        f"Cannot convert a primitive value to the expected type 'Edm.{_EDM[column.type]}'. "
        "See the inner exception for more details.",
        code="0x0",
    )


def _bad_reference() -> errors.ODataError:
    return errors.malformed_json("an entity reference does not name a row of an entity set")


def _entity_reference_update() -> errors.ODataError:
    return errors.bad_request(
        "CRM do not support direct update of Entity Reference properties, Use Navigation "
        "properties instead.",
        code="0x80060888",
    )


def _deep_insert(name: str) -> errors.ODataError:
    return errors.bad_request(
        f"The sandbox does not support deep insert through the navigation property '{name}'; "
        "use '<nav>@odata.bind' to reference an existing row.",
        code="0x80048d19",
    )

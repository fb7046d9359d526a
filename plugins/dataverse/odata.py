"""OData v4 text as Dataverse's Web API reads it: literals, keys, binds, query options.

Every URL and every literal the client sends is built here, so quoting is done once and
right: strings are single-quoted with inner quotes doubled (``'O''Bryan'``), GUIDs, numbers,
booleans, dates and datetimes are bare, and whatever reaches a URL is percent-encoded.
Column, table and navigation names are checked to be plain identifiers, so a value can never
be smuggled in as a name.

Pure: no I/O.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
_ENTITY_URL = re.compile(r"(?:^|/)(?P<set>[A-Za-z_][A-Za-z0-9_]*)\((?P<key>[^()]*)\)/?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

# Characters left readable in a URL: OData's own punctuation. Everything else (spaces, '&',
# '#', '%', '?', non-ASCII) is percent-encoded so a value cannot end a segment or a parameter.
_URL_SAFE = "'(),=:$*@;/-._~!"

Key = str | uuid.UUID | Mapping[str, Any]
"""A row address: its GUID, or ``{column: value}`` naming the primary or an alternate key."""


def identifier(name: str) -> str:
    """``name`` if it is a plain OData identifier (table, column, navigation), else ValueError."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"not an OData identifier: {name!r}")
    return name


def property_path(name: str) -> str:
    """A column, or a ``navigation/column`` path as ``$filter`` and ``$orderby`` allow."""
    if not isinstance(name, str) or not _PATH_IDENTIFIER.match(name):
        raise ValueError(f"not an OData property path: {name!r}")
    return name


def guid(value: str | uuid.UUID) -> str:
    """The canonical lower-case text of a GUID; ValueError when ``value`` is not one."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and _GUID.match(value):
        return value.lower()
    raise ValueError(f"not a GUID: {value!r}")


def literal(value: Any) -> str:
    """The OData literal for a Python value.

    ``None`` -> ``null``; ``bool`` -> ``true``/``false``; ``int``/``float``/``Decimal`` ->
    the number; ``uuid.UUID`` -> the bare GUID; ``datetime`` -> ISO-8601 UTC with ``Z``
    (a naive datetime is taken as UTC); ``date`` -> ``YYYY-MM-DD``; ``str`` -> quoted, inner
    quotes doubled. A GUID held in a ``str`` stays a string literal: pass a ``uuid.UUID`` (or
    use :func:`guid`-checked keys) where the column is a GUID.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no OData literal for {value!r}")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"no OData literal for {value!r}")
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
        return text.replace(".000+00:00", "Z").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no OData literal for a {type(value).__name__}")


def json_default(value: Any) -> Any:
    """JSON for values ``json`` cannot write, as the Web API expects them in a body.

    ``datetime`` -> ISO-8601 UTC text (naive = UTC), ``date`` -> ``YYYY-MM-DD``,
    ``uuid.UUID`` -> its text, ``Decimal`` -> a number (via float).
    """
    if isinstance(value, datetime | date | uuid.UUID):
        return literal(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def key_segment(key: Key) -> str:
    """What goes between the parentheses of an entity URL.

    A GUID gives ``<guid>``; a mapping gives ``column=literal`` parts joined by commas
    (``mp_nationalid='19900101-1234'``, ``firstname='Joe',emailaddress1='a@b.se'``).
    """
    if isinstance(key, str | uuid.UUID):
        return guid(key)
    if not key:
        raise ValueError("an alternate key needs at least one column")
    return ",".join(f"{identifier(column)}={literal(value)}" for column, value in key.items())


def entity_path(entity_set: str, key: Key) -> str:
    """The relative, percent-encoded URL of one row: ``contacts(<guid>)``."""
    return encode_path(f"{identifier(entity_set)}({key_segment(key)})")


def encode_path(path: str) -> str:
    """Percent-encode a relative path built by these helpers (OData punctuation kept)."""
    return quote(path, safe=_URL_SAFE)


def bind(entity_set: str, key: Key) -> str:
    """The value of ``<nav>@odata.bind`` for a row: ``/contacts(<guid>)``."""
    return "/" + entity_path(entity_set, key)


def entity_id_from_url(url: str) -> str | None:
    """The GUID in an ``OData-EntityId``/``Location`` URL (``.../contacts(<guid>)``).

    Upserts by alternate key may echo the key form (``contacts(mp_nationalid='1')``) instead;
    also ``contacts(contactid=<guid>)``. Returns None when the URL names no GUID.
    """
    match = _ENTITY_URL.search(url.strip())
    if match is None:
        return None
    key = match.group("key")
    if _GUID.match(key):
        return key.lower()
    name, _, value = key.partition("=")
    if value and "," not in key and _GUID.match(value) and _IDENTIFIER.match(name):
        return value.lower()
    return None


@dataclass(frozen=True)
class Filter:
    """A ``$filter`` expression built from these helpers; combine with ``&``, ``|`` and ``~``."""

    text: str

    def __and__(self, other: Filter) -> Filter:
        return and_(self, other)

    def __or__(self, other: Filter) -> Filter:
        return or_(self, other)

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text


def _compare(operator: str, column: str, value: Any) -> Filter:
    return Filter(f"{property_path(column)} {operator} {literal(value)}")


def eq(column: str, value: Any) -> Filter:
    """``column eq value`` (``eq null`` for None)."""
    return _compare("eq", column, value)


def ne(column: str, value: Any) -> Filter:
    """``column ne value``."""
    return _compare("ne", column, value)


def gt(column: str, value: Any) -> Filter:
    """``column gt value``."""
    return _compare("gt", column, value)


def ge(column: str, value: Any) -> Filter:
    """``column ge value``."""
    return _compare("ge", column, value)


def lt(column: str, value: Any) -> Filter:
    """``column lt value``."""
    return _compare("lt", column, value)


def le(column: str, value: Any) -> Filter:
    """``column le value``."""
    return _compare("le", column, value)


def _join(operator: str, clauses: Sequence[Filter]) -> Filter:
    if not clauses:
        raise ValueError(f"'{operator}' needs at least one clause")
    if len(clauses) == 1:
        return clauses[0]
    return Filter(f" {operator} ".join(f"({c.text})" for c in clauses))


def and_(*clauses: Filter) -> Filter:
    """All clauses, each parenthesised."""
    return _join("and", clauses)


def or_(*clauses: Filter) -> Filter:
    """Any of the clauses, each parenthesised."""
    return _join("or", clauses)


def in_(column: str, values: Iterable[Any]) -> Filter:
    """``column`` equals one of ``values`` (an ``or`` of ``eq``, which every OData server reads)."""
    items = list(values)
    if not items:
        raise ValueError(f"'in' on {column!r} needs at least one value")
    return or_(*(eq(column, v) for v in items))


def contain_values(column: str, values: Iterable[int], *, contain: bool = True) -> Filter:
    """Dataverse's ``ContainValues`` (any of ``values`` chosen) on a multi-select column, or
    ``DoesNotContainValues`` (none of them) with ``contain=False``."""
    items = ",".join(literal(str(v)) for v in values)
    if not items:
        raise ValueError(f"a multi-select condition on {column!r} needs at least one value")
    function = "ContainValues" if contain else "DoesNotContainValues"
    return Filter(
        f"Microsoft.Dynamics.CRM.{function}(PropertyName={literal(column)},PropertyValues=[{items}])"
    )


def escape_wildcards(text: str) -> str:
    """Make ``%``, ``_`` and ``[`` match themselves in Dataverse's string functions.

    Dataverse treats them as SQL ``LIKE`` wildcards inside ``contains``/``startswith``/
    ``endswith``; a bracketed character matches literally.
    """
    return re.sub(r"([%_\[])", r"[\1]", text)


def _string_function(name: str, column: str, text: str) -> Filter:
    if not isinstance(text, str):
        raise TypeError(f"{name} compares text, not a {type(text).__name__}")
    return Filter(f"{name}({property_path(column)},{literal(escape_wildcards(text))})")


def contains(column: str, text: str) -> Filter:
    """``contains(column,'text')`` with ``text`` matched literally."""
    return _string_function("contains", column, text)


def startswith(column: str, text: str) -> Filter:
    """``startswith(column,'text')`` with ``text`` matched literally."""
    return _string_function("startswith", column, text)


def endswith(column: str, text: str) -> Filter:
    """``endswith(column,'text')`` with ``text`` matched literally."""
    return _string_function("endswith", column, text)


@dataclass(frozen=True)
class OrderBy:
    """One ``$orderby`` item."""

    column: str
    descending: bool = False

    def text(self) -> str:
        """``column`` or ``column desc``."""
        return property_path(self.column) + (" desc" if self.descending else "")


def asc(column: str) -> OrderBy:
    """Order by ``column`` ascending."""
    return OrderBy(column)


def desc(column: str) -> OrderBy:
    """Order by ``column`` descending."""
    return OrderBy(column, descending=True)


@dataclass(frozen=True)
class Expand:
    """One ``$expand`` item, with the nested options Dataverse allows."""

    navigation: str
    select: Sequence[str] = ()
    filter: Filter | None = None
    orderby: Sequence[OrderBy] = ()
    top: int | None = None
    expand: Sequence[Expand] = field(default_factory=tuple)

    def text(self) -> str:
        """``nav($select=a,b;$filter=...;$orderby=...;$top=n;$expand=...)`` or just ``nav``."""
        options = _options(self.select, self.filter, self.orderby, self.top, self.expand)
        inner = ";".join(f"{name}={value}" for name, value in options)
        return identifier(self.navigation) + (f"({inner})" if inner else "")


def _options(
    select: Sequence[str],
    filter_: Filter | None,
    orderby: Sequence[OrderBy],
    top: int | None,
    expand: Sequence[Expand],
) -> list[tuple[str, str]]:
    options: list[tuple[str, str]] = []
    if select:
        options.append(("$select", ",".join(identifier(c) for c in select)))
    if filter_ is not None:
        options.append(("$filter", filter_.text))
    if orderby:
        options.append(("$orderby", ",".join(o.text() for o in orderby)))
    if top is not None:
        if top < 1:
            raise ValueError(f"$top must be positive, not {top}")
        options.append(("$top", str(top)))
    if expand:
        options.append(("$expand", ",".join(e.text() for e in expand)))
    return options


def query_string(
    *,
    select: Sequence[str] = (),
    filter: Filter | None = None,
    orderby: Sequence[OrderBy] = (),
    top: int | None = None,
    expand: Sequence[Expand] = (),
    extra: Mapping[str, str] | None = None,
) -> str:
    """The percent-encoded query string (no leading ``?``) for the given query options.

    ``extra`` adds plain parameters such as ``tag``; their values are encoded as data.
    """
    pairs = [
        f"{name}={encode_path(value)}"
        for name, value in _options(select, filter, orderby, top, expand)
    ]
    for name, value in (extra or {}).items():
        pairs.append(f"{identifier(name)}={quote(value, safe='')}")
    return "&".join(pairs)


def with_query(path: str, query: str) -> str:
    """``path?query``, or ``path`` alone when the query is empty."""
    return f"{path}?{query}" if query else path

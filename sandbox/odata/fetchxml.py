"""FetchXml, the subset the sandbox evaluates: enough for views over one table.

Supported: ``<fetch>`` (``version``, ``mapping``, ``top``, ``count``, ``distinct="false"``,
``no-lock``), one ``<entity>`` with ``<attribute>``, ``<all-attributes>``, ``<order>``
(``attribute``, ``descending``) and nested ``<filter type="and|or">`` of ``<condition>``s
with the operators in :data:`OPERATORS`. Anything else (``link-entity``, aggregates,
``alias``, other operators) is refused with a message that names it: the real Dataverse
supports it, the sandbox does not, and a silent wrong answer would be worse.

Comparisons follow Dataverse's: strings case-insensitively, choices and numbers as numbers,
date-times in UTC (the sandbox's users all have the UTC time zone, so ``today`` is the UTC
date), lookups by the id they point at; ``null`` matches a missing value.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from plugins.core.schema import Column, Table

from ..store import Lookup, Row

OPERATORS = frozenset({
    "eq", "ne", "null", "not-null", "in", "lt", "le", "gt", "ge", "like", "today",
    "olderthan-x-minutes", "olderthan-x-hours", "olderthan-x-days",
    "last-x-hours", "last-x-days",
})
_NUMERIC = {"integer", "bigint", "decimal", "money", "float", "choice", "state", "status"}
_FETCH_ATTRIBUTES = {"version", "mapping", "top", "count", "distinct", "no-lock",
                     "output-format"}
_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}

Test = Callable[[dict[str, Any], datetime], bool]


class FetchXmlError(ValueError):
    """The FetchXml is malformed, names what the table lacks, or uses what the sandbox
    does not evaluate."""


@dataclass(frozen=True)
class FetchQuery:
    """A parsed query: its table, the columns (None: all), the order and the filter."""

    entity: str
    columns: tuple[str, ...] | None
    order: tuple[tuple[str, bool], ...]
    test: Test
    top: int | None = None


def parse(text: str, tables: Callable[[str], Table | None]) -> FetchQuery:
    """Parse ``text``; ``tables`` finds a table by logical name."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FetchXmlError(f"the FetchXml is not well-formed XML: {exc}") from exc
    if root.tag != "fetch":
        raise FetchXmlError(f"the root element must be <fetch>, not <{root.tag}>")
    _only_attributes(root, _FETCH_ATTRIBUTES)
    if root.get("distinct", "false") != "false" or root.get("aggregate"):
        raise FetchXmlError("distinct and aggregate queries are not supported by the sandbox")
    entities = list(root)
    if len(entities) != 1 or entities[0].tag != "entity":
        raise FetchXmlError("<fetch> must hold exactly one <entity>")
    entity = entities[0]
    table = tables(entity.get("name", ""))
    if table is None:
        raise FetchXmlError(f"the entity '{entity.get('name')}' does not exist")
    columns: list[str] | None = []
    order: list[tuple[str, bool]] = []
    tests: list[Test] = []
    for child in entity:
        if child.tag == "attribute":
            name = _column_name(child, "name", table)
            if columns is not None:
                columns.append(name)
        elif child.tag == "all-attributes":
            columns = None
        elif child.tag == "order":
            order.append((_column_name(child, "attribute", table),
                          child.get("descending", "false") == "true"))
        elif child.tag == "filter":
            tests.append(_filter(child, table))
        else:
            raise FetchXmlError(f"<{child.tag}> is not supported by the sandbox's FetchXml")
    top = root.get("top") or root.get("count")
    return FetchQuery(
        entity=table.logical_name,
        columns=tuple(columns) if columns is not None else None,
        order=tuple(order),
        test=lambda values, now: all(test(values, now) for test in tests),
        top=int(top) if top else None,
    )


def evaluate(query: FetchQuery, rows: list[Row], now: datetime) -> list[Row]:
    """The rows the query returns, in its order (ties by id, as paging needs)."""
    kept = [row for row in rows if query.test(row.values, now)]
    kept.sort(key=lambda row: row.id)
    for column, descending in reversed(query.order):
        present = [r for r in kept if r.values.get(column) is not None]
        missing = [r for r in kept if r.values.get(column) is None]
        present.sort(key=lambda r, c=column: _sortable(r.values[c]), reverse=descending)
        # Dataverse sorts null first ascending and last descending.
        kept = present + missing if descending else missing + present
    return kept[: query.top] if query.top is not None else kept


def _filter(element: ET.Element, table: Table) -> Test:
    kind = element.get("type", "and")
    if kind not in ("and", "or"):
        raise FetchXmlError(f"filter type '{kind}' is not 'and' or 'or'")
    parts: list[Test] = []
    for child in element:
        if child.tag == "condition":
            parts.append(_condition(child, table))
        elif child.tag == "filter":
            parts.append(_filter(child, table))
        else:
            raise FetchXmlError(f"<{child.tag}> inside <filter> is not supported by the sandbox")
    if kind == "and":
        return lambda values, now: all(p(values, now) for p in parts)
    return lambda values, now: any(p(values, now) for p in parts)


def _condition(element: ET.Element, table: Table) -> Test:
    if element.get("entityname"):
        raise FetchXmlError("conditions on linked entities are not supported by the sandbox")
    name = _column_name(element, "attribute", table)
    column = table.columns[name]
    operator = element.get("operator", "")
    if operator not in OPERATORS:
        raise FetchXmlError(f"the operator '{operator}' is not supported by the sandbox")
    raw = element.get("value")
    if operator == "null":
        return lambda values, now: values.get(name) is None
    if operator == "not-null":
        return lambda values, now: values.get(name) is not None
    if operator == "today":
        return lambda values, now: _day(values.get(name)) == now.date()
    if operator == "in":
        wanted = [_typed(v.text or "", column) for v in element.findall("value")]
        return lambda values, now: _plain(values.get(name)) in wanted
    if operator.startswith(("olderthan-x-", "last-x-")):
        seconds = _amount(raw, operator) * _UNITS[operator.rsplit("-", 1)[1]]
        older = operator.startswith("olderthan")

        def relative(values: dict[str, Any], now: datetime) -> bool:
            moment = _moment(values.get(name))
            if moment is None:
                return False
            cutoff = now - timedelta(seconds=seconds)
            return moment < cutoff if older else cutoff <= moment <= now

        return relative
    if raw is None:
        raise FetchXmlError(f"the operator '{operator}' needs a value")
    wanted_value = _typed(raw, column)
    if operator == "like":
        pattern = raw.lower()
        return lambda values, now: _like(values.get(name), pattern)
    compare = {
        "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    }[operator]

    def test(values: dict[str, Any], now: datetime) -> bool:
        value = _plain(values.get(name), column)
        if value is None:
            return operator == "ne"
        return bool(compare(value, wanted_value))

    return test


def _column_name(element: ET.Element, attribute: str, table: Table) -> str:
    name = element.get(attribute)
    if element.get("alias") or element.get("aggregate") or element.get("entityname"):
        raise FetchXmlError("aliases, aggregates and linked attributes are not supported")
    if not name or name not in table.columns:
        raise FetchXmlError(f"'{table.logical_name}' has no attribute '{name}'")
    return name


def _only_attributes(element: ET.Element, allowed: set[str]) -> None:
    unknown = sorted(set(element.attrib) - allowed)
    if unknown:
        raise FetchXmlError(f"<{element.tag}> attribute(s) not supported: {', '.join(unknown)}")


def _typed(raw: str, column: Column) -> Any:
    if column.type in _NUMERIC:
        try:
            return float(raw)
        except ValueError as exc:
            raise FetchXmlError(f"'{raw}' is not a number") from exc
    if column.type == "boolean":
        return raw.lower() in ("1", "true")
    if column.type in ("datetime", "date"):
        moment = _moment(raw)
        if moment is None:
            raise FetchXmlError(f"'{raw}' is not a date")
        return moment
    if column.type in ("lookup", "uniqueidentifier"):
        return raw.strip("{}").lower()
    return raw.lower()


def _plain(value: Any, column: Column | None = None) -> Any:
    if value is None:
        return None
    if isinstance(value, Lookup):
        return value.id.lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if column is not None and column.type in ("datetime", "date"):
        return _moment(value)
    return str(value).lower()


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    moment = _moment(value)
    return moment.astimezone(UTC).date() if moment else None


def _amount(raw: str | None, operator: str) -> int:
    try:
        return int(raw or "")
    except ValueError as exc:
        raise FetchXmlError(f"the operator '{operator}' needs a whole number") from exc


def _like(value: Any, pattern: str) -> bool:
    if value is None:
        return False
    text = str(value).lower()
    parts = pattern.split("%")
    if len(parts) == 1:
        return text == pattern
    return text.startswith(parts[0]) and text.endswith(parts[-1]) and all(
        p in text for p in parts[1:-1]
    )


def _sortable(value: Any) -> Any:
    plain = _plain(value)
    moment = _moment(value) if isinstance(value, str) else None
    return moment if moment is not None else plain

"""Read the query options of a request: ``$select``, ``$filter``, ``$orderby``, ``$top``,
``$count``, ``$expand`` (with nested options) and ``$skiptoken``.

Only the syntax is checked here; property and navigation names are checked against the
table by the caller. ``$filter`` stays text until it is compiled for a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from .errors import invalid_query

MAX_EXPANSIONS = 15
TOP_LEVEL = ("$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken")
NESTED = ("$select", "$filter", "$orderby", "$top", "$expand")
_OTHER_QUERY_LANGUAGES = ("fetchXml", "savedQuery", "userQuery", "sql", "apply")


@dataclass(frozen=True)
class OrderItem:
    """One ``$orderby`` term."""

    name: str
    descending: bool = False


@dataclass(frozen=True)
class QueryOptions:
    """The query options of one request or of one ``$expand`` item."""

    select: tuple[str, ...] | None = None
    filter: str | None = None
    orderby: tuple[OrderItem, ...] = ()
    top: int | None = None
    count: bool = False
    expand: tuple[Expansion, ...] = ()
    skiptoken: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    """the options as written, for next links"""

    def query_string(self) -> str:
        """The options as a URL query string (without ``$skiptoken``)."""
        return "&".join(
            f"{name}={quote(value, safe=_SAFE)}"
            for name, value in self.pairs
            if name != "$skiptoken"
        )


@dataclass(frozen=True)
class Expansion:
    """One ``$expand`` item: ``nav``, ``nav/$ref`` or ``nav(<options>)``."""

    nav: str
    ref: bool = False
    options: QueryOptions = field(default_factory=QueryOptions)


_SAFE = "$,()'=/:*@;"


def parse_query(
    pairs: Iterable[tuple[str, str]], allowed: tuple[str, ...] = TOP_LEVEL
) -> QueryOptions:
    """The query options among a request's ``(name, value)`` pairs; ``allowed`` are those
    the resource supports (others are Dataverse's 400).

    Parameters without a ``$`` (``tag``, ``partitionId``...) are not query options and are
    left alone, except the other query languages, which the sandbox does not serve.
    """
    options = _parse(
        [
            (name, value)
            for name, value in pairs
            if name.startswith("$") or name in _OTHER_QUERY_LANGUAGES
        ],
        allowed,
    )
    if _count_expansions(options.expand) > MAX_EXPANSIONS:
        raise invalid_query(
            f"The query specifies more than {MAX_EXPANSIONS} $expand options, "
            "which is the maximum allowed."
        )
    return options


def _parse(pairs: list[tuple[str, str]], allowed: tuple[str, ...]) -> QueryOptions:
    values: dict[str, object] = {"pairs": tuple(pairs)}
    for name, value in pairs:
        if name not in allowed:
            raise invalid_query(f"The query parameter {name} is not supported.")
        if name == "$select":
            values["select"] = parse_select(value)
        elif name == "$filter":
            values["filter"] = value
        elif name == "$orderby":
            values["orderby"] = parse_orderby(value)
        elif name == "$top":
            values["top"] = parse_top(value)
        elif name == "$count":
            values["count"] = parse_count(value)
        elif name == "$expand":
            values["expand"] = parse_expand(value)
        else:
            values["skiptoken"] = value
    return QueryOptions(**values)  # type: ignore[arg-type]


def parse_select(text: str) -> tuple[str, ...] | None:
    """``a,b`` -> ``("a", "b")``; ``*`` means every column (None)."""
    names = tuple(part.strip() for part in text.split(","))
    if any(not name for name in names):
        raise invalid_query(f"Syntax error in the $select value '{text}'.")
    if names == ("*",):
        return None
    return names


def parse_orderby(text: str) -> tuple[OrderItem, ...]:
    """``name desc,createdon`` -> order items (default ascending)."""
    items: list[OrderItem] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise invalid_query(f"Syntax error in the $orderby value '{text}'.")
        items.append(OrderItem(words[0], len(words) == 2 and words[1] == "desc"))
    return tuple(items)


def parse_top(text: str) -> int:
    """A non-negative ``$top``."""
    if not text.strip().isdigit():
        raise invalid_query(
            f"Invalid value '{text}' for $top query option found. "
            "The $top query option requires a non-negative integer value."
        )
    return int(text)


def parse_count(text: str) -> bool:
    """``$count=true`` / ``false``."""
    if text not in ("true", "false"):
        raise invalid_query(
            f"'{text}' is not a valid count option. The $count query option requires "
            "'true' or 'false'."
        )
    return text == "true"


def parse_expand(text: str) -> tuple[Expansion, ...]:
    """``a($select=x;$expand=b),c/$ref`` -> expansions with their nested options."""
    expansions: list[Expansion] = []
    for item in split_top_level(text, ","):
        item = item.strip()
        name, options = item, ""
        if "(" in item:
            if not item.endswith(")"):
                raise invalid_query(f"Syntax error in the $expand value '{text}'.")
            name, options = item[: item.index("(")], item[item.index("(") + 1 : -1]
        name = name.strip()
        ref = name.endswith("/$ref")
        if ref:
            name = name[: -len("/$ref")]
        if not name or not name.replace("_", "a").isalnum():
            raise invalid_query(f"Syntax error in the $expand value '{text}'.")
        expansions.append(Expansion(name, ref, _parse(_nested_pairs(options, text), NESTED)))
    return tuple(expansions)


def _nested_pairs(options: str, text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for part in split_top_level(options, ";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip().startswith("$"):
            raise invalid_query(f"Syntax error in the $expand value '{text}'.")
        pairs.append((name.strip(), value.strip()))
    return pairs


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quotes and parentheses."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _count_expansions(expansions: tuple[Expansion, ...]) -> int:
    return sum(1 + _count_expansions(item.options.expand) for item in expansions)

"""The ``$skiptoken`` paging cookie, in Dataverse's shape.

``<cookie pagenumber="2" pagingcookie="<url-encoded inner cookie>" istracking="False" />``,
where the inner cookie names the sort position of the last row delivered::

    <cookie page="1"><lastname last="smith" first="adams" /><contactid last="{GUID}"
    first="{GUID}" /></cookie>

A sort key without a ``last`` attribute was null. Clients treat the whole thing as opaque.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

from .errors import invalid_query
from .ordering import Ordering

_OUTER = re.compile(
    r'\s*<cookie\s+pagenumber="(\d+)"\s+pagingcookie="([^"]*)"'
    r'(?:\s+istracking="(?:True|False)")?\s*/>\s*'
)


@dataclass(frozen=True)
class Cookie:
    """Where the next page starts: its number and the position it follows."""

    page: int
    after: tuple[Any, ...]


def write_cookie(
    page: int, ordering: Ordering, first: tuple[Any, ...], last: tuple[Any, ...]
) -> str:
    """The ``$skiptoken`` value (not yet URL-encoded) for page number ``page``."""
    names = [*(key.name for key in ordering.keys), ordering.primary_id]
    first = (*first[:-1], _braced(first[-1]))
    last = (*last[:-1], _braced(last[-1]))
    elements = "".join(
        f"<{name}{_attribute('last', b)}{_attribute('first', a)} />"
        for name, a, b in zip(names, first, last, strict=True)
    )
    inner = f'<cookie page="{page - 1}">{elements}</cookie>'
    return (
        f'<cookie pagenumber="{page}" pagingcookie="{quote(inner, safe="")}" istracking="False" />'
    )


def read_cookie(text: str, ordering: Ordering) -> Cookie:
    """The position a ``$skiptoken`` names; 400 when it does not fit this query."""
    match = _OUTER.fullmatch(text)
    if match is None:
        raise _malformed()
    try:
        root = ET.fromstring(unquote(match.group(2)))
    except ET.ParseError as exc:
        raise _malformed() from exc
    elements = list(root)
    kinds = [*(key.kind for key in ordering.keys), "id"]
    names = [*(key.name for key in ordering.keys), ordering.primary_id]
    if root.tag != "cookie" or [e.tag for e in elements] != names:
        raise _malformed()
    try:
        after = tuple(
            _decode(element.get("last"), kind)
            for element, kind in zip(elements, kinds, strict=True)
        )
    except ValueError as exc:
        raise _malformed() from exc
    if after[-1] is None:
        raise _malformed()
    return Cookie(int(match.group(1)), after)


def _attribute(name: str, value: Any) -> str:
    if value is None:
        return ""
    return f" {name}={quoteattr(_encode(value))}"


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _braced(row_id: str) -> str:
    """Primary keys are written the way SQL Server prints a uniqueidentifier."""
    return "{" + row_id.upper() + "}"


def _decode(text: str | None, kind: str) -> Any:
    if text is None:
        return None
    if kind == "id":
        return text.strip("{}").lower()
    if kind == "boolean":
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if kind == "number":
        return float(text) if any(c in text for c in ".eE") else int(text)
    return text


def _malformed() -> Exception:
    return invalid_query("The $skiptoken value is not a valid paging cookie.")

"""Parse a Web API resource path (everything after ``/api/data/v9.2/``).

Shapes understood::

    contacts                                   collection
    contacts(<guid>)                           row by primary key
    contacts(contactid=<guid>)                 row by named primary key
    contacts(mp_nationalid='19900101-1234')    row by alternate key (several parts allowed)
    contacts(<key>)/firstname                  one property, or a navigation property
    contacts(<key>)/Contact_Tasks/$ref         references of a navigation property
    contacts(<key>)/Contact_Tasks(<guid>)/$ref one reference
    contacts/Microsoft.Dynamics.CRM.CreateMultiple   action bound to the set
    emails(<guid>)/Microsoft.Dynamics.CRM.SendEmail  action bound to a row
    WhoAmI(), $batch, $metadata, EntityDefinitions(...)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import literals

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PathError(ValueError):
    """The path cannot be parsed; ``segment`` is the part Dataverse would name."""

    def __init__(self, segment: str, message: str | None = None) -> None:
        super().__init__(message or f"Resource not found for the segment '{segment}'.")
        self.segment = segment


@dataclass(frozen=True)
class KeySpec:
    """A row address: a bare GUID, or named parts (primary or alternate key)."""

    guid: str | None = None
    parts: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The key as it appears in a URL, e.g. ``mp_nationalid='1990'``."""
        if self.guid:
            return self.guid
        return ",".join(f"{k}={literals.format_literal(v)}" for k, v in self.parts.items())


@dataclass(frozen=True)
class Resource:
    name: str
    key: KeySpec | None = None
    call_args: str | None = None
    segments: tuple[str, ...] = ()
    ref: bool = False
    nav_key: KeySpec | None = None


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def parse_resource(path: str) -> Resource:
    """Split a decoded resource path into its parts."""
    path = path.strip("/")
    if not path:
        return Resource(name="")
    head, rest = _split_head(path)
    name, key, call_args = _parse_head(head)
    segments = [s for s in rest.split("/") if s] if rest else []
    ref = False
    nav_key: KeySpec | None = None
    if segments and segments[-1] == "$ref":
        ref = True
        segments.pop()
    if segments and "(" in segments[-1]:
        nav_name, nav_key, _ = _parse_head(segments[-1])
        segments[-1] = nav_name
    return Resource(name, key, call_args, tuple(segments), ref, nav_key)


def _split_head(path: str) -> tuple[str, str]:
    """The first segment (quotes and parentheses respected) and the remainder."""
    depth = 0
    quoted = False
    for i, ch in enumerate(path):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == "/":
            return path[:i], path[i + 1 :]
    return path, ""


def _parse_head(head: str) -> tuple[str, KeySpec | None, str | None]:
    """``name``, ``name(<key>)`` or ``Function()`` -> (name, key, call arguments)."""
    if "(" not in head:
        return head, None, None
    if not head.endswith(")"):
        raise PathError(head)
    name, inner = head.split("(", 1)
    inner = inner[:-1]
    if inner == "":
        return name, None, ""
    if is_guid(inner):
        return name, KeySpec(guid=inner.lower()), None
    if "=" not in inner:
        raise PathError(head)
    return name, KeySpec(parts=_parse_key_parts(inner, head)), None


def _parse_key_parts(inner: str, head: str) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for item in _split_commas(inner):
        if "=" not in item:
            raise PathError(head)
        column, raw = item.split("=", 1)
        try:
            parts[column.strip()] = literals.parse_literal(raw.strip())
        except ValueError as exc:
            raise PathError(head, str(exc)) from exc
    return parts


def _split_commas(text: str) -> list[str]:
    items: list[str] = []
    quoted = False
    start = 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def new_guid() -> str:
    return str(uuid.uuid4())

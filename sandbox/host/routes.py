"""HTTP trigger route templates (the ASP.NET Core subset Azure Functions apps use).

A template is ``/``-separated segments: literals (matched without regard to case, as Azure
does), ``{name}``, optional ``{name?}`` (only at the end), constrained ``{name:int}``
(``int``, ``long``, ``bool``, ``alpha``, ``guid``, ``double``, ``float``, ``decimal``) and a
final catch-all ``{*name}``. A trailing slash on the request path is ignored. When several
routes match, the most specific wins: literal before constrained before plain parameter
before optional before catch-all, segment by segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import HostError

CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"\{?[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}\}?",
    "double": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
}
PARAMETER = re.compile(r"^\{(?P<star>\*)?(?P<name>\w+)(?::(?P<constraint>\w+))?(?P<opt>\?)?\}$")
LITERAL, CONSTRAINED, PLAIN, OPTIONAL, CATCH_ALL = range(5)


@dataclass(frozen=True)
class RouteTemplate:
    """A compiled route template."""

    template: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    precedence: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        """The route values when ``path`` (relative to the route prefix) matches, else None."""
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        values = (found.group(f"p{i}") for i in range(len(self.names)))
        # An empty catch-all (``files/``) gives no value, like an absent optional one.
        return {name: value for name, value in zip(self.names, values, strict=True) if value}


def parse_route(template: str) -> RouteTemplate:
    """Compile ``template``; HostError for syntax the local host does not support."""
    segments = [s for s in template.strip("/").split("/") if s] if template.strip("/") else []
    names: list[str] = []
    parts: list[str] = []
    precedence: list[int] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        regex, rank, name = _segment(segment, len(names), last, template)
        if name is not None:
            names.append(name)
        if precedence and precedence[-1] >= OPTIONAL and rank < OPTIONAL:
            raise HostError(f"route '{template}': an optional segment must come last")
        separator = "/" if index else ""
        parts.append(f"(?:{separator}{regex})?" if rank >= OPTIONAL else f"{separator}{regex}")
        precedence.append(rank)
    pattern = re.compile("".join(parts) + "/?")
    return RouteTemplate(template, pattern, tuple(names), tuple(precedence))


def _segment(segment: str, index: int, last: bool, template: str) -> tuple[str, int, str | None]:
    if "{" not in segment and "}" not in segment:
        return f"(?i:{re.escape(segment)})", LITERAL, None
    found = PARAMETER.match(segment)
    if found is None:
        raise HostError(f"route '{template}': segment '{segment}' is not supported")
    name, constraint = found.group("name"), found.group("constraint")
    group = f"p{index}"
    if found.group("star"):
        if not last or constraint or found.group("opt"):
            raise HostError(f"route '{template}': a catch-all must be a plain last segment")
        return f"(?P<{group}>.*)", CATCH_ALL, name
    if constraint is not None and constraint.lower() not in CONSTRAINTS:
        raise HostError(f"route '{template}': constraint '{constraint}' is not supported")
    value = CONSTRAINTS[constraint.lower()] if constraint else r"[^/]+"
    if found.group("opt"):
        return f"(?P<{group}>{value})", OPTIONAL, name
    return f"(?P<{group}>{value})", CONSTRAINED if constraint else PLAIN, name

"""The ``$filter`` abstract syntax tree.

Literal kinds: ``string``, ``integer``, ``decimal``, ``boolean``, ``null``, ``guid``,
``datetime`` and ``date``; their values are the Python values (datetimes and dates keep
their text, GUIDs are lower-cased).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value (see the module docstring for the kinds)."""

    kind: str
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class ListLiteral:
    """``['1','2']`` or ``["a","b"]``, as the ``PropertyValues`` of a Dataverse function."""

    items: tuple[Literal, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Property:
    """A property path: ``firstname``, ``_parentcustomerid_value`` or ``sdkmessageid/name``."""

    path: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        """The path as written."""
        return "/".join(self.path)


@dataclass(frozen=True, slots=True)
class Compare:
    """``left <op> right`` with op one of :data:`COMPARISONS`."""

    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Logical:
    """``left and right`` / ``left or right``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    """``not operand``."""

    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    """A standard function call such as ``contains(fullname,'an')``."""

    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class CrmCall:
    """``Microsoft.Dynamics.CRM.<name>(PropertyName='x',PropertyValues=[...])``."""

    name: str
    params: dict[str, Literal | ListLiteral]
    pos: int


Node = Literal | ListLiteral | Property | Compare | Logical | Not | Call | CrmCall

"""Compile a ``$filter`` AST into one Python predicate over records.

Null semantics are SQL's: a comparison with a null column is *unknown*, and unknown rows are
not returned, also under ``not``. The compiler pushes ``not`` down to the leaves (De Morgan)
and gives every leaf a negated form that is also false on null, which makes two-valued
predicates exact. Only ``eq null`` / ``ne null`` test for null.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from . import crmfunctions
from .errors import invalid_query
from .fields import Field, Resolver
from .kinds import (
    EDM_TYPE,
    NUMERIC,
    normalize_date,
    normalize_datetime,
    normalizer,
    parse_multichoice,
)
from .lexer import GUID
from .nodes import Call, Compare, CrmCall, ListLiteral, Literal, Logical, Node, Not, Property

Predicate = Callable[[Mapping[str, Any]], bool]

NEGATED = {"eq": "ne", "ne": "eq", "gt": "le", "ge": "lt", "lt": "ge", "le": "gt"}
MIRRORED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
OPERATOR_KIND = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
STRING_FUNCTIONS = ("contains", "startswith", "endswith")
_BOOLEAN_NODES = (Compare, Logical, Not, Call, CrmCall)


def compile_filter(node: Node, resolver: Resolver) -> Predicate:
    """The predicate for ``node``; raises the Dataverse 400 for type or name errors."""
    return _Compiler(resolver).predicate(node, negate=False)


def _always(result: bool) -> Predicate:
    return lambda record: result


class _Compiler:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def predicate(self, node: Node, negate: bool) -> Predicate:
        if isinstance(node, Logical):
            left = self.predicate(node.left, negate)
            right = self.predicate(node.right, negate)
            if (node.op == "and") != negate:
                return lambda record: left(record) and right(record)
            return lambda record: left(record) or right(record)
        if isinstance(node, Not):
            return self.predicate(node.operand, not negate)
        if isinstance(node, Compare):
            return self.compare(node, negate)
        if isinstance(node, Call):
            return self.string_function(node, negate)
        if isinstance(node, CrmCall):
            return crmfunctions.compile_call(node, self.resolver, negate)
        if isinstance(node, Property):
            return self.boolean_property(node, negate)
        if isinstance(node, Literal) and node.kind == "boolean":
            return _always(node.value != negate)
        raise invalid_query("The $filter expression must evaluate to a single boolean value.")

    def boolean_property(self, node: Property, negate: bool) -> Predicate:
        field = self.resolver.field(node)
        if field.kind != "boolean":
            raise invalid_query("The $filter expression must evaluate to a single boolean value.")
        wanted = not negate
        get = field.get
        return lambda record: get(record) is wanted

    # ------------------------------------------------------------ comparisons

    def compare(self, node: Compare, negate: bool) -> Predicate:
        op = NEGATED[node.op] if negate else node.op
        left, right = node.left, node.right
        if isinstance(left, Literal) and not isinstance(right, Literal):
            left, right, op = right, left, MIRRORED[op]
        if isinstance(left, _BOOLEAN_NODES):
            return self.compare_boolean_expression(left, op, right, node)
        if isinstance(left, Literal) and isinstance(right, Literal):
            return _always(_constant(left, op, right, node))
        if not isinstance(left, Property) or isinstance(right, ListLiteral):
            raise invalid_query(f"The comparison at position {node.pos} is not supported.")
        field = self.resolver.field(left)
        if isinstance(right, Property):
            return _compare_fields(field, op, self.resolver.field(right), node)
        if isinstance(right, Literal):
            return _compare_literal(field, op, right, node)
        raise invalid_query(f"The comparison at position {node.pos} is not supported.")

    def compare_boolean_expression(
        self, left: Node, op: str, right: Node, node: Compare
    ) -> Predicate:
        """``contains(a,'x') eq false`` and the like."""
        if not (isinstance(right, Literal) and right.kind == "boolean" and op in ("eq", "ne")):
            raise _incompatible("Edm.Boolean", _literal_edm(right), node)
        return self.predicate(left, negate=(op == "eq") != right.value)

    # --------------------------------------------------------- string search

    def string_function(self, node: Call, negate: bool) -> Predicate:
        if node.name not in STRING_FUNCTIONS:
            raise invalid_query(
                f"The function '{node.name}' at position {node.pos} is not supported."
            )
        if len(node.args) != 2:
            raise _no_signature(node.name)
        subject, pattern = node.args
        if not (isinstance(subject, Property) and isinstance(pattern, Literal)):
            raise _no_signature(node.name)
        field = self.resolver.field(subject)
        if field.kind != "string" or pattern.kind != "string":
            raise _no_signature(node.name)
        matches = like_matcher(node.name, pattern.value)
        get = field.get
        if negate:
            return lambda record: (value := get(record)) is not None and not matches(value)
        return lambda record: (value := get(record)) is not None and matches(value)


def like_matcher(function: str, text: str) -> Callable[[str], bool]:
    """A case-insensitive matcher for ``contains``/``startswith``/``endswith``.

    Dataverse evaluates these with SQL ``LIKE``, so ``%``, ``_``, ``[..]`` and ``[^..]`` in the
    argument are wildcards; without them a plain substring test does the job.
    """
    needle = text.casefold()
    if not re.search(r"[%_\[]", text):
        if function == "contains":
            return lambda value: needle in value.casefold()
        if function == "startswith":
            return lambda value: value.casefold().startswith(needle)
        return lambda value: value.casefold().endswith(needle)
    body = _like_to_regex(text)
    prefix = "" if function == "startswith" else ".*"
    suffix = "" if function == "endswith" else ".*"
    compiled = re.compile(prefix + body + suffix, re.IGNORECASE | re.DOTALL)
    return lambda value: compiled.fullmatch(value) is not None


def _like_to_regex(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == "[" and (end := text.find("]", index + 2)) != -1:
            inner = text[index + 1 : end]
            negated = inner.startswith("^")
            members = re.sub(r"([\\\]\[^])", r"\\\1", inner[1:] if negated else inner)
            out.append("[" + ("^" if negated else "") + members + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


# ---------------------------------------------------------------- helpers


def coerce_literal(field: Field, literal: Literal, op: str, node: Compare) -> Any:
    """The literal as a comparable value of the field's kind, or the Edm type error."""
    kind, lk, value = field.kind, literal.kind, literal.value
    try:
        if kind == "string" and lk == "string":
            return value.casefold()
        if kind in NUMERIC and lk in ("integer", "decimal"):
            return value
        if kind == "boolean" and lk == "boolean":
            return value
        if kind == "guid" and lk == "guid":
            return value
        if kind == "guid" and lk == "string":
            return _guid_text(value)
        if kind == "datetime" and lk == "datetime":
            return normalize_datetime(value)
        if kind == "datetime" and lk == "date":
            return normalize_date(value) + "T00:00:00Z"
        if kind == "date" and lk == "date":
            return normalize_date(value)
        if kind == "date" and lk == "datetime":
            return normalize_datetime(value)[:10]
        if kind == "multichoice" and lk == "string" and op in ("eq", "ne"):
            return parse_multichoice(value)
    except ValueError as exc:
        raise invalid_query(
            f"The literal {literal.value!r} at position {literal.pos} is not a valid "
            f"{EDM_TYPE[kind]} value."
        ) from exc
    raise _incompatible(EDM_TYPE[kind], _literal_edm(literal), node)


def _guid_text(text: str) -> str:
    if not GUID.fullmatch(text):
        raise ValueError(text)
    return text.lower()


def _compare_literal(field: Field, op: str, literal: Literal, node: Compare) -> Predicate:
    get, column = field.get, field.column
    if literal.kind == "null":
        if op == "eq":
            return lambda record: get(record) is None
        if op == "ne":
            return lambda record: get(record) is not None
        return _always(False)
    value = coerce_literal(field, literal, op, node)
    if column is not None and op == "eq" and field.kind in _FOLDED_EQUALITY:
        return _folded_equality(column, value, _FOLDED_EQUALITY[field.kind])
    compare = OPERATORS[op]
    norm = normalizer(field.kind)
    if norm is None and column is not None:
        if op == "eq":
            return lambda record: record.get(column) == value
        return lambda record: (x := record.get(column)) is not None and compare(x, value)
    if norm is None:
        return lambda record: (x := get(record)) is not None and compare(x, value)
    if column is not None:
        return lambda record: (x := record.get(column)) is not None and compare(norm(x), value)
    return lambda record: (x := get(record)) is not None and compare(norm(x), value)


_FOLDED_EQUALITY = {"string": str.casefold, "guid": str.lower}


def _folded_equality(column: str, value: Any, fold: Callable[[str], str]) -> Predicate:
    """The hot path of most filters: a string or GUID column equal to a literal."""
    if fold is str.casefold:
        return lambda record: type(x := record.get(column)) is str and x.casefold() == value
    return lambda record: type(x := record.get(column)) is str and x.lower() == value


def _compare_fields(left: Field, op: str, right: Field, node: Compare) -> Predicate:
    same_family = left.kind == right.kind or (left.kind in NUMERIC and right.kind in NUMERIC)
    if not same_family or (left.kind == "multichoice" and op not in ("eq", "ne")):
        raise _incompatible(EDM_TYPE[left.kind], EDM_TYPE[right.kind], node)
    compare = OPERATORS[op]
    norm = normalizer(left.kind) or (lambda value: value)
    get_left, get_right = left.get, right.get

    def both(record: Mapping[str, Any]) -> bool:
        a, b = get_left(record), get_right(record)
        return a is not None and b is not None and compare(norm(a), norm(b))

    return both


def _constant(left: Literal, op: str, right: Literal, node: Compare) -> bool:
    if left.kind == "null" or right.kind == "null":
        if op in ("eq", "ne"):
            return (left.kind == right.kind) == (op == "eq")
        return False
    numeric = left.kind in NUMERIC and right.kind in NUMERIC
    if not numeric and left.kind != right.kind:
        raise _incompatible(_literal_edm(left), _literal_edm(right), node)
    a, b = left.value, right.value
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.casefold(), b.casefold()
    return bool(OPERATORS[op](a, b))


def _literal_edm(node: Node) -> str:
    if isinstance(node, Literal):
        return EDM_TYPE[node.kind]
    return "Edm.Boolean" if isinstance(node, _BOOLEAN_NODES) else "Collection"


def _incompatible(left: str, right: str, node: Compare) -> Exception:
    return invalid_query(
        "A binary operator with incompatible types was detected. Found operand types "
        f"'{left}' and '{right}' for operator kind '{OPERATOR_KIND[node.op]}'."
    )


def _no_signature(name: str) -> Exception:
    return invalid_query(
        f"No function signature for the function with name '{name}' matches the specified "
        "arguments. The function signatures considered are: "
        f"{name}(Edm.String Nullable=true, Edm.String Nullable=true)."
    )

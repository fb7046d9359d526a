"""Dataverse's query functions in ``$filter``.

``Microsoft.Dynamics.CRM.<Name>(PropertyName='col',PropertyValue='v')`` or
``...(PropertyName='col',PropertyValues=['a','b'])``. Values are written as strings (or plain
literals) and converted to the column's kind. Dates are evaluated in UTC (the sandbox's users
all have the UTC time zone).

Null handling follows the SQL Dataverse generates: comparisons with null are unknown (never
returned, negated or not); the multi-select functions test for the existence of a value, so
``DoesNotContainValues`` returns rows without any value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import invalid_query
from .fields import Field, Resolver
from .kinds import DATES, NUMERIC, normalize_date, normalize_datetime, normalizer
from .lexer import GUID
from .nodes import CrmCall, ListLiteral, Literal, Property

Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class _Test:
    """A test on a present (normalised) value, and the answers for a null value."""

    test: Callable[[Any], bool]
    on_null: bool = False
    on_null_negated: bool = False


def compile_call(call: CrmCall, resolver: Resolver, negate: bool) -> Predicate:
    """The predicate for one ``Microsoft.Dynamics.CRM.*`` call (negated if asked)."""
    builder = _FUNCTIONS.get(call.name)
    if builder is None:
        raise invalid_query(
            f"An unknown function with name 'Microsoft.Dynamics.CRM.{call.name}' was found. "
            "This may also be a function import or a key lookup on a navigation property, "
            "which is not allowed."
        )
    field = _property(call, resolver)
    spec = builder(_Arguments(call, field))
    norm = normalizer(field.kind) or _identity
    get, test = field.get, spec.test
    if negate:
        null = spec.on_null_negated
        return lambda record: null if (x := get(record)) is None else not test(norm(x))
    null = spec.on_null
    return lambda record: null if (x := get(record)) is None else test(norm(x))


def _identity(value: Any) -> Any:
    return value


def _property(call: CrmCall, resolver: Resolver) -> Field:
    param = call.params.get("PropertyName")
    if not isinstance(param, Literal) or param.kind != "string":
        raise invalid_query(
            f"The function 'Microsoft.Dynamics.CRM.{call.name}' needs a PropertyName string."
        )
    return resolver.field(Property(tuple(param.value.split("/")), param.pos))


class _Arguments:
    """The call's values, converted to the kind of its property."""

    def __init__(self, call: CrmCall, field: Field) -> None:
        self.call = call
        self.field = field

    @property
    def kind(self) -> str:
        return self.field.kind

    def require_kind(self, kinds: Iterable[str]) -> None:
        if self.field.kind not in kinds:
            raise invalid_query(
                f"The function 'Microsoft.Dynamics.CRM.{self.call.name}' cannot be used with "
                f"the property '{self.field.name}'."
            )

    def values(self) -> list[Any]:
        param = self.call.params.get("PropertyValues")
        if not isinstance(param, ListLiteral) or not param.items:
            raise invalid_query(
                f"The function 'Microsoft.Dynamics.CRM.{self.call.name}' needs PropertyValues."
            )
        return [self.convert(item) for item in param.items]

    def value(self) -> Any:
        param = self.call.params.get("PropertyValue")
        if not isinstance(param, Literal):
            raise invalid_query(
                f"The function 'Microsoft.Dynamics.CRM.{self.call.name}' needs PropertyValue."
            )
        return self.convert(param)

    def count(self) -> int:
        param = self.call.params.get("PropertyValue")
        try:
            if isinstance(param, Literal) and param.kind in ("integer", "string"):
                return int(param.value)
        except ValueError:
            pass
        raise invalid_query(
            f"The function 'Microsoft.Dynamics.CRM.{self.call.name}' needs an integer "
            "PropertyValue."
        )

    def convert(self, literal: Literal) -> Any:
        """A parameter value as a normalised value of the property's kind."""
        try:
            return _convert(self.field.kind, literal)
        except (ValueError, TypeError) as exc:
            raise invalid_query(
                f"The value {literal.value!r} at position {literal.pos} is not valid for the "
                f"property '{self.field.name}'."
            ) from exc


def _convert(kind: str, literal: Literal) -> Any:
    value = literal.value
    if literal.kind == "null":
        raise ValueError("null")
    text = str(value) if literal.kind != "boolean" else ("true" if value else "false")
    if kind == "string":
        if literal.kind != "string":
            raise ValueError(text)
        return text.casefold()
    if kind in ("integer", "multichoice"):
        return int(text)
    if kind == "decimal":
        return float(text)
    if kind == "boolean":
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(text)
        return text.lower() in ("true", "1")
    if kind == "guid":
        if not GUID.fullmatch(text):
            raise ValueError(text)
        return text.lower()
    if kind == "datetime":
        return normalize_datetime(text)
    if kind == "date":
        return normalize_datetime(text)[:10] if "T" in text else normalize_date(text)
    raise ValueError(text)


# ------------------------------------------------------------------ functions


def _contain_values(args: _Arguments) -> _Test:
    args.require_kind(["multichoice"])
    wanted = frozenset(args.values())
    return _Test(lambda present: not wanted.isdisjoint(present), False, True)


def _does_not_contain_values(args: _Arguments) -> _Test:
    args.require_kind(["multichoice"])
    unwanted = frozenset(args.values())
    return _Test(lambda present: unwanted.isdisjoint(present), True, False)


def _in(args: _Arguments) -> _Test:
    options = frozenset(args.values())
    if args.kind == "multichoice":
        return _Test(lambda present: not options.isdisjoint(present))
    return _Test(lambda value: value in options)


def _not_in(args: _Arguments) -> _Test:
    options = frozenset(args.values())
    if args.kind == "multichoice":
        return _Test(lambda present: options.isdisjoint(present))
    return _Test(lambda value: value not in options)


def _between(args: _Arguments) -> _Test:
    args.require_kind([*NUMERIC, *DATES, "string"])
    bounds = args.values()
    if len(bounds) != 2:
        raise invalid_query("Microsoft.Dynamics.CRM.Between needs two PropertyValues.")
    low, high = bounds
    return _Test(lambda value: low <= value <= high)


def _not_between(args: _Arguments) -> _Test:
    inside = _between(args).test
    return _Test(lambda value: not inside(value))


def _day_test(compare: Callable[[str, str], bool]) -> Callable[[_Arguments], _Test]:
    def build(args: _Arguments) -> _Test:
        args.require_kind(DATES)
        day = args.value()[:10]
        return _Test(lambda value: compare(value[:10], day))

    return build


def _relative_day(offset: int) -> Callable[[_Arguments], _Test]:
    def build(args: _Arguments) -> _Test:
        args.require_kind(DATES)
        day = (_now() + timedelta(days=offset)).strftime("%Y-%m-%d")
        return _Test(lambda value: value[:10] == day)

    return build


def _last_x(unit: str) -> Callable[[_Arguments], _Test]:
    def build(args: _Arguments) -> _Test:
        args.require_kind(DATES if unit == "days" else ["datetime"])
        now = _now()
        start = now - timedelta(**{unit: args.count()})
        if unit == "days":
            start = start.replace(hour=0, minute=0, second=0)
        return _window(args.kind, start, now)

    return build


def _next_x(unit: str) -> Callable[[_Arguments], _Test]:
    def build(args: _Arguments) -> _Test:
        args.require_kind(DATES if unit == "days" else ["datetime"])
        now = _now()
        end = now + timedelta(**{unit: args.count()})
        if unit == "days":
            end = end.replace(hour=23, minute=59, second=59)
        return _window(args.kind, now, end)

    return build


def _window(kind: str, start: datetime, end: datetime) -> _Test:
    if kind == "date":
        low, high = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    else:
        low, high = start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _Test(lambda value: low <= value <= high)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


_FUNCTIONS: dict[str, Callable[[_Arguments], _Test]] = {
    "ContainValues": _contain_values,
    "DoesNotContainValues": _does_not_contain_values,
    "In": _in,
    "NotIn": _not_in,
    "Between": _between,
    "NotBetween": _not_between,
    "On": _day_test(lambda day, wanted: day == wanted),
    "NotOn": _day_test(lambda day, wanted: day != wanted),
    "OnOrAfter": _day_test(lambda day, wanted: day >= wanted),
    "OnOrBefore": _day_test(lambda day, wanted: day <= wanted),
    "Today": _relative_day(0),
    "Yesterday": _relative_day(-1),
    "Tomorrow": _relative_day(1),
    "LastXDays": _last_x("days"),
    "LastXHours": _last_x("hours"),
    "NextXDays": _next_x("days"),
    "NextXHours": _next_x("hours"),
}

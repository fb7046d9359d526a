"""Dataverse values in the form ``DataContractJsonSerializer`` gives them in a
``RemoteExecutionContext`` (pure: no I/O).

- collections (parameters, images, attributes) are arrays of ``{"key": ..., "value": ...}``;
- a value whose declared type is ``object`` (attribute values, parameter values) carries a
  leading ``"__type": "<Name>:http://schemas.microsoft.com/xrm/2011/Contracts"``;
- datetimes (date-only columns too) are ``/Date(<ms since the epoch, UTC>)/``;
- choice, state and status values are ``OptionSetValue``; a multi-select choice is a plain
  array of ``OptionSetValue``; money is ``Money``; lookups are ``EntityReference``;
- GUIDs, strings, numbers and booleans are plain JSON; ``null`` values are kept.

:func:`dumps` writes JSON the way the .NET Framework serializer does: members in the given
order, no whitespace, ``/`` escaped as ``\\/``, control characters as ``\\u00xx``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from plugins.core.schema import Column, Table

from ..store import Lookup

CONTRACTS_NAMESPACE = "http://schemas.microsoft.com/xrm/2011/Contracts"
KEY_VALUE_PAIR_TYPE = "KeyValuePairOfstringstring:#System.Collections.Generic"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OPTION_TYPES = frozenset({"choice", "state", "status"})
_DATE_TYPES = frozenset({"datetime", "date"})
_NEEDS_ESCAPE = re.compile(r'["\\/\x00-\x1f\ud800-\udfff\ufffe\uffff\U00010000-\U0010ffff]')


def contract_type(name: str) -> str:
    """The ``__type`` tag of an xrm contract type, e.g. ``Entity:http://...Contracts``."""
    return f"{name}:{CONTRACTS_NAMESPACE}"


def key_values(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    """A .NET dictionary as the serializer writes it: ``[{"key": k, "value": v}, ...]``."""
    return [{"key": key, "value": value} for key, value in pairs]


def date_literal(moment: datetime | str) -> str:
    """``/Date(<ms>)/`` for a datetime or a Web API datetime/date text (naive = UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    milliseconds = (moment - _EPOCH) // timedelta(milliseconds=1)
    return f"/Date({milliseconds})/"


def option_set_value(value: int) -> dict[str, Any]:
    """An ``OptionSetValue`` (choice, state or status)."""
    return {"__type": contract_type("OptionSetValue"), "Value": int(value)}


def money(value: float) -> dict[str, Any]:
    """A ``Money`` value."""
    return {"__type": contract_type("Money"), "Value": value}


def entity_reference(
    logical_name: str, row_id: str, name: str | None = None, *, typed: bool = True
) -> dict[str, Any]:
    """An ``EntityReference``; ``typed`` adds ``__type`` (needed where the slot is ``object``)."""
    reference: dict[str, Any] = {"__type": contract_type("EntityReference")} if typed else {}
    reference.update(
        {"Id": row_id, "KeyAttributes": [], "LogicalName": logical_name, "Name": name,
         "RowVersion": None}
    )
    return reference


def encode_value(value: Any, column: Column | None) -> Any:
    """One column value (store form: Web API JSON, lookups as :class:`Lookup`) as an
    attribute value of the context."""
    if value is None:
        return None
    if isinstance(value, Lookup):
        return entity_reference(value.table, value.id)
    kind = column.type if column is not None else None
    if kind in _OPTION_TYPES:
        return option_set_value(value)
    if kind == "multichoice":
        return [option_set_value(v) for v in _multichoice_values(value)]
    if kind == "money":
        return money(value)
    if kind in _DATE_TYPES and isinstance(value, str):
        return date_literal(value)
    return value


def _multichoice_values(value: Any) -> list[int]:
    if isinstance(value, str):
        return [int(part) for part in value.split(",") if part.strip()]
    return [int(v) for v in value]


def entity(
    table: Table,
    row_id: str,
    values: dict[str, Any],
    *,
    typed: bool,
    row_version: str | None = None,
) -> dict[str, Any]:
    """An ``Entity`` holding ``values`` (every key kept, ``None`` included, in order)."""
    attributes = key_values(
        (name, encode_value(value, table.columns.get(name))) for name, value in values.items()
    )
    body: dict[str, Any] = {"__type": contract_type("Entity")} if typed else {}
    body.update(
        {
            "Attributes": attributes,
            "EntityState": None,
            "FormattedValues": [],
            "Id": row_id,
            "KeyAttributes": [],
            "LogicalName": table.logical_name,
            "RelatedEntities": [],
            "RowVersion": row_version,
        }
    )
    return body


def dumps(value: Any) -> str:
    """JSON text as the .NET Framework ``DataContractJsonSerializer`` writes it."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no JSON form")
        out.append(repr(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(_string(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__}")


def _string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in ('"', "\\", "/"):
        return "\\" + char
    if code > 0xFFFF:
        # .NET strings are UTF-16 and the serializer escapes each half of a surrogate pair.
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"

"""Values inside a serialized ``RemoteExecutionContext`` (DataContractJsonSerializer JSON).

Dataverse writes the context with .NET's ``DataContractJsonSerializer``. Its conventions,
decoded here into plain Python and small typed models:

- collections (parameters, images, attributes, formatted values) are arrays of
  ``{"key": ..., "value": ...}`` -> ``dict``;
- polymorphic values carry ``"__type": "<Name>:<namespace>"`` first: ``Entity``,
  ``EntityReference``, ``OptionSetValue``, ``Money``, ``EntityCollection``,
  ``KeyValuePairOf...`` -> :class:`Entity`, :class:`EntityReference`, :class:`OptionSetValue`,
  :class:`Money`, :class:`EntityCollection`, :class:`KeyValuePair`;
- typed primitives ``{"__type": "Guid:#System", "__value": ...}`` (also ``DateTime:#System``
  and the other ``#System`` primitives) -> the primitive;
- ``"/Date(<ms>[+-hhmm])/"`` -> an aware ``datetime`` (the milliseconds are UTC; the offset,
  when present, becomes the datetime's zone);
- a multi-select choice is a plain array of ``OptionSetValue`` -> ``list[OptionSetValue]``;
- non-integral numbers -> ``Decimal`` (money and decimals must not pass through float);
- a GUID is usually a plain string and stays one (lower-cased only when typed).

A value this module does not understand (an unknown ``__type``, or a known one with missing
members) is kept as :class:`RawValue` with the JSON as sent: never dropped, never an error.

Pure: standard library and pydantic only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

_DATE = re.compile(r"^\\?/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{4})?\)\\?/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MalformedContextError(ValueError):
    """A structural part of the context (a key/value list) has the wrong shape."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class EntityReference(_Model):
    """A pointer to a row: table, id and (when Dataverse filled it) the primary name."""

    logical_name: str
    id: str
    name: str | None = None


class OptionSetValue(_Model):
    """A choice (option set), state or status value."""

    value: int


class Money(_Model):
    """A currency amount (the currency itself is a separate lookup column)."""

    value: Decimal


class KeyValuePair(_Model):
    """A typed ``KeyValuePairOf...`` item, e.g. in the ``ChangedEntityTypes`` shared variable."""

    key: Any
    value: Any


class RawValue(_Model):
    """A value kept as sent because its ``__type`` (or shape) is not one this module knows."""

    type_name: str | None
    data: Any


class Entity(_Model):
    """A row as the pipeline carries it: ``Target`` of Create/Update, or an entity image."""

    logical_name: str
    id: str | None = None
    attributes: dict[str, Any] = {}
    formatted_values: dict[str, Any] = {}
    key_attributes: dict[str, Any] = {}
    row_version: str | None = None

    def get(self, name: str, default: Any = None) -> Any:
        """The decoded value of attribute ``name``, or ``default`` when it is absent."""
        return self.attributes.get(name, default)


class EntityCollection(_Model):
    """A list of rows, e.g. ``Targets`` of CreateMultiple / UpdateMultiple."""

    entity_name: str | None = None
    entities: tuple[Entity | RawValue, ...] = ()
    more_records: bool = False


def parse_date(text: str) -> datetime | None:
    """The instant in ``/Date(1506409448000-0700)/`` (slashes escaped or not), else None."""
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        moment = _EPOCH + timedelta(milliseconds=int(match.group("ms")))
    except (ValueError, OverflowError):
        # More digits than int() converts, or an instant out of datetime's range.
        return None
    offset = match.group("offset")
    if offset is None:
        return moment
    sign = -1 if offset[0] == "-" else 1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    try:
        return moment.astimezone(timezone(sign * delta))
    except (ValueError, OverflowError):
        # An offset of a day or more, or one that moves the instant out of range.
        return None


def decode_pairs(raw: Any, where: str) -> dict[str, Any]:
    """A ``[{"key": k, "value": v}, ...]`` list as a dict of decoded values.

    ``None`` (member present but null) is an empty dict. Anything else that is not such a
    list raises :class:`MalformedContextError` naming ``where``.
    """
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise MalformedContextError(
            f"{where} must be a list of key/value pairs, got {_json_type(raw)}"
        )
    result: dict[str, Any] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "key" not in item:
            raise MalformedContextError(f"{where}[{index}] is not a {{key, value}} pair")
        result[str(item["key"])] = decode_value(item.get("value"))
    return result


def decode_value(raw: Any) -> Any:
    """Decode one serialized value (see the module docstring for the rules)."""
    if isinstance(raw, str):
        moment = parse_date(raw)
        return raw if moment is None else moment
    if isinstance(raw, list):
        return [decode_value(item) for item in raw]
    if isinstance(raw, dict):
        return _decode_object(raw)
    return raw


def decode_entity(raw: Any) -> Entity | RawValue:
    """An ``Entity`` object (with or without ``__type``), or the raw JSON if it is not one."""
    if not isinstance(raw, dict) or not isinstance(raw.get("LogicalName"), str):
        return RawValue(type_name=_type_of(raw), data=raw)
    try:
        return Entity(
            logical_name=raw["LogicalName"],
            id=_optional_guid(raw.get("Id")),
            attributes=decode_pairs(raw.get("Attributes"), "Attributes"),
            formatted_values=decode_pairs(raw.get("FormattedValues"), "FormattedValues"),
            key_attributes=decode_pairs(raw.get("KeyAttributes"), "KeyAttributes"),
            row_version=_optional_text(raw.get("RowVersion")),
        )
    except (MalformedContextError, ValueError):
        return RawValue(type_name=_type_of(raw), data=raw)


def decode_reference(raw: Any) -> EntityReference | RawValue:
    """An ``EntityReference`` object (``LogicalName`` + ``Id``), or the raw JSON."""
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("LogicalName"), str)
        or not isinstance(raw.get("Id"), str)
    ):
        return RawValue(type_name=_type_of(raw), data=raw)
    return EntityReference(
        logical_name=raw["LogicalName"],
        id=raw["Id"].lower(),
        name=_optional_text(raw.get("Name")),
    )


def _decode_object(raw: dict[str, Any]) -> Any:
    type_tag = raw.get("__type")
    if not isinstance(type_tag, str):
        if isinstance(raw.get("LogicalName"), str) and "Attributes" in raw:
            return decode_entity(raw)
        if isinstance(raw.get("LogicalName"), str) and isinstance(raw.get("Id"), str):
            return decode_reference(raw)
        return RawValue(type_name=None, data=raw)
    name, _, namespace = type_tag.partition(":")
    if namespace == "#System" and "__value" in raw:
        return _decode_system_primitive(name, raw)
    decoder = _DECODERS.get(name)
    if decoder is None and name.startswith("KeyValuePairOf"):
        decoder = _decode_key_value_pair
    if decoder is None:
        return RawValue(type_name=type_tag, data=raw)
    return decoder(raw)


def _decode_system_primitive(name: str, raw: dict[str, Any]) -> Any:
    value = decode_value(raw["__value"])
    if name == "Guid" and isinstance(value, str):
        return value.lower()
    return value


def _decode_option(raw: dict[str, Any]) -> OptionSetValue | RawValue:
    value = raw.get("Value")
    if isinstance(value, bool) or not isinstance(value, int):
        return RawValue(type_name=raw["__type"], data=raw)
    return OptionSetValue(value=value)


def _decode_money(raw: dict[str, Any]) -> Money | RawValue:
    value = raw.get("Value")
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        return RawValue(type_name=raw["__type"], data=raw)
    return Money(value=Decimal(str(value)))


def _decode_collection(raw: dict[str, Any]) -> EntityCollection | RawValue:
    entities = raw.get("Entities")
    if not isinstance(entities, list):
        return RawValue(type_name=raw["__type"], data=raw)
    return EntityCollection(
        entity_name=_optional_text(raw.get("EntityName")),
        entities=tuple(decode_entity(e) for e in entities),
        more_records=bool(raw.get("MoreRecords")),
    )


def _decode_key_value_pair(raw: dict[str, Any]) -> KeyValuePair:
    return KeyValuePair(key=decode_value(raw.get("key")), value=decode_value(raw.get("value")))


_DECODERS = {
    "Entity": decode_entity,
    "EntityReference": decode_reference,
    "OptionSetValue": _decode_option,
    "Money": _decode_money,
    "EntityCollection": _decode_collection,
}


def _optional_guid(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError(f"Id must be a string, got {_json_type(raw)}")
    return raw.lower()


def _optional_text(raw: Any) -> str | None:
    return None if raw is None else str(raw)


def _type_of(raw: Any) -> str | None:
    type_tag = raw.get("__type") if isinstance(raw, dict) else None
    return type_tag if isinstance(type_tag, str) else None


def _json_type(raw: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if raw is None:
        return "null"
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        return "a number"
    return names.get(type(raw), type(raw).__name__)

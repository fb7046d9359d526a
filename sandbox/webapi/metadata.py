"""Dataverse's metadata API, derived from the schema (read-only).

Serves ``EntityDefinitions`` (by ``LogicalName='x'`` or ``MetadataId``) with the navigation
properties ``Attributes`` (with type casts such as
``Microsoft.Dynamics.CRM.PicklistAttributeMetadata`` and ``$expand=OptionSet``), ``Keys``,
``ManyToOneRelationships``, ``OneToManyRelationships`` and ``ManyToManyRelationships``, plus
``RelationshipDefinitions`` and ``GlobalOptionSetDefinitions``; with ``$select``, ``$filter``
and ``$expand``. Metadata queries are not paged, as in Dataverse.

Everything comes from the schema: names, keys, lookups (one ``OneToManyRelationship`` per
lookup target), choices. Schema names, which the schema file does not hold, are derived
from logical names: the publisher prefix of the custom tables stays lower case and the rest
is capitalised (``mp_registration`` -> ``mp_Registration``, ``contact`` -> ``Contact``); a
lookup's schema name is its navigation property when that differs only in case.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from plugins.core.schema import Choice, Column, ManyToMany, Schema, Table

from .. import errors
from ..http import json_response
from ..odata.catalog import catalog
from ..odata.compiler import compile_filter
from ..odata.errors import invalid_query
from ..odata.fields import DictFields
from ..odata.options import Expansion, QueryOptions, parse_query
from ..odata.parser import parse_filter
from .context import API_PATH, ApiContext
from .resource import KeySpec, Resource, parse_resource

CAST_PREFIX = "Microsoft.Dynamics.CRM."
LANGUAGE_CODE = 1033
_NAMESPACE = uuid.UUID("6f1c7f55-8c1e-4b5e-9a55-5ad0b0c0de00")

_ATTRIBUTE_TYPES = {
    "uniqueidentifier": ("UniqueIdentifierAttributeMetadata", "Uniqueidentifier"),
    "string": ("StringAttributeMetadata", "String"),
    "memo": ("MemoAttributeMetadata", "Memo"),
    "integer": ("IntegerAttributeMetadata", "Integer"),
    "bigint": ("BigIntAttributeMetadata", "BigInt"),
    "decimal": ("DecimalAttributeMetadata", "Decimal"),
    "money": ("MoneyAttributeMetadata", "Money"),
    "float": ("DoubleAttributeMetadata", "Double"),
    "boolean": ("BooleanAttributeMetadata", "Boolean"),
    "datetime": ("DateTimeAttributeMetadata", "DateTime"),
    "date": ("DateTimeAttributeMetadata", "DateTime"),
    "choice": ("PicklistAttributeMetadata", "Picklist"),
    "multichoice": ("MultiSelectPicklistAttributeMetadata", "Virtual"),
    "state": ("StateAttributeMetadata", "State"),
    "status": ("StatusAttributeMetadata", "Status"),
    "lookup": ("LookupAttributeMetadata", "Lookup"),
}
_TYPE_NAMES = {
    "multichoice": "MultiSelectPicklistType",
    "uniqueidentifier": "UniqueidentifierType",
}
_DECLARED_TYPES = frozenset({"EntityMetadata", "EntityKeyMetadata"})
_OPTION_SET_TYPES = {
    "choice": "Picklist",
    "multichoice": "Picklist",
    "state": "State",
    "status": "Status",
}


@dataclass
class MetaObject:
    """One metadata object: its type, its properties and its navigation properties."""

    type: str
    props: dict[str, Any]
    navs: dict[str, MetaObject | list[MetaObject] | None] = field(default_factory=dict)


@dataclass
class MetadataModel:
    """The metadata entity sets of one schema."""

    sets: dict[str, list[MetaObject]]


def serve(ctx: ApiContext, resource: Resource) -> Response:
    """Answer a GET on one of the metadata entity sets (other methods: 405)."""
    if ctx.request.method != "GET":
        raise errors.method_not_allowed(ctx.request.method, ctx.request.url)
    model = catalog(ctx.store).memo.get(("metadata",), lambda: build_model(ctx.store.schema))
    current: MetaObject | list[MetaObject] = model.sets[resource.name]
    if resource.key is not None:
        current = _pick(current, resource.key, resource.name)
    for segment, key in _segments(resource):
        current = _step(current, segment, key)
    if resource.ref:
        raise errors.unknown_segment("$ref")
    context = f"{ctx.service_root}$metadata#{ctx.request.path[len(API_PATH) :]}"
    if isinstance(current, list):
        options = parse_query(ctx.request.args.items(multi=True), ("$select", "$filter", "$expand"))
        body: dict[str, Any] = {
            "@odata.context": context + _selection(options.select),
            "value": _write_all(current, options),
        }
        return json_response(body)
    options = parse_query(ctx.request.args.items(multi=True), ("$select", "$expand"))
    body = {"@odata.context": context + _selection(options.select) + "/$entity"}
    body.update(_write(current, options, _known([current])))
    return json_response(body)


# ------------------------------------------------------------------ walking


def _segments(resource: Resource) -> list[tuple[str, KeySpec | None]]:
    """The path segments after the entity set, each with its key (if any)."""
    out: list[tuple[str, KeySpec | None]] = []
    for index, raw in enumerate(resource.segments):
        if index == len(resource.segments) - 1:
            out.append((raw, resource.nav_key))
        else:
            parsed = parse_resource(raw)
            out.append((parsed.name, parsed.key))
    return out


def _step(
    current: MetaObject | list[MetaObject], segment: str, key: KeySpec | None
) -> MetaObject | list[MetaObject]:
    if segment.startswith(CAST_PREFIX):
        wanted = segment[len(CAST_PREFIX) :]
        if isinstance(current, list):
            return [item for item in current if item.type == wanted]
        if current.type != wanted:
            raise errors.unknown_segment(segment)
        return current
    if isinstance(current, list) or segment not in current.navs:
        raise errors.unknown_segment(segment)
    target = current.navs[segment]
    if target is None:
        raise errors.unknown_segment(segment)
    if key is not None:
        if not isinstance(target, list):
            raise errors.unknown_segment(segment)
        return _pick(target, key, segment)
    return target


def _pick(items: MetaObject | list[MetaObject], key: KeySpec, segment: str) -> MetaObject:
    """The item a key addresses: ``(<MetadataId>)`` or ``(LogicalName='x')`` and the like."""
    if not isinstance(items, list):
        raise errors.unknown_segment(segment)
    for item in items:
        if key.guid is not None and item.props.get("MetadataId") == key.guid:
            return item
        if key.parts and all(item.props.get(k) == v for k, v in key.parts.items()):
            return item
    wanted = key.guid or ",".join(f"{k} = '{v}'" for k, v in key.parts.items())
    raise errors.ODataError(
        404,
        "0x80040217",
        f"Could not find {segment} with {wanted} in the MetadataCache.",
    )


# ------------------------------------------------------------------ writing


def _filtered(items: list[MetaObject], text: str | None) -> list[MetaObject]:
    if not text:
        return items
    type_name = items[0].type if items else "MetadataBase"
    keep = compile_filter(parse_filter(text), DictFields(type_name, _kinds(items)))
    return [item for item in items if keep(item.props)]


def _kinds(items: Sequence[MetaObject]) -> dict[str, str]:
    """Filterable (scalar) properties of these objects, by kind."""
    kinds: dict[str, str] = {}
    for item in items:
        for name, value in item.props.items():
            if isinstance(value, bool):
                kinds[name] = "boolean"
            elif isinstance(value, int):
                kinds[name] = "integer"
            elif isinstance(value, str):
                kinds[name] = "guid" if name == "MetadataId" else "string"
    return kinds


def _write_all(items: list[MetaObject], options: QueryOptions) -> list[dict[str, Any]]:
    """A collection, filtered; ``$select`` may name a property of any of its types."""
    known = _known(items)
    return [_write(item, options, known) for item in _filtered(items, options.filter)]


def _known(items: Sequence[MetaObject]) -> set[str]:
    return {name for item in items for name in (*item.props, *item.navs)}


def _write(item: MetaObject, options: QueryOptions, known: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if item.type not in _DECLARED_TYPES:
        body["@odata.type"] = f"#{CAST_PREFIX}{item.type}"
    if options.select is None:
        body.update(item.props)
    else:
        for name in options.select:
            if name not in known:
                raise errors.unknown_property(name, item.type)
            if name in item.props:
                body[name] = item.props[name]
        body["MetadataId"] = item.props.get("MetadataId")
    for expansion in options.expand:
        body[expansion.nav] = _expand(item, expansion)
    return body


def _expand(item: MetaObject, expansion: Expansion) -> Any:
    if expansion.nav not in item.navs:
        raise errors.unknown_property(expansion.nav, item.type)
    if expansion.options.orderby or expansion.options.top is not None:
        raise invalid_query("Only $select, $filter and $expand can be used to expand metadata.")
    target = item.navs[expansion.nav]
    if target is None:
        return None
    if isinstance(target, list):
        return _write_all(target, expansion.options)
    return _write(target, expansion.options, _known([target]))


def _selection(select: tuple[str, ...] | None) -> str:
    return f"({','.join(select)})" if select else ""


# ------------------------------------------------------------------ building


def build_model(schema: Schema) -> MetadataModel:
    """Every metadata object of ``schema``."""
    namer = _Namer(schema)
    option_sets = {name: _option_set(name, choice) for name, choice in schema.choices.items()}
    one_to_many = _one_to_many(schema, namer)
    many_to_many = [_many_to_many(link) for link in schema.many_to_many]
    entities = []
    for table in schema.tables:
        entity = _entity(table, namer)
        entity.navs["Attributes"] = [
            _attribute(table, name, column, namer, option_sets)
            for name, column in table.columns.items()
        ]
        entity.navs["Keys"] = [_key(table, key.name, key.columns) for key in table.keys]
        entity.navs["ManyToOneRelationships"] = [
            r for r in one_to_many if r.props["ReferencingEntity"] == table.logical_name
        ]
        entity.navs["OneToManyRelationships"] = [
            r for r in one_to_many if r.props["ReferencedEntity"] == table.logical_name
        ]
        entity.navs["ManyToManyRelationships"] = [
            r
            for r in many_to_many
            if table.logical_name in (r.props["Entity1LogicalName"], r.props["Entity2LogicalName"])
        ]
        entities.append(entity)
    return MetadataModel(
        {
            "EntityDefinitions": entities,
            "RelationshipDefinitions": one_to_many + many_to_many,
            "GlobalOptionSetDefinitions": list(option_sets.values()),
        }
    )


def schema_name_of(schema: Schema, logical_name: str) -> str:
    """The ``SchemaName`` the sandbox gives a table of ``schema``."""
    return _Namer(schema).schema_name(logical_name)


# Dataverse's type codes of its own tables; a custom table gets one from 10000 up.
_OBJECT_TYPE_CODES = {
    "contact": 2, "systemuser": 8, "team": 9, "email": 4202, "task": 4212,
    "activityparty": 135, "template": 2010, "businessunit": 10,
}


def object_type_code(logical_name: str) -> int:
    """The table's ``ObjectTypeCode`` (stable: derived from the name for custom tables)."""
    known = _OBJECT_TYPE_CODES.get(logical_name)
    if known is not None:
        return known
    return 10_000 + zlib.crc32(logical_name.encode("utf-8")) % 50_000


class _Namer:
    """Schema names derived from logical names (see the module docstring)."""

    def __init__(self, schema: Schema) -> None:
        self.prefixes = {
            t.logical_name.split("_", 1)[0]
            for t in schema.tables
            if not t.standard and "_" in t.logical_name
        }

    def is_custom(self, table: Table, name: str) -> bool:
        return not table.standard or (name.split("_", 1)[0] in self.prefixes and "_" in name)

    def schema_name(self, name: str) -> str:
        prefix, _, rest = name.partition("_")
        if rest and prefix in self.prefixes:
            return f"{prefix}_{rest[:1].upper()}{rest[1:]}"
        return name[:1].upper() + name[1:]

    def column_schema_name(self, name: str, column: Column) -> str:
        for link in (column.targets or {}).values():
            if link.nav.lower() == name:
                return link.nav
        return self.schema_name(name)


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _label(text: str | None) -> dict[str, Any]:
    if not text:
        return {"LocalizedLabels": [], "UserLocalizedLabel": None}
    localized = {
        "Label": text,
        "LanguageCode": LANGUAGE_CODE,
        "IsManaged": False,
        "MetadataId": _id("label", text),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def _entity(table: Table, namer: _Namer) -> MetaObject:
    name = table.logical_name
    schema_name = namer.schema_name(name)
    return MetaObject(
        "EntityMetadata",
        {
            "MetadataId": _id("entity", name),
            "LogicalName": name,
            "SchemaName": schema_name,
            "ObjectTypeCode": object_type_code(name),
            "EntitySetName": table.entity_set,
            "LogicalCollectionName": table.entity_set,
            "CollectionSchemaName": namer.schema_name(table.entity_set),
            "PrimaryIdAttribute": table.primary_id,
            "PrimaryNameAttribute": table.primary_name,
            "DisplayName": _label(table.label or schema_name),
            "DisplayCollectionName": _label(table.label or schema_name),
            "Description": _label(None),
            "IsCustomEntity": not table.standard,
            "IsActivity": table.primary_id == "activityid",
            "IsPrivate": False,
            "IsIntersect": False,
            "IsManaged": table.standard,
            "IsValidForAdvancedFind": True,
            "IsOptimisticConcurrencyEnabled": True,
            "ChangeTrackingEnabled": False,
            "OwnershipType": "UserOwned",
            "TableType": "Standard",
        },
    )


def _attribute(
    table: Table, name: str, column: Column, namer: _Namer, option_sets: dict[str, MetaObject]
) -> MetaObject:
    type_name, attribute_type = _ATTRIBUTE_TYPES[column.type]
    schema_name = namer.column_schema_name(name, column)
    is_primary_id = name == table.primary_id
    required = (
        "SystemRequired"
        if is_primary_id
        else ("ApplicationRequired" if column.required else "None")
    )
    props: dict[str, Any] = {
        "MetadataId": _id("attribute", table.logical_name, name),
        "LogicalName": name,
        "SchemaName": schema_name,
        "EntityLogicalName": table.logical_name,
        "AttributeType": attribute_type,
        "AttributeTypeName": {"Value": _TYPE_NAMES.get(column.type, f"{attribute_type}Type")},
        "DisplayName": _label(column.label or schema_name),
        "Description": _label(None),
        "IsPrimaryId": is_primary_id,
        "IsPrimaryName": name == table.primary_name,
        "IsCustomAttribute": namer.is_custom(table, name),
        "IsLogical": False,
        "IsValidForRead": not column.write_only,
        "IsValidForCreate": not column.readonly,
        "IsValidForUpdate": not column.readonly and not is_primary_id,
        "RequiredLevel": {
            "Value": required,
            "CanBeChanged": not is_primary_id,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
    }
    props.update(_typed_properties(column))
    attribute = MetaObject(type_name, props)
    if column.choices:
        option_set = option_sets[column.choices]
        typed = MetaObject(
            option_set.type, {**option_set.props, "OptionSetType": _OPTION_SET_TYPES[column.type]}
        )
        attribute.navs["OptionSet"] = typed
        attribute.navs["GlobalOptionSet"] = typed
    elif column.type == "boolean":
        attribute.navs["OptionSet"] = _boolean_option_set(table, name)
    return attribute


def _typed_properties(column: Column) -> dict[str, Any]:
    kind = column.type
    if kind in ("string", "memo"):
        return {
            "MaxLength": column.max_length or 4000,
            "Format": "Text" if kind == "string" else "TextArea",
        }
    if kind == "integer":
        return {"MinValue": -2147483648, "MaxValue": 2147483647, "Format": "None"}
    if kind == "bigint":
        return {"MinValue": -9223372036854775808, "MaxValue": 9223372036854775807}
    if kind in ("decimal", "money", "float"):
        return {"Precision": 2, "MinValue": -100000000000, "MaxValue": 100000000000}
    if kind == "datetime":
        return {"Format": "DateAndTime", "DateTimeBehavior": {"Value": "UserLocal"}}
    if kind == "date":
        return {"Format": "DateOnly", "DateTimeBehavior": {"Value": "DateOnly"}}
    if kind == "lookup":
        return {"Targets": list(column.targets or {})}
    if kind == "boolean":
        return {"DefaultValue": False}
    return {}


def _option_set(name: str, choice: Choice) -> MetaObject:
    return MetaObject(
        "OptionSetMetadata",
        {
            "MetadataId": _id("optionset", name),
            "Name": name,
            "IsGlobal": True,
            "OptionSetType": "Picklist",
            "DisplayName": _label(name),
            "Options": [
                {
                    "Value": value,
                    "Label": _label(label),
                    "Description": _label(None),
                    "Color": None,
                    "IsManaged": False,
                    "ExternalValue": None,
                }
                for value, label in choice.options.items()
            ],
        },
    )


def _boolean_option_set(table: Table, name: str) -> MetaObject:
    return MetaObject(
        "BooleanOptionSetMetadata",
        {
            "MetadataId": _id("booleanoptionset", table.logical_name, name),
            "Name": f"{table.logical_name}_{name}",
            "IsGlobal": False,
            "OptionSetType": "Boolean",
            "TrueOption": {"Value": 1, "Label": _label("Yes")},
            "FalseOption": {"Value": 0, "Label": _label("No")},
        },
    )


def _key(table: Table, name: str, columns: Sequence[str]) -> MetaObject:
    return MetaObject(
        "EntityKeyMetadata",
        {
            "MetadataId": _id("key", table.logical_name, name),
            "LogicalName": name,
            "SchemaName": name,
            "EntityLogicalName": table.logical_name,
            "KeyAttributes": list(columns),
            "DisplayName": _label(name),
            "EntityKeyIndexStatus": "Active",
        },
    )


def _one_to_many(schema: Schema, namer: _Namer) -> list[MetaObject]:
    relationships = []
    for table in schema.tables:
        for name, column in table.columns.items():
            for target, link in (column.targets or {}).items():
                referenced = schema.table(target)
                relationships.append(
                    MetaObject(
                        "OneToManyRelationshipMetadata",
                        {
                            "MetadataId": _id("relationship", link.relationship),
                            "SchemaName": link.relationship,
                            "RelationshipType": "OneToManyRelationship",
                            "IsCustomRelationship": namer.is_custom(table, name),
                            "ReferencedEntity": target,
                            "ReferencedAttribute": referenced.primary_id,
                            "ReferencingEntity": table.logical_name,
                            "ReferencingAttribute": name,
                            "ReferencedEntityNavigationPropertyName": link.relationship,
                            "ReferencingEntityNavigationPropertyName": link.nav,
                            "CascadeConfiguration": {
                                "Delete": "Cascade" if link.cascade_delete else "RemoveLink",
                                "Assign": "NoCascade",
                                "Share": "NoCascade",
                                "Unshare": "NoCascade",
                                "Reparent": "NoCascade",
                                "Merge": "NoCascade",
                            },
                        },
                    )
                )
    return relationships


def _many_to_many(link: ManyToMany) -> MetaObject:
    return MetaObject(
        "ManyToManyRelationshipMetadata",
        {
            "MetadataId": _id("relationship", link.name),
            "SchemaName": link.name,
            "RelationshipType": "ManyToManyRelationship",
            "IntersectEntityName": link.name.lower(),
            "Entity1LogicalName": link.table1,
            "Entity2LogicalName": link.table2,
            "Entity1NavigationPropertyName": link.nav1,
            "Entity2NavigationPropertyName": link.nav2,
        },
    )

"""Dataverse table definitions (metadata) in the JSON shapes of the Web API, both ways.

Writing: the bodies ``member-plugins provision`` POSTs, built from the product's schema
(:mod:`plugins.core.schema`):

- a table: ``EntityMetadata`` with its primary name column (``StringAttributeMetadata``,
  ``IsPrimaryName``) as the one item of ``Attributes``, to ``EntityDefinitions``;
- a column: a typed ``AttributeMetadata`` (String, Memo, Integer, BigInt, Decimal, Money,
  Double, Boolean, DateTime, Picklist, MultiSelectPicklist), to
  ``EntityDefinitions(LogicalName='<table>')/Attributes``; choice columns bind a global choice
  (``GlobalOptionSet@odata.bind`` to ``/GlobalOptionSetDefinitions(<MetadataId>)``);
- a global choice: ``OptionSetMetadata`` to ``GlobalOptionSetDefinitions``;
- an alternate key: ``EntityKeyMetadata`` to ``EntityDefinitions(LogicalName='<table>')/Keys``;
- a lookup: ``OneToManyRelationshipMetadata`` with its ``Lookup`` to
  ``RelationshipDefinitions``.

Schema names: the publisher prefix stays lower case and the rest is capitalised
(``mp_registration`` -> ``mp_Registration``); a lookup's schema name is its navigation
property (``mp_PersonId``), which Dataverse also makes the navigation property's name.

Reading: :func:`read_table` and :func:`read_choice` turn what ``GET EntityDefinitions(...)``
and ``GET GlobalOptionSetDefinitions(Name=...)`` answer into small snapshots to plan against.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plugins.core.schema import AlternateKey, Choice, Column, LookupTarget, Table

CAST = "Microsoft.Dynamics.CRM."
LANGUAGE_CODE = 1033
STRING_LENGTH = 100
MEMO_LENGTH = 2000

# Columns Dataverse creates with every custom table; provisioning never creates them.
SYSTEM_COLUMNS = frozenset(
    {
        "createdon", "modifiedon", "createdby", "modifiedby", "createdonbehalfby",
        "modifiedonbehalfby", "ownerid", "owninguser", "owningteam", "owningbusinessunit",
        "statecode", "statuscode", "versionnumber", "overriddencreatedon",
        "importsequencenumber", "timezoneruleversionnumber", "utcconversiontimezonecode",
    }
)
# Schema column type -> (AttributeMetadata type, AttributeType, AttributeTypeName).
ATTRIBUTE_TYPES: Mapping[str, tuple[str, str, str]] = {
    "string": ("StringAttributeMetadata", "String", "StringType"),
    "memo": ("MemoAttributeMetadata", "Memo", "MemoType"),
    "integer": ("IntegerAttributeMetadata", "Integer", "IntegerType"),
    "bigint": ("BigIntAttributeMetadata", "BigInt", "BigIntType"),
    "decimal": ("DecimalAttributeMetadata", "Decimal", "DecimalType"),
    "money": ("MoneyAttributeMetadata", "Money", "MoneyType"),
    "float": ("DoubleAttributeMetadata", "Double", "DoubleType"),
    "boolean": ("BooleanAttributeMetadata", "Boolean", "BooleanType"),
    "datetime": ("DateTimeAttributeMetadata", "DateTime", "DateTimeType"),
    "date": ("DateTimeAttributeMetadata", "DateTime", "DateTimeType"),
    "choice": ("PicklistAttributeMetadata", "Picklist", "PicklistType"),
    "multichoice": ("MultiSelectPicklistAttributeMetadata", "Virtual", "MultiSelectPicklistType"),
}
# What an existing column's AttributeTypeName may be for each schema type.
EXISTING_TYPES: Mapping[str, frozenset[str]] = {
    **{kind: frozenset({names[2]}) for kind, names in ATTRIBUTE_TYPES.items()},
    "lookup": frozenset({"LookupType", "CustomerType", "OwnerType"}),
    "uniqueidentifier": frozenset({"UniqueidentifierType"}),
    "state": frozenset({"StateType"}),
    "status": frozenset({"StatusType"}),
}
CREATABLE_TYPES = frozenset(ATTRIBUTE_TYPES)
_RANGES: Mapping[str, dict[str, Any]] = {
    "integer": {"MinValue": -2147483648, "MaxValue": 2147483647, "Format": "None"},
    "bigint": {"MinValue": -9223372036854775808, "MaxValue": 9223372036854775807},
    "decimal": {"MinValue": -100000000000, "MaxValue": 100000000000, "Precision": 2},
    "money": {
        "MinValue": -922337203685477, "MaxValue": 922337203685477, "Precision": 2,
        "PrecisionSource": 2,
    },
    "float": {"MinValue": -100000000000, "MaxValue": 100000000000, "Precision": 5},
}


def prefix_of(name: str) -> str | None:
    """The publisher prefix of a custom name (``mp`` of ``mp_registration``), if any."""
    head, sep, rest = name.partition("_")
    return head if sep and head and rest else None


def schema_name(logical_name: str) -> str:
    """``mp_registration`` -> ``mp_Registration`` (the prefix stays as it is)."""
    head, sep, rest = logical_name.partition("_")
    if sep and head and rest:
        return f"{head}_{rest[:1].upper()}{rest[1:]}"
    return logical_name[:1].upper() + logical_name[1:]


def label(text: str) -> dict[str, Any]:
    """A ``Label`` with one ``LocalizedLabel`` in English (1033)."""
    return {
        "@odata.type": f"{CAST}Label",
        "LocalizedLabels": [
            {
                "@odata.type": f"{CAST}LocalizedLabel",
                "Label": text,
                "LanguageCode": LANGUAGE_CODE,
            }
        ],
    }


def _required_level(column: Column) -> dict[str, Any]:
    return {
        "Value": "ApplicationRequired" if column.required else "None",
        "CanBeChanged": True,
        "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
    }


def table_definition(
    table: Table, has_activities: bool, has_notes: bool = False
) -> dict[str, Any]:
    """``EntityMetadata`` for a new custom table, with its primary name column."""
    primary = table.columns[table.primary_name]
    text = table.label or schema_name(table.logical_name)
    name_column = {
        **column_definition(table.primary_name, primary),
        "IsPrimaryName": True,
    }
    return {
        "@odata.type": f"{CAST}EntityMetadata",
        "SchemaName": schema_name(table.logical_name),
        "DisplayName": label(text),
        "DisplayCollectionName": label(text),
        "Description": label(f"{text} (member-plugins)"),
        "OwnershipType": "UserOwned",
        "IsActivity": False,
        "HasActivities": has_activities,
        "HasNotes": has_notes,
        "Attributes": [name_column],
    }


def column_definition(name: str, column: Column) -> dict[str, Any]:
    """A typed ``AttributeMetadata`` for a column that is not a lookup.

    Choice columns get their ``GlobalOptionSet@odata.bind`` from :func:`bind_choice` once the
    global choice's ``MetadataId`` is known.
    """
    odata_type, attribute_type, type_name = ATTRIBUTE_TYPES[column.type]
    body: dict[str, Any] = {
        "@odata.type": f"{CAST}{odata_type}",
        "SchemaName": schema_name(name),
        "AttributeType": attribute_type,
        "AttributeTypeName": {"Value": type_name},
        "DisplayName": label(column.label or schema_name(name)),
        "RequiredLevel": _required_level(column),
    }
    kind = column.type
    if kind == "string":
        body.update(MaxLength=column.max_length or STRING_LENGTH, FormatName={"Value": "Text"})
    elif kind == "memo":
        body.update(MaxLength=column.max_length or MEMO_LENGTH, Format="TextArea")
    elif kind in _RANGES:
        body.update(_RANGES[kind])
    elif kind == "boolean":
        body.update(
            DefaultValue=False,
            OptionSet={
                "@odata.type": f"{CAST}BooleanOptionSetMetadata",
                "TrueOption": {"Value": 1, "Label": label("Yes")},
                "FalseOption": {"Value": 0, "Label": label("No")},
                "OptionSetType": "Boolean",
            },
        )
    elif kind == "datetime":
        body.update(Format="DateAndTime", DateTimeBehavior={"Value": "UserLocal"})
    elif kind == "date":
        body.update(Format="DateOnly", DateTimeBehavior={"Value": "DateOnly"})
    elif kind == "choice":
        body["SourceTypeMask"] = 0
    return body


def bind_choice(body: Mapping[str, Any], choice_id: str) -> dict[str, Any]:
    """A choice column's body bound to the global choice whose MetadataId is ``choice_id``."""
    return {**body, "GlobalOptionSet@odata.bind": f"/GlobalOptionSetDefinitions({choice_id})"}


def choice_definition(name: str, choice: Choice) -> dict[str, Any]:
    """``OptionSetMetadata`` for a new global choice, with the schema's values and labels."""
    return {
        "@odata.type": f"{CAST}OptionSetMetadata",
        "Name": name,
        "DisplayName": label(name),
        "IsGlobal": True,
        "OptionSetType": "Picklist",
        "Options": [
            {"Value": value, "Label": label(text)} for value, text in choice.options.items()
        ],
    }


def key_definition(key: AlternateKey) -> dict[str, Any]:
    """``EntityKeyMetadata`` for a new alternate key."""
    return {
        "@odata.type": f"{CAST}EntityKeyMetadata",
        "SchemaName": key.name,
        "DisplayName": label(key.name),
        "KeyAttributes": list(key.columns),
    }


def relationship_definition(
    table: Table, column_name: str, column: Column, target: Table, link: LookupTarget
) -> dict[str, Any]:
    """``OneToManyRelationshipMetadata`` that creates the lookup column on ``table``."""
    return {
        "@odata.type": f"{CAST}OneToManyRelationshipMetadata",
        "SchemaName": link.relationship,
        "ReferencedEntity": target.logical_name,
        "ReferencedAttribute": target.primary_id,
        "ReferencingEntity": table.logical_name,
        "CascadeConfiguration": {
            "Assign": "NoCascade",
            "Delete": "Cascade" if link.cascade_delete else "RemoveLink",
            "Merge": "NoCascade",
            "Reparent": "NoCascade",
            "Share": "NoCascade",
            "Unshare": "NoCascade",
        },
        "Lookup": {
            "@odata.type": f"{CAST}LookupAttributeMetadata",
            "SchemaName": link.nav if link.nav.lower() == column_name else schema_name(column_name),
            "AttributeType": "Lookup",
            "AttributeTypeName": {"Value": "LookupType"},
            "DisplayName": label(column.label or target.label or schema_name(target.logical_name)),
            "RequiredLevel": _required_level(column),
        },
    }


# ------------------------------------------------------------------------ reading

TABLE_SELECT = ("LogicalName", "EntitySetName", "MetadataId", "PrimaryIdAttribute")
ATTRIBUTE_SELECT = ("LogicalName", "AttributeTypeName")
KEY_SELECT = ("LogicalName", "KeyAttributes", "EntityKeyIndexStatus")
RELATIONSHIP_SELECT = ("SchemaName", "ReferencedEntity", "ReferencingAttribute")


@dataclass(frozen=True)
class ExistingKey:
    """An alternate key as Dataverse has it."""

    name: str
    columns: frozenset[str]
    status: str


@dataclass(frozen=True)
class ExistingTable:
    """What a table has: its columns (logical name -> AttributeTypeName), keys and lookups
    (column -> the tables it may point at)."""

    logical_name: str
    entity_set: str
    metadata_id: str
    columns: Mapping[str, str] = field(default_factory=dict)
    keys: tuple[ExistingKey, ...] = ()
    lookups: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExistingChoice:
    """A global choice as Dataverse has it."""

    name: str
    metadata_id: str
    values: frozenset[int]


def read_table(entity: Mapping[str, Any]) -> ExistingTable:
    """An ``EntityDefinitions`` answer, with ``Attributes``, ``Keys`` and
    ``ManyToOneRelationships`` expanded, as a snapshot."""
    lookups: dict[str, set[str]] = {}
    for relationship in entity.get("ManyToOneRelationships") or ():
        column = str(relationship.get("ReferencingAttribute") or "")
        lookups.setdefault(column, set()).add(str(relationship.get("ReferencedEntity") or ""))
    return ExistingTable(
        logical_name=str(entity["LogicalName"]),
        entity_set=str(entity.get("EntitySetName") or ""),
        metadata_id=str(entity.get("MetadataId") or ""),
        columns={
            str(a["LogicalName"]): str((a.get("AttributeTypeName") or {}).get("Value") or "")
            for a in entity.get("Attributes") or ()
        },
        keys=tuple(
            ExistingKey(
                str(k.get("LogicalName") or ""),
                frozenset(str(c) for c in k.get("KeyAttributes") or ()),
                str(k.get("EntityKeyIndexStatus") or ""),
            )
            for k in entity.get("Keys") or ()
        ),
        lookups={column: frozenset(targets) for column, targets in lookups.items()},
    )


def read_choice(body: Mapping[str, Any]) -> ExistingChoice:
    """A ``GlobalOptionSetDefinitions`` answer as a snapshot."""
    return ExistingChoice(
        name=str(body.get("Name") or ""),
        metadata_id=str(body.get("MetadataId") or ""),
        values=frozenset(
            int(option["Value"])
            for option in body.get("Options") or ()
            if isinstance(option.get("Value"), int)
        ),
    )

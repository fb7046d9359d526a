"""Dataverse's metadata writes, applied to the running sandbox (what provisioning sends).

- ``POST EntityDefinitions``: ``EntityMetadata`` whose ``Attributes`` hold exactly its
  primary name column (``StringAttributeMetadata`` with ``IsPrimaryName``) -> a custom table
  with ``<name>id``, the primary name, ``statecode``/``statuscode``, ``createdon`` and
  ``modifiedon``; ``HasActivities`` adds it as a target of every activity table's
  ``regardingobjectid`` (``regardingobjectid_<table>_task``, relationship ``<table>_Tasks``);
  ``HasNotes`` adds it as a target of the note table's ``objectid`` (``objectid_<table>``,
  relationship ``<table>_Annotations``).
- ``POST EntityDefinitions(LogicalName='x')/Attributes`` (or ``EntityDefinitions(<id>)/...``):
  a typed ``AttributeMetadata`` (String, Memo, Integer, BigInt, Decimal, Money, Double,
  Boolean, DateTime, Picklist, MultiSelectPicklist) -> a column. A choice column binds a
  global choice (``GlobalOptionSet@odata.bind`` to ``/GlobalOptionSetDefinitions(<id>)`` or
  ``(Name='x')``) or brings its own ``OptionSet`` (kept as the choice ``<table>_<column>``).
- ``POST EntityDefinitions(...)/Keys``: ``EntityKeyMetadata`` -> an alternate key.
- ``POST GlobalOptionSetDefinitions``: ``OptionSetMetadata`` -> a global choice.
- ``POST RelationshipDefinitions``: ``OneToManyRelationshipMetadata`` with its ``Lookup``
  -> a lookup column and its navigation properties.

Each answers ``204`` with ``OData-EntityId: <root><set>(<MetadataId>)``, the id the metadata
reads then show; the change goes into the store's schema at once (``Store.alter_schema``),
so the new table serves rows and the new column takes values in the next request.

Differences from Dataverse, on purpose: an alternate key is usable at once (Dataverse builds
its index in the background) and one that existing rows violate is refused with 412 instead
of ending up ``Failed``; a custom name must carry a publisher prefix, but any prefix is
accepted. Not served (405 as before, or 400 naming what is missing): updates and deletes of
definitions, many-to-many and polymorphic relationships, activity tables, calculated columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Response

from plugins.core.schema import AlternateKey, Choice, Column, LookupTarget, Schema, Table

from .. import errors
from ..errors import ODataError
from ..http import empty_response
from ..steps import catalog as step_catalog
from . import customization, roles
from .context import ApiContext
from .metadata import CAST_PREFIX, MetadataModel, MetaObject, build_model
from .resource import KeySpec, Resource

# What Dataverse reports when a name is taken (observed wording; the code is not documented).
_NOT_UNIQUE = (
    "The schema name {name} for type {kind} is not unique. An {name} with same name already "
    "exists."
)
_NAVIGATION_TAKEN = "0x80072551"
_CHOICE_BIND = re.compile(r"/?GlobalOptionSetDefinitions\((?:Name='([^']+)'|([0-9a-fA-F-]{36}))\)")
_SCHEMA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$")
_COLUMN_TYPES = {
    "StringAttributeMetadata": "string",
    "MemoAttributeMetadata": "memo",
    "IntegerAttributeMetadata": "integer",
    "BigIntAttributeMetadata": "bigint",
    "DecimalAttributeMetadata": "decimal",
    "MoneyAttributeMetadata": "money",
    "DoubleAttributeMetadata": "float",
    "BooleanAttributeMetadata": "boolean",
    "DateTimeAttributeMetadata": "datetime",
    "PicklistAttributeMetadata": "choice",
    "MultiSelectPicklistAttributeMetadata": "multichoice",
}
_STATES = ("statecode_active", Choice(options={0: "Active", 1: "Inactive"}))
_STATUSES = ("statuscode_active", Choice(options={1: "Active", 2: "Inactive"}))
_FIRST_OPTION_VALUE = 100_000_000
REGARDING = "regardingobjectid"
NOTES = "annotation"
NOTE_OWNER = "objectid"


Change = Callable[[Schema], tuple[Schema, Callable[[MetadataModel], str]]]
"""A schema change, and where the definition it created is in the new schema's model
(its URL under the service root, e.g. ``EntityDefinitions(<id>)/Attributes(<id>)``)."""


def create(ctx: ApiContext, resource: Resource) -> Response:
    """Answer a POST on a metadata entity set (or a table's ``Attributes`` / ``Keys``)."""
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise errors.malformed_json("a metadata definition must be a JSON object")
    segments = resource.segments
    change: Change | None = None
    if resource.key is None and not segments:
        builders = {
            "EntityDefinitions": _new_table,
            "GlobalOptionSetDefinitions": _new_choice,
            "RelationshipDefinitions": _new_relationship,
        }
        if resource.name in builders:
            change = builders[resource.name](body)
    elif resource.name == "EntityDefinitions" and resource.key is not None and len(segments) == 1:
        table = _table_named(ctx.store.schema, resource.key)
        if segments[0] == "Attributes":
            change = _new_column(table, body)
        elif segments[0] == "Keys":
            change = _new_key(table, body)
    if change is None:
        raise errors.method_not_allowed(ctx.request.method, ctx.request.url)
    solution = customization.solution_for(ctx)
    located: list[str] = []

    def apply(schema: Schema) -> Schema:
        new_schema, locate = change(schema)
        located.append(locate(build_model(new_schema)))
        return new_schema

    ctx.store.alter_schema(apply)
    if resource.name == "EntityDefinitions" and not segments:
        created = str(body["SchemaName"]).lower()
        step_catalog.add_filters(ctx.store, [created], ctx.caller)
        with ctx.store.transaction(ctx.caller):
            roles.add_privileges(ctx.store, [ctx.store.table(created)])
    customization.record_metadata(ctx, resource, _metadata_id(located[0]), solution)
    return empty_response(headers={"OData-EntityId": f"{ctx.service_root}{located[0]}"})


def _metadata_id(location: str) -> str | None:
    """The MetadataId at the end of a located definition's URL, when it is there."""
    found = re.findall(r"\(([0-9a-fA-F-]{36})\)", location)
    return found[-1].lower() if found else None


# ------------------------------------------------------------------ tables


def _new_table(body: Mapping[str, Any]) -> Change:
    _expect_type(body, "EntityMetadata", required=False)
    schema_name = _schema_name(body, "SchemaName")
    name = schema_name.lower()
    if body.get("IsActivity"):
        raise errors.bad_request("Creating activity tables is not supported by the sandbox.")
    attributes = body.get("Attributes")
    primaries = [a for a in attributes or () if isinstance(a, dict) and a.get("IsPrimaryName")]
    if not isinstance(attributes, list) or len(attributes) != 1 or len(primaries) != 1:
        raise errors.bad_request(
            "Attributes must hold exactly the primary name attribute (IsPrimaryName = true)."
        )
    if _odata_type(primaries[0]) != "StringAttributeMetadata":
        raise errors.bad_request("The primary name attribute must be a StringAttributeMetadata.")
    primary_name = _schema_name(primaries[0], "SchemaName").lower()
    entity_set = str(body.get("EntitySetName") or _plural(name))

    def change(schema: Schema) -> tuple[Schema, Callable[[MetadataModel], str]]:
        if any(name in (t.logical_name, t.entity_set) for t in schema.tables) or any(
            entity_set in (t.logical_name, t.entity_set) for t in schema.tables
        ):
            raise _not_unique(schema_name, "Entity")
        columns = {
            f"{name}id": Column(type="uniqueidentifier"),
            primary_name: _column(primaries[0], schema, name),
            "statecode": Column(type="state", choices=_STATES[0]),
            "statuscode": Column(type="status", choices=_STATUSES[0]),
            "createdon": Column(type="datetime", readonly=True),
            "modifiedon": Column(type="datetime", readonly=True),
        }
        table = Table(
            logical_name=name,
            entity_set=entity_set,
            primary_id=f"{name}id",
            primary_name=primary_name,
            label=_label(body.get("DisplayName")),
            columns=columns,
        )
        tables = list(schema.tables)
        if body.get("HasActivities"):
            tables = [_with_regarding(t, table) for t in tables]
        if body.get("HasNotes"):
            tables = [_with_notes(t, table) for t in tables]
        choices = {**dict([_STATES, _STATUSES]), **schema.choices}
        new = Schema(tables=(*tables, table), choices=choices, many_to_many=schema.many_to_many)
        return new, lambda model: _entity_url(model, name)

    return change


def _with_regarding(activity: Table, table: Table) -> Table:
    """An activity table whose ``regardingobjectid`` may now point at ``table``."""
    regarding = activity.columns.get(REGARDING)
    if not activity.standard or regarding is None or regarding.type != "lookup":
        return activity
    link = LookupTarget(
        nav=f"{REGARDING}_{table.logical_name}_{activity.logical_name}",
        relationship=f"{table.logical_name}_{activity.entity_set[:1].upper()}{activity.entity_set[1:]}",
    )
    targets = {**(regarding.targets or {}), table.logical_name: link}
    columns = {**activity.columns, REGARDING: regarding.model_copy(update={"targets": targets})}
    return activity.model_copy(update={"columns": columns})


def _with_notes(note: Table, table: Table) -> Table:
    """The note table (``annotation``), whose ``objectid`` may now point at ``table``."""
    owner = note.columns.get(NOTE_OWNER)
    if note.logical_name != NOTES or owner is None or owner.type != "lookup":
        return note
    link = LookupTarget(nav=f"{NOTE_OWNER}_{table.logical_name}",
                        relationship=f"{table.logical_name}_Annotations", cascade_delete=True)
    targets = {**(owner.targets or {}), table.logical_name: link}
    columns = {**note.columns, NOTE_OWNER: owner.model_copy(update={"targets": targets})}
    return note.model_copy(update={"columns": columns})


def _plural(name: str) -> str:
    """The entity set Dataverse derives from a logical name (English plural)."""
    if re.search(r"(s|x|z|ch|sh)$", name):
        return name + "es"
    if re.search(r"[^aeiou]y$", name):
        return name[:-1] + "ies"
    return name + "s"


# ----------------------------------------------------------------- columns


def _new_column(table: Table, body: Mapping[str, Any]) -> Change:
    schema_name = _schema_name(body, "SchemaName")
    name = schema_name.lower()

    def change(schema: Schema) -> tuple[Schema, Callable[[MetadataModel], str]]:
        current = schema.table(table.logical_name)
        if name in current.columns:
            raise _not_unique(schema_name, "Attribute")
        column = _column(body, schema, current.logical_name)
        choices = dict(schema.choices)
        if column.choices and column.choices not in choices:
            choices[column.choices] = _options(body.get("OptionSet") or {})
        updated = current.model_copy(update={"columns": {**current.columns, name: column}})
        new = _replaced(schema, updated, choices)
        return new, lambda model: _child_url(model, current.logical_name, "Attributes", name)

    return change


def _column(body: Mapping[str, Any], schema: Schema, table: str) -> Column:
    odata_type = _odata_type(body)
    if odata_type == "LookupAttributeMetadata":
        raise errors.bad_request(
            "A lookup column is created with its relationship: POST RelationshipDefinitions."
        )
    kind = _COLUMN_TYPES.get(odata_type or "")
    if kind is None:
        raise errors.bad_request(
            f"The sandbox cannot create a column of type '{odata_type}'; it creates "
            f"{', '.join(sorted(_COLUMN_TYPES))}."
        )
    date_only = body.get("Format") == "DateOnly" or (
        (body.get("DateTimeBehavior") or {}).get("Value") == "DateOnly"
    )
    if kind == "datetime" and date_only:
        kind = "date"
    required = (body.get("RequiredLevel") or {}).get("Value") in (
        "ApplicationRequired",
        "SystemRequired",
    )
    max_length = body.get("MaxLength") if kind in ("string", "memo") else None
    choices = None
    if kind in ("choice", "multichoice"):
        local_name = f"{table}_{_schema_name(body, 'SchemaName').lower()}"
        choices = _bound_choice(body, schema) or local_name
        if choices not in schema.choices and not (body.get("OptionSet") or {}).get("Options"):
            raise errors.bad_request(
                "A choice column needs GlobalOptionSet@odata.bind or an OptionSet with Options."
            )
    return Column(
        type=kind,
        label=_label(body.get("DisplayName")),
        max_length=max_length if isinstance(max_length, int) else None,
        choices=choices,
        required=required,
    )


def _bound_choice(body: Mapping[str, Any], schema: Schema) -> str | None:
    bind = body.get("GlobalOptionSet@odata.bind")
    if bind is None:
        return None
    match = _CHOICE_BIND.fullmatch(str(bind))
    if match is None:
        raise errors.bad_bind("GlobalOptionSet")
    name, metadata_id = match.groups()
    if name is not None and name in schema.choices:
        return name
    for option_set in build_model(schema).sets["GlobalOptionSetDefinitions"]:
        if option_set.props["MetadataId"] == (metadata_id or "").lower():
            return str(option_set.props["Name"])
    raise ODataError(
        404, "0x80040217", f"Could not find GlobalOptionSetDefinitions {name or metadata_id}."
    )


# -------------------------------------------------------------------- keys


def _new_key(table: Table, body: Mapping[str, Any]) -> Change:
    _expect_type(body, "EntityKeyMetadata", required=False)
    schema_name = _schema_name(body, "SchemaName")
    name = schema_name.lower()
    columns = body.get("KeyAttributes")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        raise errors.bad_request("KeyAttributes must name the key's columns.")

    def change(schema: Schema) -> tuple[Schema, Callable[[MetadataModel], str]]:
        current = schema.table(table.logical_name)
        if any(k.name == name for k in current.keys):
            raise _not_unique(schema_name, "EntityKey")
        unknown = [c for c in columns if c not in current.columns]
        if unknown:
            raise errors.bad_request(
                f"The attribute {unknown[0]} does not exist on {current.logical_name}."
            )
        key = AlternateKey(name=name, columns=tuple(columns))
        updated = current.model_copy(update={"keys": (*current.keys, key)})
        new = _replaced(schema, updated, dict(schema.choices))
        return new, lambda model: _child_url(model, current.logical_name, "Keys", name)

    return change


# ----------------------------------------------------------------- choices


def _new_choice(body: Mapping[str, Any]) -> Change:
    _expect_type(body, "OptionSetMetadata", required=True)
    name = _schema_name(body, "Name")
    if body.get("IsGlobal") is False:
        raise errors.bad_request("GlobalOptionSetDefinitions takes global option sets only.")
    choice = _options(body)

    def change(schema: Schema) -> tuple[Schema, Callable[[MetadataModel], str]]:
        if name in schema.choices:
            raise _not_unique(name, "OptionSet")
        new = Schema(
            tables=schema.tables,
            choices={**schema.choices, name: choice},
            many_to_many=schema.many_to_many,
        )
        return new, lambda model: _url(model, "GlobalOptionSetDefinitions", "Name", name)

    return change


def _options(option_set: Mapping[str, Any]) -> Choice:
    options: dict[int, str] = {}
    for option in option_set.get("Options") or ():
        value = option.get("Value") if isinstance(option, dict) else None
        if value is None:
            # Dataverse numbers from the publisher's option value prefix; the sandbox from 10^8.
            value = max([_FIRST_OPTION_VALUE - 1, *options]) + 1
        if not isinstance(value, int) or value in options:
            raise errors.bad_request(f"Option value {value!r} is not a new integer.")
        options[value] = _label(option.get("Label")) or str(value)
    if not options:
        raise errors.bad_request("An option set needs at least one option.")
    return Choice(options=options)


# ----------------------------------------------------------- relationships


def _new_relationship(body: Mapping[str, Any]) -> Change:
    if _odata_type(body) != "OneToManyRelationshipMetadata":
        raise errors.bad_request(
            "The sandbox creates OneToManyRelationshipMetadata only (with its Lookup)."
        )
    schema_name = _schema_name(body, "SchemaName")
    lookup = body.get("Lookup")
    if not isinstance(lookup, dict) or _odata_type(lookup) not in (None, "LookupAttributeMetadata"):
        raise errors.bad_request("A one-to-many relationship needs its Lookup attribute.")
    lookup_schema_name = _schema_name(lookup, "SchemaName")
    column_name = lookup_schema_name.lower()
    referenced_name = str(body.get("ReferencedEntity") or "")
    referencing_name = str(body.get("ReferencingEntity") or "")

    def change(schema: Schema) -> tuple[Schema, Callable[[MetadataModel], str]]:
        referenced = _existing_table(schema, referenced_name)
        referencing = _existing_table(schema, referencing_name)
        if body.get("ReferencedAttribute") not in (None, referenced.primary_id):
            raise errors.bad_request("ReferencedAttribute must be the referenced table's id.")
        if any(
            link.relationship == schema_name
            for table in schema.tables
            for column in table.columns.values()
            for link in (column.targets or {}).values()
        ):
            raise _not_unique(schema_name, "EntityRelationship")
        if column_name in referencing.columns:
            raise _not_unique(lookup_schema_name, "Attribute")
        nav = str(body.get("ReferencingEntityNavigationPropertyName") or lookup_schema_name)
        taken = {
            link.nav for column in referencing.columns.values()
            for link in (column.targets or {}).values()
        }
        if nav in taken:
            raise ODataError(
                400, _NAVIGATION_TAKEN,
                f"NavigationPropertyName {nav} is not unique within an entity",
            )
        cascade = (body.get("CascadeConfiguration") or {}).get("Delete") == "Cascade"
        column = Column(
            type="lookup",
            label=_label(lookup.get("DisplayName")),
            required=(lookup.get("RequiredLevel") or {}).get("Value") == "ApplicationRequired",
            targets={
                referenced.logical_name: LookupTarget(
                    nav=nav,
                    relationship=str(
                        body.get("ReferencedEntityNavigationPropertyName") or schema_name
                    ),
                    cascade_delete=cascade,
                )
            },
        )
        updated = referencing.model_copy(
            update={"columns": {**referencing.columns, column_name: column}}
        )
        new = _replaced(schema, updated, dict(schema.choices))
        return new, lambda model: _url(model, "RelationshipDefinitions", "SchemaName", schema_name)

    return change


# ----------------------------------------------------------------- helpers


def _table_named(schema: Schema, key: KeySpec) -> Table:
    """The table ``EntityDefinitions(LogicalName='x')`` or ``EntityDefinitions(<id>)`` names."""
    if key.guid is None and set(key.parts) == {"LogicalName"}:
        return _existing_table(schema, str(key.parts["LogicalName"]))
    for entity in build_model(schema).sets["EntityDefinitions"]:
        if key.guid is not None and entity.props["MetadataId"] == key.guid:
            return schema.table(str(entity.props["LogicalName"]))
    raise ODataError(404, "0x80040217", f"Could not find EntityDefinitions with {key.text()}.")


def _existing_table(schema: Schema, name: str) -> Table:
    try:
        return schema.table(name)
    except KeyError:
        raise ODataError(
            404, "0x80040217", f"Could not find an entity with the name {name}."
        ) from None


def _replaced(schema: Schema, table: Table, choices: dict[str, Choice]) -> Schema:
    return Schema(
        tables=tuple(table if t.logical_name == table.logical_name else t for t in schema.tables),
        choices=choices,
        many_to_many=schema.many_to_many,
    )


def _find(items: Any, prop: str, value: str) -> MetaObject:
    return next(o for o in items if o.props.get(prop) == value)


def _url(model: MetadataModel, entity_set: str, prop: str, value: str) -> str:
    return f"{entity_set}({_find(model.sets[entity_set], prop, value).props['MetadataId']})"


def _entity_url(model: MetadataModel, name: str) -> str:
    return _url(model, "EntityDefinitions", "LogicalName", name)


def _child_url(model: MetadataModel, table: str, nav: str, name: str) -> str:
    entity = _find(model.sets["EntityDefinitions"], "LogicalName", table)
    child = _find(entity.navs[nav], "LogicalName", name)
    return f"{_entity_url(model, table)}/{nav}({child.props['MetadataId']})"


def _odata_type(body: Mapping[str, Any]) -> str | None:
    value = body.get("@odata.type")
    if not isinstance(value, str):
        return None
    return value.lstrip("#").removeprefix(CAST_PREFIX)


def _expect_type(body: Mapping[str, Any], wanted: str, *, required: bool) -> None:
    found = _odata_type(body)
    if (found is None and required) or found not in (None, wanted):
        raise errors.bad_request(f"The definition must be a {CAST_PREFIX}{wanted}.")


def _schema_name(body: Mapping[str, Any], prop: str) -> str:
    value = body.get(prop)
    if not isinstance(value, str) or not _SCHEMA_NAME.match(value):
        raise errors.bad_request(
            f"{prop} '{value}' is not a custom name: it must start with a customization "
            "prefix, e.g. new_Name."
        )
    return value


def _label(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for localized in value.get("LocalizedLabels") or ():
        if isinstance(localized, dict) and localized.get("Label"):
            return str(localized["Label"])
    return None


def _not_unique(name: str, kind: str) -> ODataError:
    return ODataError(400, "", _NOT_UNIQUE.format(name=name, kind=kind))

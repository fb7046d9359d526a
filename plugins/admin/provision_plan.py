"""What ``member-plugins provision`` does to an environment: the metadata to create, in order.

:func:`mapped_schema` puts the product's schema under the organisation's names (the schema
map in settings: a mapped table, column, navigation property or key keeps the name the
organisation gave it; a mapped choice value keeps the organisation's number).
:func:`plan_provisioning` compares that schema with what the environment has and lists:

1. global choices a column to create needs;
2. custom tables (with their primary name column; ``HasActivities`` when a standard activity
   table's ``regardingobjectid`` must point at them, ``HasNotes`` when the note table's
   ``objectid`` must, which is how Dataverse adds them);
3. columns missing on existing or new tables; standard tables (``standard`` in the schema)
   are never created, only given their missing custom columns;
4. lookups, as one-to-many relationships;
5. alternate keys.

What exists is left alone. What exists but does not fit (another column type, a key of the
same name over other columns, a global choice lacking values, a standard table that is
missing) is a *conflict*: provisioning stops before writing anything and says what to fix.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from plugins.core.schema import AlternateKey, Choice, Column, LookupTarget, Schema, Table
from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata

from . import metadata
from .metadata import ExistingChoice, ExistingTable

REGARDING = "regardingobjectid"
NOTES = "annotation"
NOTE_OWNER = "objectid"
FAILED_KEY = "Failed"
ACTIVE_KEY = "Active"


class StepKind(StrEnum):
    """What one step creates."""

    CHOICE = "choice"
    TABLE = "table"
    COLUMN = "column"
    RELATIONSHIP = "relationship"
    KEY = "key"


@dataclass(frozen=True)
class MetadataStep:
    """One metadata POST: what it creates, where it goes and its body.

    ``collection`` is the path (under the Web API root) to POST to; ``choice`` names the
    global choice a choice column binds to when that choice is created by the same plan (its
    MetadataId is known only then); a column on an existing choice is bound already.
    """

    kind: StepKind
    name: str
    summary: str
    collection: str
    body: Mapping[str, Any] = field(repr=False)
    choice: str | None = None


@dataclass(frozen=True)
class Environment:
    """What the environment has of the tables and global choices the schema names."""

    tables: Mapping[str, ExistingTable]
    choices: Mapping[str, ExistingChoice]


@dataclass(frozen=True)
class ProvisionPlan:
    """The steps in order, the conflicts that block them, notes, and how much exists."""

    steps: tuple[MetadataStep, ...]
    conflicts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    present: int = 0

    @property
    def is_noop(self) -> bool:
        """Nothing to create and nothing in the way."""
        return not self.steps and not self.conflicts


# ---------------------------------------------------------------- the schema map


def mapped_schema(schema: Schema, schema_map: SchemaMap) -> Schema:
    """``schema`` under the names and choice numbers the schema map configures."""
    defaults = SchemaMap()
    renames: dict[str, dict[str, str]] = {}
    choices = dict(schema.choices)
    for section in SchemaMap.model_fields:
        default, configured = getattr(defaults, section), getattr(schema_map, section)
        table_name = getattr(default, "table", None)
        if table_name is None or not any(t.logical_name == table_name for t in schema.tables):
            continue
        renames[table_name] = dict(_renamed_values(default, configured))
        table = schema.table(table_name)
        for values in _changed_numbers(default, configured):
            name = _choice_for(table, choices, values)
            if name is not None:
                choices[name] = _renumbered(choices[name], values)
    table_names = {old: names.get(old, old) for old, names in renames.items()}
    return Schema(
        tables=tuple(
            _renamed_table(table, renames.get(table.logical_name, {}), table_names)
            for table in schema.tables
        ),
        choices=choices,
        many_to_many=schema.many_to_many,
    )


def _renamed_values(default: BaseModel, configured: BaseModel) -> Iterator[tuple[str, str]]:
    """(product name, organisation's name) for every name-valued field that differs."""
    for name in type(default).model_fields:
        old, new = getattr(default, name), getattr(configured, name)
        if isinstance(old, str) and isinstance(new, str) and old != new:
            yield old, new
        elif isinstance(old, tuple) and isinstance(new, tuple):
            yield from ((a, b) for a, b in zip(old, new, strict=False) if a != b)


def _changed_numbers(default: BaseModel, configured: BaseModel) -> Iterator[dict[str, int]]:
    """Choice-value maps (label -> number) the organisation configured differently."""
    for name in type(default).model_fields:
        old, new = getattr(default, name), getattr(configured, name)
        if isinstance(old, dict) and old != new and all(isinstance(v, int) for v in new.values()):
            yield {_plain_label(str(getattr(k, "value", k))): v for k, v in new.items()}


def _plain_label(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _choice_for(table: Table, choices: dict[str, Choice], values: dict[str, int]) -> str | None:
    """The global choice of ``table`` whose labels the configured map names."""
    for column in table.columns.values():
        choice = choices.get(column.choices or "")
        if choice is None:
            continue
        labels = {_plain_label(text) for text in choice.options.values()}
        if set(values) <= labels:
            return column.choices
    return None


def _renumbered(choice: Choice, values: dict[str, int]) -> Choice:
    return Choice(
        options={
            values.get(_plain_label(text), number): text for number, text in choice.options.items()
        }
    )


def _renamed_table(table: Table, names: dict[str, str], table_names: dict[str, str]) -> Table:
    def name(value: str) -> str:
        return names.get(value, value)

    columns = {
        name(column_name): column.model_copy(
            update={
                "targets": {
                    table_names.get(target, target): link.model_copy(
                        update={"nav": name(link.nav), "relationship": name(link.relationship)}
                    )
                    for target, link in column.targets.items()
                }
                if column.targets
                else None
            }
        )
        for column_name, column in table.columns.items()
    }
    return table.model_copy(
        update={
            "logical_name": name(table.logical_name),
            "entity_set": name(table.entity_set),
            "primary_id": name(table.primary_id),
            "primary_name": name(table.primary_name),
            "columns": columns,
            "keys": tuple(
                AlternateKey(name=name(k.name), columns=tuple(name(c) for c in k.columns))
                for k in table.keys
            ),
        }
    )


# ------------------------------------------------------------------- planning


def plan_provisioning(schema: Schema, environment: Environment) -> ProvisionPlan:
    """What to create so the environment has every table, column, choice, lookup and key
    of ``schema`` (already mapped), or the conflicts that stop it."""
    planner = _Planner(schema, environment)
    planner.plan()
    return ProvisionPlan(
        steps=tuple(planner.steps),
        conflicts=tuple(planner.conflicts),
        notes=tuple(planner.notes),
        present=planner.present,
    )


def table_path(logical_name: str, navigation: str) -> str:
    """``EntityDefinitions(LogicalName='<table>')/<navigation>``."""
    return f"{odata.entity_path('EntityDefinitions', {'LogicalName': logical_name})}/{navigation}"


def choices_needed(schema: Schema) -> list[str]:
    """The global choices of every column provisioning could create, in schema order."""
    names: list[str] = []
    for table in schema.tables:
        for column in table.columns.values():
            if column.type in ("choice", "multichoice") and column.choices not in names:
                names.append(column.choices or "")
    return names


class _Planner:
    def __init__(self, schema: Schema, environment: Environment) -> None:
        self.schema = schema
        self.environment = environment
        self.prefixes = {
            p for t in schema.tables if not t.standard if (p := metadata.prefix_of(t.logical_name))
        }
        self.creating: set[str] = set()
        self.steps: list[MetadataStep] = []
        self.conflicts: list[str] = []
        self.notes: list[str] = []
        self.present = 0
        self._choices_seen: set[str] = set()
        self._choice_steps: list[MetadataStep] = []
        self._column_steps: list[MetadataStep] = []

    def plan(self) -> None:
        tables: list[MetadataStep] = []
        relationships: list[MetadataStep] = []
        keys: list[MetadataStep] = []
        for table in self.schema.tables:
            tables.extend(self._table(table))
        for table in self.schema.tables:
            if self._reachable(table):
                self._columns(table)
                relationships.extend(self._lookups(table))
                keys.extend(self._keys(table))
        self.steps = [*self._choice_steps, *tables, *self._column_steps, *relationships, *keys]

    def _existing(self, table: Table) -> ExistingTable | None:
        return self.environment.tables.get(table.logical_name)

    def _reachable(self, table: Table) -> bool:
        return self._existing(table) is not None or table.logical_name in self.creating

    # -------------------------------------------------------------- tables

    def _table(self, table: Table) -> Iterator[MetadataStep]:
        existing = self._existing(table)
        name = table.logical_name
        if existing is not None:
            self.present += 1
            if existing.entity_set != table.entity_set:
                self.conflicts.append(
                    f"table {name} has the entity set '{existing.entity_set}', not "
                    f"'{table.entity_set}': set the schema map's entity_set to "
                    f"'{existing.entity_set}'"
                )
            return
        if table.standard:
            self.conflicts.append(
                f"table {name} does not exist in this environment: it comes with Dynamics 365 "
                "(check that this is a Dynamics 365 environment and the schema map's table name)"
            )
            return
        primary = table.columns.get(table.primary_name)
        if primary is None or primary.type != "string":
            self.conflicts.append(
                f"table {name}: its primary name column {table.primary_name} must be a string "
                "column"
            )
            return
        self.creating.add(name)
        has_activities = name in self._activity_targets()
        has_notes = name in self._note_targets()
        summary = f"primary name {table.primary_name}"
        if has_activities:
            summary += ", activities enabled"
        if has_notes:
            summary += ", notes enabled"
        yield MetadataStep(
            StepKind.TABLE,
            name,
            summary,
            "EntityDefinitions",
            metadata.table_definition(table, has_activities, has_notes),
        )

    def _activity_targets(self) -> set[str]:
        """Custom tables a standard activity's ``regardingobjectid`` points at."""
        return {
            target
            for table in self.schema.tables
            if table.standard and REGARDING in table.columns
            for target in table.columns[REGARDING].targets or {}
            if not self.schema.table(target).standard
        }

    def _note_targets(self) -> set[str]:
        """Custom tables the note table's ``objectid`` points at (notes enabled on them)."""
        return {
            target
            for table in self.schema.tables
            if table.standard and table.logical_name == NOTES and NOTE_OWNER in table.columns
            for target in table.columns[NOTE_OWNER].targets or {}
            if not self.schema.table(target).standard
        }

    # ------------------------------------------------------------- columns

    def _columns(self, table: Table) -> None:
        existing = self._existing(table)
        for name, column in table.columns.items():
            if existing is not None and name in existing.columns:
                self._check_type(table, name, column, existing.columns[name])
                continue
            if column.type == "lookup" or self._comes_with_table(table, name, column):
                continue
            if not self._may_create(table, name, column):
                continue
            body = metadata.column_definition(name, column)
            pending_choice = None
            if column.choices:
                self._need_choice(column.choices)
                existing_choice = self.environment.choices.get(column.choices)
                if existing_choice is None:
                    pending_choice = column.choices
                else:
                    body = metadata.bind_choice(body, existing_choice.metadata_id)
            self._column_steps.append(
                MetadataStep(
                    StepKind.COLUMN,
                    f"{table.logical_name}.{name}",
                    _describe(column),
                    table_path(table.logical_name, "Attributes"),
                    body,
                    choice=pending_choice,
                )
            )

    def _comes_with_table(self, table: Table, name: str, column: Column) -> bool:
        if table.logical_name not in self.creating:
            return False
        return (
            name in (table.primary_id, table.primary_name)
            or name in metadata.SYSTEM_COLUMNS
            or column.type in ("state", "status")
        )

    def _may_create(self, table: Table, name: str, column: Column) -> bool:
        where = f"{table.logical_name}.{name}"
        if column.type not in metadata.CREATABLE_TYPES:
            self.conflicts.append(
                f"column {where} ({column.type}) is missing and cannot be created: check the "
                "schema map"
            )
            return False
        if table.standard and metadata.prefix_of(name) not in self.prefixes:
            self.conflicts.append(
                f"column {where} is missing and is not a custom column (prefix "
                f"{', '.join(sorted(self.prefixes))}_): check the schema map's name for it"
            )
            return False
        return True

    def _check_type(self, table: Table, name: str, column: Column, found: str) -> None:
        allowed = metadata.EXISTING_TYPES.get(column.type, frozenset())
        if found in allowed:
            self.present += 1
            return
        self.conflicts.append(
            f"column {table.logical_name}.{name} is {found or 'of an unknown type'}, the product "
            f"needs {column.type}: map the product to another column in the schema map"
        )

    def _need_choice(self, name: str) -> None:
        if name in self._choices_seen:
            return
        self._choices_seen.add(name)
        choice = self.schema.choices[name]
        existing = self.environment.choices.get(name)
        if existing is None:
            self._choice_steps.append(
                MetadataStep(
                    StepKind.CHOICE,
                    name,
                    f"{len(choice.options)} options",
                    "GlobalOptionSetDefinitions",
                    metadata.choice_definition(name, choice),
                )
            )
            return
        self.present += 1
        missing = sorted(set(choice.options) - existing.values)
        if missing:
            self.conflicts.append(
                f"global choice {name} lacks the values {', '.join(map(str, missing))}: add "
                "them (with the product's labels) or map the product's values in the schema map"
            )

    # ------------------------------------------------------------- lookups

    def _lookups(self, table: Table) -> Iterator[MetadataStep]:
        existing = self._existing(table)
        for name, column in table.columns.items():
            for index, (target, link) in enumerate((column.targets or {}).items()):
                have = existing.lookups.get(name, frozenset()) if existing else frozenset()
                if target in have:
                    self.present += 1
                    continue
                step = self._lookup(table, name, column, target, link, index, existing)
                if step is not None:
                    yield step

    def _lookup(
        self,
        table: Table,
        name: str,
        column: Column,
        target: str,
        link: LookupTarget,
        index: int,
        existing: ExistingTable | None,
    ) -> MetadataStep | None:
        where = f"{table.logical_name}.{name}"
        target_table = self.schema.table(target)
        if name == REGARDING and table.standard:
            if target not in self.creating:
                self.conflicts.append(
                    f"{where} cannot point at {target}: turn on 'Enable for activities' "
                    f"({target} > Properties) in the maker portal, then run again"
                )
            return None
        if name == NOTE_OWNER and table.logical_name == NOTES and table.standard:
            if target not in self.creating:
                self.conflicts.append(
                    f"{where} cannot point at {target}: turn on 'Enable attachments' "
                    f"({target} > Properties) in the maker portal, then run again"
                )
            return None
        if not self._reachable(target_table):
            return None  # its table is missing: reported once, with the table
        if existing is not None and name in existing.columns:
            self.conflicts.append(
                f"lookup {where} exists but does not point at {target}: map the product to "
                "another column in the schema map"
            )
            return None
        if index > 0:
            self.conflicts.append(
                f"lookup {where} needs several targets ({', '.join(column.targets or {})}): "
                "polymorphic lookups are not provisioned; create it in the maker portal"
            )
            return None
        if table.standard and metadata.prefix_of(name) not in self.prefixes:
            self.conflicts.append(
                f"lookup {where} is missing and is not a custom column: check the schema map"
            )
            return None
        return MetadataStep(
            StepKind.RELATIONSHIP,
            link.relationship,
            f"{where} -> {target}",
            "RelationshipDefinitions",
            metadata.relationship_definition(table, name, column, target_table, link),
        )

    # ---------------------------------------------------------------- keys

    def _keys(self, table: Table) -> Iterator[MetadataStep]:
        existing = self._existing(table)
        found = existing.keys if existing else ()
        for key in table.keys:
            where = f"{table.logical_name}.{key.name}"
            same = [k for k in found if k.columns == frozenset(key.columns)]
            if same:
                self.present += 1
                if same[0].status == FAILED_KEY:
                    self.conflicts.append(
                        f"alternate key {table.logical_name}.{same[0].name} failed to build "
                        "(duplicate values?): remove the duplicates and reactivate the key"
                    )
                elif same[0].status and same[0].status != ACTIVE_KEY:
                    self.notes.append(
                        f"alternate key {table.logical_name}.{same[0].name} is still being "
                        f"built ({same[0].status})"
                    )
                continue
            if any(k.name == key.name for k in found):
                self.conflicts.append(
                    f"alternate key {where} exists over other columns than "
                    f"{', '.join(key.columns)}: remove it or rename the product's key"
                )
                continue
            yield MetadataStep(
                StepKind.KEY,
                where,
                ", ".join(key.columns),
                table_path(table.logical_name, "Keys"),
                metadata.key_definition(key),
            )


def _describe(column: Column) -> str:
    if column.type in ("string", "memo"):
        length = column.max_length or (
            metadata.STRING_LENGTH if column.type == "string" else metadata.MEMO_LENGTH
        )
        return f"{column.type}, {length} characters"
    if column.choices:
        return f"{column.type} of {column.choices}"
    return column.type

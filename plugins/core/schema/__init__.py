"""The Dataverse schema the product works with: tables, columns, choices and keys.

One JSON file (``tables.json``) describes every table the product reads or writes. The
sandbox serves exactly these tables, and provisioning creates the product's own ones in a
real environment, so what the tests see is what an organisation gets.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnType = Literal[
    "uniqueidentifier",
    "string",
    "memo",
    "integer",
    "bigint",
    "decimal",
    "money",
    "float",
    "boolean",
    "datetime",
    "date",
    "choice",
    "multichoice",
    "state",
    "status",
    "lookup",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LookupTarget(_Frozen):
    """One table a lookup column may point at, with the navigation names Dataverse uses."""

    nav: str = Field(description="single-valued navigation property on the referencing table")
    relationship: str = Field(
        description="relationship schema name; also the collection-valued navigation "
        "property on the referenced table"
    )
    cascade_delete: bool = Field(
        default=False, description="deleting the referenced row deletes the referencing rows"
    )


class Column(_Frozen):
    """A column as the Web API exposes it."""

    type: ColumnType
    label: str | None = None
    max_length: int | None = None
    choices: str | None = Field(default=None, description="name of a global choice")
    targets: dict[str, LookupTarget] | None = None
    required: bool = False
    readonly: bool = False
    write_only: bool = Field(default=False, description="never returned by reads (secrets)")

    @model_validator(mode="after")
    def _check(self) -> Column:
        if self.type in ("choice", "multichoice", "state", "status") and not self.choices:
            raise ValueError(f"a {self.type} column needs 'choices'")
        if self.type == "lookup" and not self.targets:
            raise ValueError("a lookup column needs 'targets'")
        return self


class AlternateKey(_Frozen):
    name: str
    columns: tuple[str, ...]


class ManyToMany(_Frozen):
    """An N:N relationship; each side reaches the other through a collection navigation."""

    name: str
    table1: str
    table2: str
    nav1: str = Field(description="collection navigation on table1 that lists table2 rows")
    nav2: str = Field(description="collection navigation on table2 that lists table1 rows")


class Table(_Frozen):
    logical_name: str
    entity_set: str
    primary_id: str
    primary_name: str
    standard: bool = Field(
        default=False, description="exists in every environment; provisioning maps, never creates"
    )
    label: str | None = None
    columns: dict[str, Column]
    keys: tuple[AlternateKey, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Table:
        if self.columns.get(self.primary_id, Column(type="string")).type != "uniqueidentifier":
            raise ValueError(f"{self.logical_name}: primary id must be a uniqueidentifier column")
        for key in self.keys:
            unknown = [c for c in key.columns if c not in self.columns]
            if unknown:
                raise ValueError(f"{self.logical_name}: key {key.name} names unknown {unknown}")
        return self


class Choice(_Frozen):
    """A global choice (option set): value -> label."""

    options: dict[int, str]

    def value_of(self, label: str) -> int:
        for value, text in self.options.items():
            if text == label:
                return value
        raise KeyError(label)


class Schema(_Frozen):
    tables: tuple[Table, ...]
    choices: dict[str, Choice] = {}
    many_to_many: tuple[ManyToMany, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Schema:
        logical = {t.logical_name for t in self.tables}
        for table in self.tables:
            for name, col in table.columns.items():
                if col.choices and col.choices not in self.choices:
                    raise ValueError(f"{table.logical_name}.{name}: unknown choice {col.choices}")
                for target in (col.targets or {}):
                    if target not in logical:
                        raise ValueError(f"{table.logical_name}.{name}: unknown target {target}")
        return self

    def table(self, logical_name: str) -> Table:
        for table in self.tables:
            if table.logical_name == logical_name:
                return table
        raise KeyError(logical_name)

    def by_entity_set(self, entity_set: str) -> Table | None:
        for table in self.tables:
            if table.entity_set == entity_set:
                return table
        return None

    def merged(self, other: Schema) -> Schema:
        """This schema plus another's tables, choices and relationships (other wins)."""
        names = {t.logical_name for t in other.tables}
        return Schema(
            tables=tuple(t for t in self.tables if t.logical_name not in names) + other.tables,
            choices={**self.choices, **other.choices},
            many_to_many=self.many_to_many + other.many_to_many,
        )


def load_schema(path: Path | str) -> Schema:
    """Read and validate a schema file."""
    return Schema.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def product_schema() -> Schema:
    """The schema shipped with the product (``plugins/core/schema/tables.json``)."""
    text = resources.files(__package__).joinpath("tables.json").read_text(encoding="utf-8")
    return Schema.model_validate(json.loads(text))

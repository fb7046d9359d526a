"""What a fresh Dynamics 365 environment has of a schema, before the product is provisioned.

A sandbox started with ``SandboxConfig(provisioned=False)`` serves only the schema's standard
tables, without the product's custom columns (the publisher prefix of its custom tables,
``mp_``), without their lookup targets that point at custom tables, and without the keys and
choices only those use; ``member-plugins provision`` then creates the rest through the
metadata Web API, as it would in a real environment.
"""

from __future__ import annotations

from plugins.core.schema import Column, Schema, Table


def unprovisioned(schema: Schema) -> Schema:
    """``schema`` as an environment has it before provisioning."""
    custom_tables = {t.logical_name for t in schema.tables if not t.standard}
    prefixes = {t.logical_name.split("_", 1)[0] + "_" for t in schema.tables if not t.standard}
    tables = tuple(
        _standard_part(table, custom_tables, prefixes) for table in schema.tables if table.standard
    )
    used = {c.choices for t in tables for c in t.columns.values() if c.choices}
    remaining = {t.logical_name for t in tables}
    return Schema(
        tables=tables,
        choices={name: choice for name, choice in schema.choices.items() if name in used},
        many_to_many=tuple(
            link
            for link in schema.many_to_many
            if {link.table1, link.table2} <= remaining
        ),
    )


def _standard_part(table: Table, custom_tables: set[str], prefixes: set[str]) -> Table:
    columns: dict[str, Column] = {}
    for name, column in table.columns.items():
        if name.startswith(tuple(prefixes)):
            continue
        if column.targets:
            targets = {t: link for t, link in column.targets.items() if t not in custom_tables}
            if not targets:
                continue
            column = column.model_copy(update={"targets": targets})
        columns[name] = column
    keys = tuple(key for key in table.keys if all(c in columns for c in key.columns))
    return table.model_copy(update={"columns": columns, "keys": keys})

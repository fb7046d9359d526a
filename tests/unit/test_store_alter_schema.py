"""``Store.alter_schema``: metadata created while the sandbox runs (tables, columns, keys)."""

from __future__ import annotations

import pytest

from plugins.core.schema import AlternateKey, Column, Schema, Table
from sandbox.errors import ODataError
from sandbox.odata.catalog import catalog
from sandbox.store import Caller, Store

CALLER = Caller(user_id="00000000-0000-4000-8000-000000000001")
PEOPLE = Table(
    logical_name="new_person", entity_set="new_persons", primary_id="new_personid",
    primary_name="new_name",
    columns={"new_personid": Column(type="uniqueidentifier"), "new_name": Column(type="string")},
)


def store_with(*names: str) -> Store:
    store = Store(Schema(tables=(PEOPLE,)))
    with store.transaction(CALLER):
        for name in names:
            store.insert("new_person", {"new_name": name})
    return store


def with_column_and_key(schema: Schema) -> Schema:
    table = schema.table("new_person")
    changed = table.model_copy(update={
        "columns": {**table.columns, "new_code": Column(type="string")},
        "keys": (AlternateKey(name="new_person_name", columns=("new_name",)),),
    })
    return Schema(tables=(changed,), choices=schema.choices)


def test_new_table_serves_rows_and_old_rows_stay() -> None:
    store = store_with("Anna")
    before = catalog(store)
    other = Table(
        logical_name="new_other", entity_set="new_others", primary_id="new_otherid",
        primary_name="new_name",
        columns={"new_otherid": Column(type="uniqueidentifier"), "new_name": Column(type="string")},
    )
    altered = store.alter_schema(lambda s: Schema(tables=(*s.tables, other)))
    assert store.schema is altered
    assert [r.values["new_name"] for r in store.rows("new_person")] == ["Anna"]
    with store.transaction(CALLER):
        store.insert("new_other", {"new_name": "x"})
    assert store.count("new_other") == 1
    assert catalog(store) is not before and "new_other" in catalog(store).tables


def test_new_key_indexes_existing_rows_and_is_enforced() -> None:
    store = store_with("Anna", "Bo")
    store.alter_schema(with_column_and_key)
    found = store.find_by_key("new_person", "new_person_name", {"new_name": "bo"})
    assert found is not None and found.values["new_name"] == "Bo"
    with pytest.raises(ODataError) as refused, store.transaction(CALLER):
        store.insert("new_person", {"new_name": "ANNA"})
    assert refused.value.status == 412
    with store.transaction(CALLER):
        store.update("new_person", found.id, {"new_code": "B1"})
    assert store.get("new_person", found.id).values["new_code"] == "B1"  # type: ignore[union-attr]


def test_key_that_existing_rows_violate_changes_nothing() -> None:
    store = store_with("Anna", "anna")
    schema = store.schema
    with pytest.raises(ODataError) as refused:
        store.alter_schema(with_column_and_key)
    assert refused.value.status == 412 and "new_person_name" in refused.value.message
    assert store.schema is schema and "new_code" not in store.table("new_person").columns


def test_tables_cannot_be_removed() -> None:
    store = store_with()
    with pytest.raises(ValueError, match="never remove"):
        store.alter_schema(lambda s: Schema(tables=()))

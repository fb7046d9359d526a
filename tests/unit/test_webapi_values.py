"""JSON body -> stored values: type checks, bindings and required columns (no server)."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from plugins.core.schema import Schema
from sandbox.errors import ODataError
from sandbox.store import Caller, Lookup, Store
from sandbox.webapi import WebApi
from sandbox.webapi.context import ApiContext, Preferences
from sandbox.webapi.values import (
    BodyReader,
    Link,
    check_required,
    parse_reference,
    resolve_reference,
)

SCHEMA = Schema.model_validate(
    {
        "choices": {"colour": {"options": {"1": "Red", "2": "Green", "9": "Blue"}}},
        "tables": [
            {
                "logical_name": "person",
                "entity_set": "people",
                "primary_id": "personid",
                "primary_name": "name",
                "columns": {
                    "personid": {"type": "uniqueidentifier"},
                    "name": {"type": "string", "max_length": 10, "required": True},
                    "code": {"type": "string", "max_length": 20},
                },
                "keys": [{"name": "person_code", "columns": ["code"]}],
            },
            {
                "logical_name": "thing",
                "entity_set": "things",
                "primary_id": "thingid",
                "primary_name": "title",
                "columns": {
                    "thingid": {"type": "uniqueidentifier"},
                    "title": {"type": "string", "max_length": 5},
                    "notes": {"type": "memo", "max_length": 100},
                    "count": {"type": "integer"},
                    "big": {"type": "bigint"},
                    "price": {"type": "money"},
                    "ratio": {"type": "float"},
                    "flag": {"type": "boolean"},
                    "when": {"type": "datetime"},
                    "day": {"type": "date"},
                    "colour": {"type": "choice", "choices": "colour"},
                    "colours": {"type": "multichoice", "choices": "colour"},
                    "ref": {"type": "uniqueidentifier"},
                    "createdon": {"type": "datetime", "readonly": True},
                    "personid": {
                        "type": "lookup",
                        "targets": {"person": {"nav": "PersonId", "relationship": "person_things"}},
                    },
                    "ownerid": {
                        "type": "lookup",
                        "targets": {
                            "person": {"nav": "owningperson", "relationship": "person_owned"}
                        },
                    },
                },
            },
        ],
    }
)
PERSON_ID = "6b0f0d57-3a39-4b0e-9d1f-3f1f6d1f0a01"
THING_ID = "6b0f0d57-3a39-4b0e-9d1f-3f1f6d1f0a02"
MISSING_ID = "6b0f0d57-3a39-4b0e-9d1f-3f1f6d1f0aff"


@pytest.fixture
def ctx() -> ApiContext:
    store = Store(SCHEMA)
    caller = Caller(user_id="00000000-0000-4000-8000-000000000001")
    with store.transaction(caller):
        store.insert("person", {"name": "Ada", "code": "A1"}, PERSON_ID)
        store.insert("thing", {"title": "box"}, THING_ID)
    builder = EnvironBuilder(path="/api/data/v9.2/things", base_url="https://org.example/")
    return ApiContext(WebApi(store), Request(builder.get_environ()), caller, Preferences())


def read(ctx: ApiContext, body: dict[str, Any], table: str = "thing") -> dict[str, Any]:
    return BodyReader(ctx, SCHEMA.table(table)).read(body).values


def error_of(ctx: ApiContext, body: dict[str, Any], table: str = "thing") -> ODataError:
    with pytest.raises(ODataError) as caught:
        read(ctx, body, table)
    return caught.value


# ------------------------------------------------------------------- plain values


def test_values_of_every_type_are_kept_in_web_api_form(ctx: ApiContext) -> None:
    values = read(
        ctx,
        {
            "title": "abc",
            "notes": "long text",
            "count": 42,
            "big": 2**40,
            "price": 12.5,
            "ratio": 3,
            "flag": False,
            "colour": 9,
            "ref": "6B0F0D57-3A39-4B0E-9D1F-3F1F6D1F0A09",
        },
    )

    assert values == {
        "title": "abc",
        "notes": "long text",
        "count": 42,
        "big": 2**40,
        "price": 12.5,
        "ratio": 3,
        "flag": False,
        "colour": 9,
        "ref": "6b0f0d57-3a39-4b0e-9d1f-3f1f6d1f0a09",
    }


def test_null_is_kept_for_every_type(ctx: ApiContext) -> None:
    assert read(ctx, {"title": None, "count": None, "when": None}) == {
        "title": None,
        "count": None,
        "when": None,
    }


def test_string_longer_than_max_length_is_dataverses_validation_error(ctx: ApiContext) -> None:
    error = error_of(ctx, {"title": "sixsix"})

    assert (error.status, error.code) == (400, "0x80044331")
    assert error.message == (
        "A validation error occurred.  The length of the 'title' attribute of the 'thing' "
        "entity exceeded the maximum allowed length of '5'."
    )


@pytest.mark.parametrize(
    ("name", "value", "edm"),
    [
        ("title", 5, "String"),
        ("count", "5", "Int32"),
        ("count", True, "Int32"),
        ("count", 1.5, "Int32"),
        ("price", "12.5", "Decimal"),
        ("flag", "true", "Boolean"),
        ("flag", 1, "Boolean"),
        ("ref", "not-a-guid", "Guid"),
        ("when", "yesterday", "DateTimeOffset"),
        ("when", 1714557600, "DateTimeOffset"),
        ("day", "1990-02-30", "Date"),
        ("day", "1990-01-31T00:00:00Z", "Date"),
        ("colours", 1, "String"),
        ("colours", "1;2", "String"),
    ],
)
def test_wrong_types_are_refused(ctx: ApiContext, name: str, value: Any, edm: str) -> None:
    error = error_of(ctx, {name: value})

    assert (error.status, error.code) == (400, "0x0")
    assert f"'Edm.{edm}'" in error.message
    assert str(value) not in error.message


def test_whole_number_outside_int32_is_refused(ctx: ApiContext) -> None:
    error = error_of(ctx, {"count": 2**31})

    assert (error.status, error.code) == (400, "0x80044331")
    assert "outside the valid range" in error.message


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00Z"),
        ("2024-05-01", "2024-05-01T00:00:00Z"),
    ],
)
def test_datetimes_are_normalised_to_utc(ctx: ApiContext, sent: str, stored: str) -> None:
    assert read(ctx, {"when": sent}) == {"when": stored}


def test_date_only_column_keeps_the_date(ctx: ApiContext) -> None:
    assert read(ctx, {"day": "1990-01-31"}) == {"day": "1990-01-31"}


def test_choice_outside_the_option_set_is_refused(ctx: ApiContext) -> None:
    error = error_of(ctx, {"colour": 3})

    assert (error.status, error.code) == (400, "0x80044331")
    assert error.message.endswith("is outside the valid range. Accepted Values: 1,2,9")


@pytest.mark.parametrize(
    ("sent", "stored"), [("1, 9", "1,9"), ("2", "2"), (" 9 ,1 ", "9,1"), ("", None)]
)
def test_multi_select_is_normalised(ctx: ApiContext, sent: str, stored: str | None) -> None:
    assert read(ctx, {"colours": sent}) == {"colours": stored}


def test_multi_select_with_an_unknown_option_is_refused(ctx: ApiContext) -> None:
    error = error_of(ctx, {"colours": "1,5"})

    assert (error.status, error.code) == (400, "0x80044331")


def test_unknown_property_is_dataverses_0x0(ctx: ApiContext) -> None:
    error = error_of(ctx, {"Title": "x"})

    assert (error.status, error.code) == (400, "0x0")
    assert error.message == (
        "Could not find a property named 'Title' on type 'Microsoft.Dynamics.CRM.thing'."
    )


def test_read_only_columns_and_annotations_are_ignored(ctx: ApiContext) -> None:
    body = {
        "createdon": "2020-01-01T00:00:00Z",
        "@odata.type": "Microsoft.Dynamics.CRM.thing",
        "title@OData.Community.Display.V1.FormattedValue": "x",
        "title": "ok",
    }

    assert read(ctx, body) == {"title": "ok"}


# ---------------------------------------------------------------------- bindings


@pytest.mark.parametrize(
    "url",
    [
        f"/people({PERSON_ID})",
        f"people({PERSON_ID})",
        f"people({PERSON_ID.upper()})",
        f"https://org.example/api/data/v9.2/people({PERSON_ID})",
        f"/api/data/v9.2/people({PERSON_ID})",
        f"people(personid={PERSON_ID})",
        "/people(code='A1')",
        "people(code=%27a1%27)",
    ],
)
def test_bind_sets_the_lookup(ctx: ApiContext, url: str) -> None:
    assert read(ctx, {"PersonId@odata.bind": url}) == {"personid": Lookup("person", PERSON_ID)}


@pytest.mark.parametrize("body", [{"PersonId@odata.bind": None}, {"PersonId": None}])
def test_null_bind_or_null_navigation_clears(ctx: ApiContext, body: dict[str, Any]) -> None:
    assert read(ctx, body) == {"personid": None}


def test_owner_is_bound_through_ownerid(ctx: ApiContext) -> None:
    values = read(ctx, {"ownerid@odata.bind": f"/people({PERSON_ID})"})

    assert values == {"ownerid": Lookup("person", PERSON_ID)}


def test_bind_with_an_unknown_navigation_is_dataverses_payload_error(ctx: ApiContext) -> None:
    error = error_of(ctx, {"personid@odata.bind": f"/people({PERSON_ID})"})

    assert (error.status, error.code) == (400, "0x80048d19")
    assert "'personid'" in error.message


def test_bind_to_a_missing_row_is_not_found(ctx: ApiContext) -> None:
    error = error_of(ctx, {"PersonId@odata.bind": f"/people({MISSING_ID})"})

    assert (error.status, error.code) == (404, "0x80040217")
    assert error.message == f"person With Id = {MISSING_ID} Does Not Exist"


def test_bind_by_a_missing_alternate_key_is_not_found(ctx: ApiContext) -> None:
    error = error_of(ctx, {"PersonId@odata.bind": "/people(code='nobody')"})

    assert (error.status, error.code) == (404, "0x80060891")


def test_bind_to_a_row_of_another_table_is_refused(ctx: ApiContext) -> None:
    error = error_of(ctx, {"PersonId@odata.bind": f"/things({THING_ID})"})

    assert (error.status, error.code) == (400, "0x80048d19")


@pytest.mark.parametrize(
    "body",
    [
        {"_personid_value": PERSON_ID},
        {"personid": PERSON_ID},
        {"PersonId": PERSON_ID},
    ],
)
def test_lookup_values_cannot_be_written_directly(ctx: ApiContext, body: dict[str, Any]) -> None:
    error = error_of(ctx, body)

    assert (error.status, error.code) == (400, "0x80060888")


def test_deep_insert_is_refused_with_a_clear_message(ctx: ApiContext) -> None:
    error = error_of(ctx, {"PersonId": {"name": "Bo"}})

    assert error.status == 400
    assert "deep insert" in error.message


def test_collection_bind_links_the_related_rows(ctx: ApiContext) -> None:
    changes = BodyReader(ctx, SCHEMA.table("person")).read(
        {"name": "Bo", "person_things@odata.bind": [f"/things({THING_ID})"]}
    )

    assert changes.values == {"name": "Bo"}
    assert changes.links == [Link(SCHEMA.table("thing"), "personid", THING_ID)]


# ---------------------------------------------------------------- references


@pytest.mark.parametrize(
    "url", ["/nosuch(1)", "people", f"people({PERSON_ID})/name", "", "people(code='x"]
)
def test_references_that_do_not_name_a_row_are_refused(ctx: ApiContext, url: str) -> None:
    with pytest.raises(ODataError) as caught:
        parse_reference(ctx, url)

    assert caught.value.status == 400


def test_resolve_reference_returns_table_and_row(ctx: ApiContext) -> None:
    table, row = resolve_reference(ctx, "people(code='A1')")

    assert (table.logical_name, row.id) == ("person", PERSON_ID)


# -------------------------------------------------------------- required columns


def test_create_without_a_required_column_is_refused() -> None:
    with pytest.raises(ODataError) as caught:
        check_required(SCHEMA.table("person"), {"code": "B2"}, creating=True)

    assert (caught.value.status, caught.value.code) == (400, "0x80040203")
    assert caught.value.message == "Attribute 'name' cannot be NULL"


def test_update_may_leave_out_but_not_empty_a_required_column() -> None:
    person = SCHEMA.table("person")
    check_required(person, {"code": "B2"}, creating=False)

    with pytest.raises(ODataError):
        check_required(person, {"name": None}, creating=False)

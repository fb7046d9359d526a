"""OData literals, keys, binds and query options are built right and quoted safely."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import unquote

import pytest

from plugins.dataverse import odata
from plugins.dataverse.odata import Expand, asc, desc, eq

GUID = "6d81597f-0f9f-e711-8122-000d3aa2331c"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (2.5, "2.5"),
        (Decimal("20000.0000"), "20000.0000"),
        (Decimal("1E+3"), "1000"),
        (uuid.UUID(GUID), GUID),
        ("O'Bryan", "'O''Bryan'"),
        ("''", "''''''"),
        ("", "''"),
        (GUID, f"'{GUID}'"),
        ("a&b=c#d", "'a&b=c#d'"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2023, 4, 7, 21, 59, 1, tzinfo=UTC), "2023-04-07T21:59:01Z"),
        (datetime(2023, 4, 7, 21, 59, 1), "2023-04-07T21:59:01Z"),
        (datetime(2023, 4, 7, 23, 59, 1, 250000, tzinfo=timezone(timedelta(hours=2))),
         "2023-04-07T21:59:01.250Z"),
    ],
)
def test_literals(value: object, text: str) -> None:
    assert odata.literal(value) == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN")])
def test_non_finite_numbers_have_no_literal(value: object) -> None:
    with pytest.raises(ValueError):
        odata.literal(value)


def test_unsupported_type_has_no_literal() -> None:
    with pytest.raises(TypeError):
        odata.literal(object())


@pytest.mark.parametrize("name", ["firstname", "_parentcustomerid_value", "mp_nationalid"])
def test_identifiers(name: str) -> None:
    assert odata.identifier(name) == name


@pytest.mark.parametrize("name", ["", "first name", "a'b", "x)", "1abc", "a/b", "a;b"])
def test_bad_identifiers_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        odata.identifier(name)


def test_property_path_allows_navigation() -> None:
    assert odata.property_path("parentcustomerid_account/name") == "parentcustomerid_account/name"
    with pytest.raises(ValueError):
        odata.property_path("a//b")


def test_guid_normalises_and_validates() -> None:
    assert odata.guid(GUID.upper()) == GUID
    assert odata.guid(uuid.UUID(GUID)) == GUID
    with pytest.raises(ValueError):
        odata.guid("not-a-guid")


def test_entity_path_by_guid() -> None:
    assert odata.entity_path("contacts", GUID.upper()) == f"contacts({GUID})"
    assert odata.entity_path("contacts", uuid.UUID(GUID)) == f"contacts({GUID})"


def test_entity_path_by_alternate_key() -> None:
    assert (
        odata.entity_path("contacts", {"mp_nationalid": "19900101-1234"})
        == "contacts(mp_nationalid='19900101-1234')"
    )


def test_multi_part_key_with_quotes_and_specials_is_encoded() -> None:
    path = odata.entity_path(
        "contacts", {"firstname": "Jo'e", "emailaddress1": "a+b@x.se", "n": 2}
    )
    assert path == "contacts(firstname='Jo''e',emailaddress1='a%2Bb@x.se',n=2)"
    assert unquote(path) == "contacts(firstname='Jo''e',emailaddress1='a+b@x.se',n=2)"


def test_key_values_cannot_break_out_of_the_segment() -> None:
    path = odata.entity_path("contacts", {"mp_nationalid": "x')/../accounts?$top=1#"})
    assert "?" not in path and "#" not in path
    assert path.startswith("contacts(mp_nationalid='x'')/../accounts%3F")


def test_lookup_key_uses_bare_guid() -> None:
    key = {"_primarycontactid_value": uuid.UUID(GUID)}
    assert odata.key_segment(key) == f"_primarycontactid_value={GUID}"


def test_empty_key_or_bad_column_is_refused() -> None:
    with pytest.raises(ValueError):
        odata.key_segment({})
    with pytest.raises(ValueError):
        odata.key_segment({"bad column": 1})
    with pytest.raises(ValueError):
        odata.entity_path("contacts", "19900101-1234")


def test_bind() -> None:
    assert odata.bind("accounts", GUID) == f"/accounts({GUID})"
    assert odata.bind("contacts", {"mp_nationalid": "1"}) == "/contacts(mp_nationalid='1')"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://org.crm.dynamics.com/api/data/v9.2/contacts({GUID.upper()})", GUID),
        (f"http://127.0.0.1:5/api/data/v9.2/contacts(contactid={GUID})", GUID),
        (f"contacts({GUID})/", GUID),
        ("https://x/api/data/v9.2/contacts(mp_nationalid='1990')", None),
        ("https://x/api/data/v9.2/records(key1=2,key2=2)", None),
        ("https://x/api/data/v9.2/WhoAmI", None),
    ],
)
def test_entity_id_from_url(url: str, expected: str | None) -> None:
    assert odata.entity_id_from_url(url) == expected


def test_filters_and_combinators() -> None:
    clause = eq("lastname", "O'Bryan") & (
        odata.gt("createdon", datetime(2024, 1, 1, tzinfo=UTC)) | ~eq("statecode", 1)
    )
    assert clause.text == (
        "(lastname eq 'O''Bryan') and "
        "((createdon gt 2024-01-01T00:00:00Z) or (not (statecode eq 1)))"
    )
    assert str(odata.ne("a", None)) == "a ne null"
    assert odata.ge("a", 1).text == "a ge 1"
    assert odata.lt("a", 1).text == "a lt 1"
    assert odata.le("a", 1).text == "a le 1"
    assert odata.and_(eq("a", 1)).text == "a eq 1"
    assert odata.eq("_parentcustomerid_value", uuid.UUID(GUID)).text == (
        f"_parentcustomerid_value eq {GUID}"
    )


def test_empty_combinations_are_refused() -> None:
    with pytest.raises(ValueError):
        odata.and_()
    with pytest.raises(ValueError):
        odata.in_("a", [])


def test_in_is_an_or_of_eq() -> None:
    assert odata.in_("lastname", ["a", "b'c"]).text == "(lastname eq 'a') or (lastname eq 'b''c')"


def test_string_functions_escape_wildcards_and_quotes() -> None:
    assert odata.contains("fullname", "50%_off [x]'s").text == (
        "contains(fullname,'50[%][_]off [[]x]''s')"
    )
    assert odata.startswith("a", "x").text == "startswith(a,'x')"
    assert odata.endswith("a", "x").text == "endswith(a,'x')"
    with pytest.raises(TypeError):
        odata.contains("a", 5)  # type: ignore[arg-type]


def test_filter_column_must_be_an_identifier() -> None:
    with pytest.raises(ValueError):
        eq("a eq 1 or b", 1)


def test_query_string_encodes_values_and_keeps_odata_punctuation() -> None:
    query = odata.query_string(
        select=["fullname", "emailaddress1"],
        filter=eq("lastname", "A&B #1") & odata.contains("fullname", "x"),
        orderby=[asc("lastname"), desc("createdon")],
        top=10,
        expand=[
            Expand(
                "parentcustomerid_account",
                select=["name"],
                filter=eq("statecode", 0),
                orderby=[desc("name")],
                top=3,
                expand=[Expand("primarycontactid", select=["fullname"])],
            ),
            Expand("owninguser"),
        ],
        extra={"tag": "member plugins&co"},
    )
    parts = dict(item.split("=", 1) for item in query.split("&"))
    assert parts["$select"] == "fullname,emailaddress1"
    assert unquote(parts["$filter"]) == (
        "(lastname eq 'A&B #1') and (contains(fullname,'x'))"
    )
    assert "%26" in parts["$filter"] and "%23" in parts["$filter"] and " " not in query
    assert unquote(parts["$orderby"]) == "lastname,createdon desc"
    assert parts["$top"] == "10"
    assert unquote(parts["$expand"]) == (
        "parentcustomerid_account($select=name;$filter=statecode eq 0;$orderby=name desc;"
        "$top=3;$expand=primarycontactid($select=fullname)),owninguser"
    )
    assert parts["tag"] == "member%20plugins%26co"


def test_query_string_empty_and_top_validation() -> None:
    assert odata.query_string() == ""
    assert odata.with_query("contacts", "") == "contacts"
    assert odata.with_query("contacts", "$top=1") == "contacts?$top=1"
    with pytest.raises(ValueError):
        odata.query_string(top=0)
    with pytest.raises(ValueError):
        odata.query_string(select=["full name"])


def test_json_default_for_bodies() -> None:
    body = {
        "when": datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        "day": date(2024, 5, 1),
        "id": uuid.UUID(GUID),
        "amount": Decimal("12.50"),
    }
    assert json.loads(json.dumps(body, default=odata.json_default)) == {
        "when": "2024-05-01T10:00:00Z", "day": "2024-05-01", "id": GUID, "amount": 12.5,
    }
    with pytest.raises(TypeError):
        json.dumps({"x": object()}, default=odata.json_default)

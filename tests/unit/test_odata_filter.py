"""``$filter``: lexing, parsing (precedence, quoting, positions), compiling and evaluating."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugins.core.schema import product_schema
from sandbox.app import system_schema
from sandbox.errors import ODataError
from sandbox.odata.catalog import Catalog
from sandbox.odata.compiler import compile_filter, like_matcher
from sandbox.odata.fields import DictFields, RowFields
from sandbox.odata.lexer import tokenize
from sandbox.odata.nodes import Compare, Literal, Logical, Not, Property
from sandbox.odata.parser import parse_filter
from sandbox.store import Caller, Lookup, Store

KINDS = {
    "name": "string",
    "age": "integer",
    "score": "decimal",
    "active": "boolean",
    "born": "date",
    "seen": "datetime",
    "id": "guid",
    "topics": "multichoice",
}
PEOPLE: list[dict[str, Any]] = [
    {
        "name": "Ann",
        "age": 30,
        "score": 1.5,
        "active": True,
        "born": "1994-03-01",
        "seen": "2024-01-01T10:00:00Z",
        "id": "6d81597f-0f9f-e711-8122-000d3aa2331c",
        "topics": "1,2",
    },
    {
        "name": "O'Bryan",
        "age": 41,
        "score": 7.25,
        "active": False,
        "born": "1983-12-24",
        "seen": "2024-06-30T23:59:59Z",
        "id": "75c2dd85-e89e-e711-8122-000d3aa2331c",
        "topics": "3",
    },
    {
        "name": "bob",
        "age": None,
        "score": None,
        "active": None,
        "born": None,
        "seen": None,
        "id": "4ef5b371-e89e-e711-8122-000d3aa2331c",
        "topics": None,
    },
]


def names(text: str, records: list[dict[str, Any]] = PEOPLE) -> list[str]:
    keep = compile_filter(parse_filter(text), DictFields("Microsoft.Dynamics.CRM.person", KINDS))
    return [r["name"] for r in records if keep(r)]


def error_of(text: str) -> ODataError:
    with pytest.raises(ODataError) as caught:
        names(text)
    return caught.value


# ----------------------------------------------------------------- lexing / parsing


def test_tokens_carry_their_kind_value_and_position() -> None:
    tokens = tokenize("seen ge 2024-01-01T00:00:00Z and id eq 6D81597F-0F9F-E711-8122-000D3AA2331C")
    assert [(t.kind, t.pos) for t in tokens] == [
        ("identifier", 0),
        ("identifier", 5),
        ("datetime", 8),
        ("identifier", 29),
        ("identifier", 33),
        ("identifier", 36),
        ("guid", 39),
        ("end", 75),
    ]
    assert [t.kind for t in tokenize("1 2.5 -3 1990-01-02 'x' null")][:6] == [
        "integer",
        "decimal",
        "integer",
        "date",
        "string",
        "identifier",
    ]


def test_doubled_quotes_are_one_quote() -> None:
    node = parse_filter("name eq 'O''Bryan'")
    assert node == Compare("eq", Property(("name",), 0), Literal("string", "O'Bryan", 8), 5)
    assert names("name eq 'O''Bryan'") == ["O'Bryan"]
    assert names("name eq ''") == []


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    node = parse_filter("not active or age eq 1 and name eq 'x'")
    assert isinstance(node, Logical) and node.op == "or"
    assert isinstance(node.left, Not)
    assert isinstance(node.right, Logical) and node.right.op == "and"
    assert names("age eq 30 or age eq 41 and name eq 'nobody'") == ["Ann"]
    assert names("(age eq 30 or age eq 41) and name eq 'nobody'") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name eq", "Expression expected at position 7 in 'name eq'."),
        ("name eq 'x' and", "Expression expected at position 15 in 'name eq 'x' and'."),
        ("name eq 'x' 'y'", "Syntax error at position 12 in 'name eq 'x' 'y''."),
        ("(age eq 1", "')' or operator expected at position 9 in '(age eq 1'."),
        (
            "name eq 'abc",
            "There is an unterminated string literal at position 8 in 'name eq 'abc'.",
        ),
        ("age eq #", "Syntax error: character '#' is not valid at position 7 in 'age eq #'."),
        ("contains(name 'a')", "')' or ',' expected at position 14 in 'contains(name 'a')'."),
    ],
)
def test_syntax_errors_name_the_position(text: str, message: str) -> None:
    error = error_of(text)
    assert (error.status, error.code, error.message) == (400, "0x80060888", message)


# ----------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("age eq 30", ["Ann"]),
        ("age ne 30", ["O'Bryan"]),
        ("age gt 30", ["O'Bryan"]),
        ("age ge 30", ["Ann", "O'Bryan"]),
        ("age lt 41", ["Ann"]),
        ("age le 41", ["Ann", "O'Bryan"]),
        ("score gt 1.5", ["O'Bryan"]),
        ("score ge 1", ["Ann", "O'Bryan"]),
        ("30 lt age", ["O'Bryan"]),
        ("active eq true", ["Ann"]),
        ("active eq false", ["O'Bryan"]),
        ("active", ["Ann"]),
        ("not active", ["O'Bryan"]),
        ("name gt 'Ann'", ["O'Bryan", "bob"]),
    ],
)
def test_comparison_operators(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_string_equality_is_case_insensitive() -> None:
    assert names("name eq 'ANN'") == ["Ann"]
    assert names("name eq 'BOB'") == ["bob"]
    assert names("name ne 'ann'") == ["O'Bryan", "bob"]


def test_null_comparisons_follow_sql() -> None:
    assert names("age eq null") == ["bob"]
    assert names("age ne null") == ["Ann", "O'Bryan"]
    assert names("age ne 30") == ["O'Bryan"]  # null is unknown, not "different"
    assert names("not (age eq 30)") == ["O'Bryan"]
    assert names("not (age gt 100)") == ["Ann", "O'Bryan"]
    assert names("age gt null") == []
    assert names("not (age eq null)") == ["Ann", "O'Bryan"]


def test_guids_may_be_quoted_or_not_and_any_case() -> None:
    assert names("id eq 6D81597F-0F9F-E711-8122-000D3AA2331C") == ["Ann"]
    assert names("id eq '75c2dd85-e89e-e711-8122-000d3aa2331c'") == ["O'Bryan"]
    assert error_of("id eq 'not-a-guid'").code == "0x80060888"


def test_datetimes_and_dates() -> None:
    assert names("seen ge 2024-06-01T00:00:00Z") == ["O'Bryan"]
    assert names("seen lt 2024-01-01T12:00:00+02:00") == []
    assert names("seen lt 2024-01-01T12:00:00+01:00") == ["Ann"]
    assert names("seen gt 2024-06-30") == ["O'Bryan"]
    assert names("born lt 1990-01-01") == ["O'Bryan"]
    assert names("born eq 1994-03-01T08:00:00Z") == ["Ann"]


def test_multi_select_equality_ignores_order() -> None:
    assert names("topics eq '2,1'") == ["Ann"]
    assert names("topics ne '3'") == ["Ann"]


def test_constant_and_property_comparisons() -> None:
    assert names("1 eq 1") == ["Ann", "O'Bryan", "bob"]
    assert names("true") == ["Ann", "O'Bryan", "bob"]
    assert names("null eq 1") == []
    records = [{"name": "a", "age": 3, "score": 3.0}, {"name": "b", "age": 4, "score": 3.0}]
    assert names("age eq score", records) == ["a"]
    assert names("age gt score", records) == ["b"]


@pytest.mark.parametrize(
    ("text", "operands", "kind"),
    [
        ("name eq 1", "'Edm.String' and 'Edm.Int32'", "Equal"),
        ("age gt 'x'", "'Edm.Int32' and 'Edm.String'", "GreaterThan"),
        ("seen ge '2024-01-01'", "'Edm.DateTimeOffset' and 'Edm.String'", "GreaterThanOrEqual"),
        ("active ne 1", "'Edm.Boolean' and 'Edm.Int32'", "NotEqual"),
    ],
)
def test_incompatible_types_are_refused(text: str, operands: str, kind: str) -> None:
    error = error_of(text)
    assert error.code == "0x80060888"
    assert error.message == (
        f"A binary operator with incompatible types was detected. Found operand types "
        f"{operands} for operator kind '{kind}'."
    )


def test_unknown_property_is_0x0() -> None:
    error = error_of("nope eq 1")
    assert (error.status, error.code) == (400, "0x0")
    assert (
        error.message
        == "Could not find a property named 'nope' on type 'Microsoft.Dynamics.CRM.person'."
    )


def test_a_filter_must_be_boolean() -> None:
    assert (
        error_of("age").message == "The $filter expression must evaluate to a single boolean value."
    )
    assert error_of("'x'").code == "0x80060888"


# ----------------------------------------------------------------- string functions


def test_string_functions_are_case_insensitive() -> None:
    assert names("contains(name,'NN')") == ["Ann"]
    assert names("startswith(name,'o''b')") == ["O'Bryan"]
    assert names("endswith(name,'OB')") == ["bob"]
    assert names("not contains(name,'nn')") == ["O'Bryan", "bob"]
    assert names("contains(name,'nn') eq false") == ["O'Bryan", "bob"]


def test_string_functions_treat_like_wildcards_as_wildcards() -> None:
    assert like_matcher("contains", "a%n")("xAbcNy")
    assert like_matcher("startswith", "b_b")("Bob")
    assert not like_matcher("startswith", "b_b")("Bo")
    assert like_matcher("endswith", "[a-c]nn")("Ann")
    assert not like_matcher("endswith", "[^a]nn")("Ann")
    assert like_matcher("contains", "1.5")("v1.5") and not like_matcher("contains", "1.5")("v105")


def test_string_function_errors() -> None:
    assert error_of("contains(age,'1')").message.startswith(
        "No function signature for the function with name 'contains'"
    )
    assert error_of("tolower(name) eq 'x'").code == "0x80060888"
    assert error_of("contains(name)").code == "0x80060888"


# ----------------------------------------------------------------- Dataverse functions


def crm(name: str, prop: str, values: str) -> str:
    return f"Microsoft.Dynamics.CRM.{name}(PropertyName='{prop}',{values})"


def test_contain_values_and_does_not_contain_values() -> None:
    assert names(crm("ContainValues", "topics", "PropertyValues=['2','5']")) == ["Ann"]
    assert names(crm("ContainValues", "topics", 'PropertyValues=["3"]')) == ["O'Bryan"]
    assert names(crm("DoesNotContainValues", "topics", "PropertyValues=['3']")) == ["Ann", "bob"]
    assert names("not " + crm("ContainValues", "topics", "PropertyValues=['3']")) == ["Ann", "bob"]


def test_in_not_in_and_between() -> None:
    assert names(crm("In", "name", "PropertyValues=['ann','BOB']")) == ["Ann", "bob"]
    assert names(crm("NotIn", "age", "PropertyValues=['30']")) == ["O'Bryan"]
    assert names(crm("In", "age", "PropertyValues=[41,99]")) == ["O'Bryan"]
    assert names(crm("Between", "age", "PropertyValues=['31','50']")) == ["O'Bryan"]
    assert names(crm("NotBetween", "age", "PropertyValues=['31','50']")) == ["Ann"]


def test_date_functions() -> None:
    assert names(crm("OnOrAfter", "seen", "PropertyValue='2024-06-30'")) == ["O'Bryan"]
    assert names(crm("OnOrBefore", "seen", "PropertyValue='2024-01-01'")) == ["Ann"]
    assert names(crm("On", "born", "PropertyValue='1983-12-24'")) == ["O'Bryan"]
    now = datetime.now(UTC)
    recent = [
        {"name": "today", "seen": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
        {"name": "last week", "seen": (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        {"name": "never", "seen": None},
    ]
    assert names(crm("LastXDays", "seen", "PropertyValue=3"), recent) == ["today"]
    assert names(crm("LastXDays", "seen", "PropertyValue='8'"), recent) == ["today", "last week"]
    assert names("Microsoft.Dynamics.CRM.Today(PropertyName='seen')", recent) == ["today"]


def test_dataverse_function_errors() -> None:
    assert error_of(crm("Nope", "age", "PropertyValue='1'")).message.startswith(
        "An unknown function with name 'Microsoft.Dynamics.CRM.Nope' was found."
    )
    assert error_of(crm("ContainValues", "age", "PropertyValues=['1']")).code == "0x80060888"
    assert error_of(crm("In", "age", "PropertyValues=['x']")).code == "0x80060888"
    assert error_of(crm("In", "nope", "PropertyValues=['1']")).code == "0x0"
    assert error_of("Microsoft.Dynamics.CRM.In(PropertyValues=['1'])").code == "0x80060888"


# ----------------------------------------------------------------- rows of tables


@pytest.fixture
def store() -> Store:
    return Store(product_schema().merged(system_schema()))


def row_filter(store: Store, table: str, text: str) -> list[Mapping[str, Any]]:
    catalog = Catalog(store)
    keep = compile_filter(parse_filter(text), RowFields(catalog, catalog.info(table)))
    return [row.values for row in store.rows(table) if keep(row.values)]


def test_lookups_are_filtered_as_value_properties(store: Store) -> None:
    with store.transaction(Caller(user_id="u")):
        ann = store.insert("contact", {"firstname": "Ann"})
        store.insert(
            "task", {"subject": "call Ann", "regardingobjectid": Lookup("contact", ann.id)}
        )
        store.insert("task", {"subject": "nothing"})
    found = row_filter(store, "task", f"_regardingobjectid_value eq {ann.id.upper()}")
    assert [v["subject"] for v in found] == ["call Ann"]
    found = row_filter(store, "task", "_regardingobjectid_value eq null")
    assert [v["subject"] for v in found] == ["nothing"]
    with pytest.raises(ODataError) as caught:
        row_filter(store, "task", f"regardingobjectid eq {ann.id}")
    assert caught.value.code == "0x0"


def test_single_valued_navigation_paths(store: Store) -> None:
    with store.transaction(Caller(user_id="u")):
        update = store.insert("sdkmessage", {"name": "Update"})
        create = store.insert("sdkmessage", {"name": "Create"})
        store.insert(
            "sdkmessagefilter",
            {"primaryobjecttypecode": "contact", "sdkmessageid": Lookup("sdkmessage", update.id)},
        )
        store.insert(
            "sdkmessagefilter",
            {"primaryobjecttypecode": "contact", "sdkmessageid": Lookup("sdkmessage", create.id)},
        )
    found = row_filter(
        store,
        "sdkmessagefilter",
        "primaryobjecttypecode eq 'contact' and sdkmessageid/name eq 'update'",
    )
    assert [v["sdkmessageid"].id for v in found] == [update.id]
    with pytest.raises(ODataError):
        row_filter(store, "sdkmessagefilter", "sdkmessageid/nope eq 'x'")


def test_write_only_columns_cannot_be_filtered(store: Store) -> None:
    with pytest.raises(ODataError) as caught:
        row_filter(store, "serviceendpoint", "authvalue eq 'secret'")
    assert caught.value.code == "0x0"


def test_a_compiled_filter_is_fast(store: Store) -> None:
    catalog = Catalog(store)
    keep = compile_filter(
        parse_filter("statecode eq 0 and contains(lastname,'7') and mp_deceased ne true"),
        RowFields(catalog, catalog.info("contact")),
    )
    records = [
        {"statecode": i % 2, "lastname": f"Name {i}", "mp_deceased": bool(i % 3)}
        for i in range(100_000)
    ]
    started = datetime.now()
    matched = sum(1 for record in records if keep(record))
    assert matched == sum(1 for i in range(100_000) if i % 2 == 0 and "7" in str(i) and not i % 3)
    assert datetime.now() - started < timedelta(seconds=2)

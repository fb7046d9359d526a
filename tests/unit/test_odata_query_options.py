"""Query options: parsing, ordering like SQL Server, the paging cookie and keyset paging."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from plugins.core.schema import product_schema
from sandbox.app import system_schema
from sandbox.errors import ODataError
from sandbox.odata.catalog import Catalog
from sandbox.odata.fields import RowFields
from sandbox.odata.options import Expansion, OrderItem, QueryOptions, parse_query
from sandbox.odata.ordering import ordering_for
from sandbox.odata.query import run_query
from sandbox.odata.skiptoken import read_cookie, write_cookie
from sandbox.store import Caller, Lookup, Row, Store
from sandbox.webapi.annotations import Annotations, formatted_value


def options(**pairs: str) -> QueryOptions:
    return parse_query([(f"${name}", value) for name, value in pairs.items()])


def error_of(pairs: list[tuple[str, str]]) -> ODataError:
    with pytest.raises(ODataError) as caught:
        parse_query(pairs)
    return caught.value


# ----------------------------------------------------------------- parsing


def test_select_orderby_top_count() -> None:
    parsed = options(
        select="firstname, lastname",
        orderby="lastname desc,firstname asc,age",
        top="10",
        count="true",
    )
    assert parsed.select == ("firstname", "lastname")
    assert parsed.orderby == (
        OrderItem("lastname", True),
        OrderItem("firstname", False),
        OrderItem("age", False),
    )
    assert (parsed.top, parsed.count) == (10, True)
    assert options(select="*").select is None


def test_other_parameters_are_left_alone() -> None:
    parsed = parse_query([("tag", "mine"), ("partitionId", "p1"), ("$filter", "a eq 1")])
    assert parsed.filter == "a eq 1"
    assert parsed.pairs == (("$filter", "a eq 1"),)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("$top", "-1")], "Invalid value '-1' for $top query option found."),
        ([("$count", "yes")], "'yes' is not a valid count option."),
        ([("$skip", "10")], "The query parameter $skip is not supported."),
        ([("$search", "x")], "The query parameter $search is not supported."),
        ([("fetchXml", "<fetch/>")], "The query parameter fetchXml is not supported."),
        ([("$orderby", "a up")], "Syntax error in the $orderby value 'a up'."),
        ([("$select", "a,,b")], "Syntax error in the $select value 'a,,b'."),
    ],
)
def test_bad_options_are_0x80060888(pairs: list[tuple[str, str]], message: str) -> None:
    error = error_of(pairs)
    assert (error.status, error.code) == (400, "0x80060888")
    assert error.message.startswith(message)


def test_expand_with_nested_options() -> None:
    parsed = options(
        expand="Contact_Tasks($select=subject;$filter=contains(subject,'a;b');"
        "$orderby=subject desc;$top=5),mp_PersonId/$ref,"
        "regardingobjectid_contact_task($select=fullname;$expand=Contact_Tasks($select=subject))"
    )
    first, second, third = parsed.expand
    assert first.nav == "Contact_Tasks" and not first.ref
    assert first.options.select == ("subject",)
    assert first.options.filter == "contains(subject,'a;b')"
    assert first.options.orderby == (OrderItem("subject", True),)
    assert first.options.top == 5
    assert first.options.query_string() == (
        "$select=subject&$filter=contains(subject,'a;b')&$orderby=subject%20desc&$top=5"
    )
    assert second == Expansion("mp_PersonId", ref=True)
    assert third.options.expand[0].nav == "Contact_Tasks"


def test_unsupported_nested_options_and_too_many_expansions() -> None:
    for option in ("$skip=1", "$count=true", "$levels=2", "$search=x"):
        error = error_of([("$expand", f"Contact_Tasks({option})")])
        assert error.code == "0x80060888"
    assert error_of([("$expand", "Contact_Tasks($skiptoken=x)")]).code == "0x80060888"
    sixteen = ",".join(f"nav{i}" for i in range(16))
    assert "more than 15" in error_of([("$expand", sixteen)]).message
    nested = ",".join(f"nav{i}" for i in range(14)) + ",a($expand=b($expand=c))"
    assert "more than 15" in error_of([("$expand", nested)]).message
    assert error_of([("$expand", "a(b")]).code == "0x80060888"


# ----------------------------------------------------------------- ordering and paging


@pytest.fixture
def store() -> Store:
    return Store(product_schema().merged(system_schema()))


@pytest.fixture
def contacts(store: Store) -> RowFields:
    catalog = Catalog(store)
    return RowFields(catalog, catalog.info("contact"))


def insert(store: Store, table: str, **values: object) -> Row:
    with store.transaction(Caller(user_id="u")):
        return store.insert(table, dict(values))


def sorted_names(store: Store, fields: RowFields, orderby: str) -> list[str | None]:
    ordering = ordering_for(fields, options(orderby=orderby).orderby)
    rows = store.rows("contact")
    ordering.sort(rows)
    return [row.values.get("lastname") for row in rows]


def test_nulls_first_ascending_and_last_descending(store: Store, contacts: RowFields) -> None:
    for name in ("beta", None, "Alpha", "gamma"):
        insert(store, "contact", lastname=name)
    assert sorted_names(store, contacts, "lastname") == [None, "Alpha", "beta", "gamma"]
    assert sorted_names(store, contacts, "lastname desc") == ["gamma", "beta", "Alpha", None]


def test_several_keys_then_the_primary_key(store: Store, contacts: RowFields) -> None:
    ids = ["00000000-0000-0000-0000-00000000000" + str(i) for i in range(4)]
    insert(store, "contact", contactid=ids[3], lastname="a", firstname="x")
    insert(store, "contact", contactid=ids[1], lastname="a", firstname="x")
    insert(store, "contact", contactid=ids[2], lastname="b", firstname="y")
    insert(store, "contact", contactid=ids[0], lastname="a", firstname="z")
    ordering = ordering_for(contacts, options(orderby="firstname desc,lastname").orderby)
    rows = store.rows("contact")
    ordering.sort(rows)
    assert [row.id for row in rows] == [ids[0], ids[2], ids[1], ids[3]]


def test_lookups_sort_by_the_related_primary_name(store: Store) -> None:
    zed = insert(store, "contact", firstname="Zed")
    amy = insert(store, "contact", firstname="Amy")
    insert(store, "task", subject="for zed", regardingobjectid=Lookup("contact", zed.id))
    insert(store, "task", subject="for amy", regardingobjectid=Lookup("contact", amy.id))
    catalog = Catalog(store)
    ordering = ordering_for(
        RowFields(catalog, catalog.info("task")),
        options(orderby="_regardingobjectid_value").orderby,
    )
    rows = store.rows("task")
    ordering.sort(rows)
    assert [row.values["subject"] for row in rows] == ["for amy", "for zed"]


def test_unknown_orderby_property_is_0x0(contacts: RowFields) -> None:
    with pytest.raises(ODataError) as caught:
        ordering_for(contacts, (OrderItem("nope"),))
    assert caught.value.code == "0x0"


def test_cookie_round_trip_and_shape(store: Store, contacts: RowFields) -> None:
    row = insert(store, "contact", lastname='Q"uote <&>', firstname=None)
    ordering = ordering_for(contacts, options(orderby="lastname desc,firstname").orderby)
    position = ordering.position(row)
    text = write_cookie(3, ordering, position, position)
    assert text.startswith('<cookie pagenumber="3" pagingcookie="%3Ccookie%20page%3D%222%22%3E')
    assert text.endswith('" istracking="False" />')
    cookie = read_cookie(text, ordering)
    assert cookie.page == 3
    assert cookie.after == position


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        '<cookie pagenumber="2" pagingcookie="%3Cnot-xml" istracking="False" />',
        '<cookie pagenumber="2" pagingcookie="'
        + quote('<cookie page="1"><other last="x" /></cookie>')
        + '" istracking="False" />',
    ],
)
def test_malformed_cookies_are_400(text: str, contacts: RowFields) -> None:
    with pytest.raises(ODataError) as caught:
        read_cookie(text, ordering_for(contacts, ()))
    assert (caught.value.status, caught.value.code) == (400, "0x80060888")


@pytest.mark.parametrize("whole_table", [False, True])
def test_keyset_pages_survive_inserts(store: Store, contacts: RowFields, whole_table: bool) -> None:
    for i in range(10):
        insert(store, "contact", lastname=f"n{i:02}")
    query = options(orderby="lastname", filter="lastname ne 'n05'", count="true")
    seen: list[str] = []
    page = run_query(store.rows("contact"), contacts, query, 3, None, whole_table=whole_table)
    assert page.matched == 9
    while True:
        seen += [row.values["lastname"] for row in page.rows]
        insert(store, "contact", lastname="a-before-everything")
        if page.skiptoken is None:
            break
        query = options(orderby="lastname", filter="lastname ne 'n05'", skiptoken=page.skiptoken)
        page = run_query(store.rows("contact"), contacts, query, 3, None, whole_table=whole_table)
        assert page.matched is None
    assert seen == [f"n{i:02}" for i in range(10) if i != 5]


def test_a_cached_table_order_follows_changes(store: Store, contacts: RowFields) -> None:
    rows = [insert(store, "contact", lastname=name) for name in ("b", "c", "d")]
    query = options(orderby="lastname desc")

    def names() -> list[str]:
        page = run_query(store.rows("contact"), contacts, query, 10, None, whole_table=True)
        return [row.values["lastname"] for row in page.rows]

    assert names() == ["d", "c", "b"]
    with store.transaction(Caller(user_id="u")):
        store.update("contact", rows[0].id, {"lastname": "z"})
    assert names() == ["z", "d", "c"]
    with store.transaction(Caller(user_id="u")):
        store.delete("contact", rows[1].id)
        store.insert("contact", {"lastname": "a"})
    assert names() == ["z", "d", "a"]


def test_top_caps_the_rows_over_all_pages(store: Store, contacts: RowFields) -> None:
    for i in range(7):
        insert(store, "contact", lastname=f"n{i}")
    first = run_query(store.rows("contact"), contacts, options(orderby="lastname"), 3, 5)
    assert len(first.rows) == 3 and first.skiptoken
    query = options(orderby="lastname", skiptoken=first.skiptoken)
    second = run_query(store.rows("contact"), contacts, query, 3, 5)
    assert [row.values["lastname"] for row in second.rows] == ["n3", "n4"]
    assert second.skiptoken is None
    exact = run_query(store.rows("contact"), contacts, options(), 5000, 7)
    assert len(exact.rows) == 7 and exact.skiptoken is None


# ----------------------------------------------------------------- annotations


def test_annotation_preferences() -> None:
    assert Annotations.parse(None) is None
    everything = Annotations.parse("*")
    assert everything is not None and everything.formatted and everything.lookup_logical_name
    crm = Annotations.parse("Microsoft.Dynamics.CRM.*")
    assert crm is not None and crm.associated_navigation and not crm.formatted
    mixed = Annotations.parse(
        "OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"
    )
    assert mixed is not None and mixed.formatted and mixed.lookup_logical_name
    assert not mixed.associated_navigation
    excluded = Annotations.parse("*,-OData.Community.Display.V1.FormattedValue")
    assert excluded is not None and not excluded.formatted and excluded.total_count
    assert everything.applied == 'odata.include-annotations="*"'


def test_formatted_values() -> None:
    schema = product_schema()
    contact = schema.table("contact").columns
    topics = schema.choices["mp_topic"]
    assert formatted_value(contact["donotemail"], True, None) == "Yes"
    assert formatted_value(contact["donotemail"], False, None) == "No"
    assert formatted_value(contact["mp_topics"], "100000000,100000002", topics) == (
        "Newsletter; Mentoring"
    )
    level = schema.choices["mp_protectionlevel"]
    assert formatted_value(contact["mp_protectionlevel"], 100000001, level) == "Confidential"
    assert formatted_value(contact["createdon"], "2024-04-07T21:59:01Z", None) == (
        "4/7/2024 9:59 PM"
    )
    assert formatted_value(contact["birthdate"], "1990-01-02", None) == "1/2/1990"
    assert formatted_value(contact["firstname"], "Ann", None) is None

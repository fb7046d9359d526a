"""Web API reads over real HTTP: rows, query options, paging, $expand, annotations, ETags,
properties and navigation, WhoAmI and the metadata the Dataverse client reads."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import requests
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sandbox.app import Sandbox
from sandbox.store import Lookup, Row
from sandbox.webapi.context import ApiContext, Preferences
from sandbox.webapi.representation import entity_context, row_to_json

if TYPE_CHECKING:
    from conftest import WebApiSession

ANNOTATIONS = {"Prefer": 'odata.include-annotations="*"'}
FORMATTED = "@OData.Community.Display.V1.FormattedValue"


def seed(sandbox: Sandbox, table: str, **values: Any) -> Row:
    with sandbox.store.transaction(sandbox.system_caller):
        return sandbox.store.insert(table, values)


def seed_many(sandbox: Sandbox, table: str, rows: list[dict[str, Any]]) -> list[Row]:
    with sandbox.store.transaction(sandbox.system_caller):
        return [sandbox.store.insert(table, values) for values in rows]


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def values(response: requests.Response, column: str) -> list[Any]:
    assert response.status_code == 200, response.text
    return [item[column] for item in response.json()["value"]]


# ----------------------------------------------------------------------- single rows


def test_single_row_has_context_etag_selected_columns_and_primary_key(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann", lastname="Lee", mp_nationalid="1")
    response = dv.get(f"contacts({ann.id})?$select=firstname,lastname")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; odata.metadata=minimal"
    assert response.headers["OData-Version"] == "4.0"
    assert response.json() == {
        "@odata.context": dv.url("$metadata#contacts(firstname,lastname)/$entity"),
        "@odata.etag": ann.etag,
        "firstname": "Ann",
        "lastname": "Lee",
        "contactid": ann.id,
    }


def test_without_select_every_readable_column_comes_back(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann")
    task = seed(dv.sandbox, "task", subject="Call", regardingobjectid=Lookup("contact", ann.id))
    body = dv.get(f"tasks({task.id})").json()
    assert body["@odata.context"] == dv.url("$metadata#tasks/$entity")
    assert body["_regardingobjectid_value"] == ann.id
    assert body["_ownerid_value"] is None
    assert "regardingobjectid" not in body
    assert body["statecode"] == 0 and body["description"] is None
    endpoint = seed(dv.sandbox, "serviceendpoint", name="hook", authvalue="s3cret", contract=8)
    body = dv.get(f"serviceendpoints({endpoint.id})").json()
    assert body["name"] == "hook" and "authvalue" not in body and "saskey" not in body
    listed = dv.get("serviceendpoints?$select=name,authvalue").json()["value"]
    assert listed == [
        {"@odata.etag": endpoint.etag, "name": "hook", "serviceendpointid": endpoint.id}
    ]


def test_unknown_select_property_is_400_0x0(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann")
    for resource in (f"contacts({ann.id})?$select=Firstname", "contacts?$select=nope"):
        status, code, message = error(dv.get(resource))
        assert (status, code) == (400, "0x0")
        assert message.startswith("Could not find a property named ")
        assert message.endswith(" on type 'Microsoft.Dynamics.CRM.contact'.")


def test_missing_rows_and_alternate_keys(dv: WebApiSession) -> None:
    missing = "6d81597f-0f9f-e711-8122-000d3aa2331c"
    assert error(dv.get(f"contacts({missing})")) == (
        404,
        "0x80040217",
        f"contact With Id = {missing} Does Not Exist",
    )
    ann = seed(dv.sandbox, "contact", firstname="Ann", mp_nationalid="19900101-1234")
    found = dv.get("contacts(mp_nationalid='19900101-1234')?$select=firstname").json()
    assert (found["contactid"], found["firstname"]) == (ann.id, "Ann")
    assert dv.get(f"contacts(contactid={ann.id})?$select=firstname").status_code == 200
    assert error(dv.get("contacts(mp_nationalid='nobody')"))[:2] == (404, "0x80060891")
    assert error(dv.get("nosuchset"))[:2] == (404, "0x8006088a")


def test_if_none_match_answers_304_while_the_row_is_unchanged(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann")
    current = {"If-None-Match": ann.etag}
    not_modified = dv.get(f"contacts({ann.id})?$select=firstname", headers=current)
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert dv.get(f"contacts({ann.id})", headers={"If-None-Match": "null"}).status_code == 200
    expanded = dv.get(f"contacts({ann.id})?$expand=Contact_Tasks", headers=current)
    assert expanded.status_code == 200
    annotated = dv.get(f"contacts({ann.id})", headers={**current, **ANNOTATIONS})
    assert annotated.status_code == 200
    with dv.sandbox.store.transaction(dv.sandbox.system_caller):
        dv.sandbox.store.update("contact", ann.id, {"firstname": "Anna"})
    changed = dv.get(f"contacts({ann.id})?$select=firstname", headers=current)
    assert changed.status_code == 200 and changed.json()["firstname"] == "Anna"
    assert changed.json()["@odata.etag"] != ann.etag


# ----------------------------------------------------------------------- collections


def test_filter_orderby_top_and_select(dv: WebApiSession) -> None:
    seed_many(
        dv.sandbox,
        "contact",
        [
            {"firstname": "Ann", "lastname": "Lee", "mp_deceased": False},
            {"firstname": "Bob", "lastname": "lee", "mp_deceased": True},
            {"firstname": "Cid", "lastname": None, "mp_deceased": False},
            {"firstname": "Dan", "lastname": "Abe", "mp_deceased": False},
        ],
    )
    response = dv.get("contacts?$select=firstname&$orderby=lastname,firstname desc")
    assert response.json()["@odata.context"] == dv.url("$metadata#contacts(firstname)")
    assert values(response, "firstname") == ["Cid", "Dan", "Bob", "Ann"]
    assert values(
        dv.get("contacts?$select=firstname&$orderby=lastname desc,firstname"), "firstname"
    ) == ["Ann", "Bob", "Dan", "Cid"]
    filtered = dv.get("contacts?$select=firstname&$filter=lastname eq 'LEE' and not mp_deceased")
    assert values(filtered, "firstname") == ["Ann"]
    assert set(filtered.json()["value"][0]) == {"@odata.etag", "firstname", "contactid"}
    top = dv.get("contacts?$select=firstname&$orderby=firstname&$top=2")
    assert values(top, "firstname") == ["Ann", "Bob"]
    assert "@odata.nextLink" not in top.json()


def test_filter_errors_over_http(dv: WebApiSession) -> None:
    assert error(dv.get("contacts?$filter=firstname eq 'a' or")) == (
        400,
        "0x80060888",
        "Expression expected at position 19 in 'firstname eq 'a' or'.",
    )
    assert error(dv.get("contacts?$filter=nope eq 1"))[:2] == (400, "0x0")
    assert error(dv.get("contacts?$orderby=nope"))[:2] == (400, "0x0")
    assert error(dv.get("contacts?$skip=10"))[:2] == (400, "0x80060888")


def test_filter_on_lookups_and_multi_select_choices(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann", mp_topics="100000000,100000002")
    seed(dv.sandbox, "contact", firstname="Bob", mp_topics="100000001")
    seed(dv.sandbox, "task", subject="for Ann", regardingobjectid=Lookup("contact", ann.id))
    seed(dv.sandbox, "task", subject="nobody's")
    for literal in (ann.id, f"'{ann.id}'", ann.id.upper()):
        response = dv.get(f"tasks?$select=subject&$filter=_regardingobjectid_value eq {literal}")
        assert values(response, "subject") == ["for Ann"]
    contains = quote(
        "Microsoft.Dynamics.CRM.ContainValues(PropertyName='mp_topics',"
        "PropertyValues=['100000002'])"
    )
    assert values(dv.get(f"contacts?$select=firstname&$filter={contains}"), "firstname") == ["Ann"]
    special = quote("startswith(firstname,'b') or firstname eq 'O''Hara & Co'")
    assert values(dv.get(f"contacts?$select=firstname&$filter={special}"), "firstname") == ["Bob"]


def test_count_is_capped_at_5000(dv: WebApiSession) -> None:
    seed_many(dv.sandbox, "contact", [{"lastname": f"n{i}"} for i in range(5001)])
    response = dv.get(
        "contacts?$select=lastname&$count=true",
        headers={"Prefer": 'odata.maxpagesize=2,odata.include-annotations="*"'},
    )
    body = response.json()
    assert body["@odata.count"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True
    assert len(body["value"]) == 2
    small = dv.get("contacts?$select=lastname&$count=true&$filter=lastname eq 'n7'").json()
    assert small["@odata.count"] == 1


# ----------------------------------------------------------------------- paging


def test_pages_follow_next_links_unchanged_even_while_rows_are_added(dv: WebApiSession) -> None:
    seed_many(dv.sandbox, "contact", [{"lastname": f"n{i:02}"} for i in range(12)])
    prefer = {"Prefer": "odata.maxpagesize=5"}
    url = dv.url("contacts?$select=lastname&$filter=startswith(lastname,'n')&$orderby=lastname")
    seen: list[str] = []
    pages = 0
    while url:
        response = dv.http.get(url, headers=prefer, timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["Preference-Applied"] == "odata.maxpagesize=5"
        body = response.json()
        seen += [item["lastname"] for item in body["value"]]
        pages += 1
        seed(dv.sandbox, "contact", lastname="n00-inserted-meanwhile")
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith(dv.url("contacts?$select=lastname&$filter="))
            assert "&$skiptoken=%3Ccookie%20pagenumber=%22" in url
            assert url.endswith("%22%20istracking=%22False%22%20/%3E")
    assert pages == 3
    assert seen == [f"n{i:02}" for i in range(12)]


def test_default_page_is_5000_and_ordered_by_primary_key(dv: WebApiSession) -> None:
    rows = seed_many(dv.sandbox, "contact", [{"lastname": f"n{i}"} for i in range(5003)])
    first = dv.get("contacts?$select=lastname").json()
    assert len(first["value"]) == 5000
    assert [item["contactid"] for item in first["value"]] == sorted(r.id for r in rows)[:5000]
    second = dv.http.get(first["@odata.nextLink"], timeout=10).json()
    assert len(second["value"]) == 3 and "@odata.nextLink" not in second


def test_top_is_ignored_when_a_page_size_is_requested(dv: WebApiSession) -> None:
    seed_many(dv.sandbox, "contact", [{"lastname": f"n{i}"} for i in range(6)])
    response = dv.get("contacts?$select=lastname&$top=2", headers={"Prefer": "odata.maxpagesize=4"})
    body = response.json()
    assert len(body["value"]) == 4 and "@odata.nextLink" in body
    assert len(dv.get("contacts?$select=lastname&$top=2").json()["value"]) == 2


def test_malformed_skiptoken_is_400(dv: WebApiSession) -> None:
    seed(dv.sandbox, "contact", lastname="x")
    for token in ("abc", quote('<cookie pagenumber="2" pagingcookie="%3Cx" istracking="False" />')):
        assert error(dv.get(f"contacts?$skiptoken={token}"))[:2] == (400, "0x80060888")


# ----------------------------------------------------------------------- $expand


def test_expand_single_valued_navigation(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann", lastname="Lee")
    registration = seed(
        dv.sandbox, "mp_registration", mp_name="R1", mp_personid=Lookup("contact", ann.id)
    )
    body = dv.get(
        f"mp_registrations({registration.id})?$select=mp_name&$expand=mp_PersonId($select=fullname)"
    ).json()
    assert body["@odata.context"] == dv.url(
        "$metadata#mp_registrations(mp_name,mp_PersonId(fullname))/$entity"
    )
    assert body["mp_PersonId"] == {"fullname": "Ann Lee", "contactid": ann.id}
    task = seed(
        dv.sandbox,
        "task",
        subject="t",
        regardingobjectid=Lookup("mp_registration", registration.id),
    )
    body = dv.get(
        f"tasks({task.id})?$select=subject&$expand=regardingobjectid_contact_task,"
        "regardingobjectid_mp_registration_task($select=mp_name)"
    ).json()
    assert body["regardingobjectid_contact_task"] is None
    assert body["regardingobjectid_mp_registration_task"]["mp_name"] == "R1"
    refs = dv.get(
        f"mp_registrations({registration.id})?$select=mp_name&$expand=mp_PersonId/$ref"
    ).json()
    assert refs["mp_PersonId"] == {"@odata.id": dv.url(f"contacts({ann.id})")}
    filtered = dv.get(
        f"mp_registrations({registration.id})?$select=mp_name"
        "&$expand=mp_PersonId($filter=firstname eq 'Bob')"
    ).json()
    assert filtered["mp_PersonId"] is None


def test_expand_collection_valued_navigation(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann")
    bob = seed(dv.sandbox, "contact", firstname="Bob")
    for subject in ("a", "c", "b", "skip"):
        seed(dv.sandbox, "task", subject=subject, regardingobjectid=Lookup("contact", ann.id))
    nested = "$select=subject;$filter=subject ne 'skip';$orderby=subject desc;$top=2"
    response = dv.get(
        f"contacts?$select=firstname&$orderby=firstname&$expand=Contact_Tasks({nested})"
    )
    body = response.json()
    assert body["@odata.context"] == dv.url("$metadata#contacts(firstname,Contact_Tasks(subject))")
    first, second = body["value"]
    assert [t["subject"] for t in first["Contact_Tasks"]] == ["c", "b"]
    assert set(first["Contact_Tasks"][0]) == {
        "@odata.etag",
        "subject",
        "_regardingobjectid_value",
        "activityid",
    }
    link = first["Contact_Tasks@odata.nextLink"]
    assert link.startswith(dv.url(f"contacts({ann.id})/Contact_Tasks?$select=subject&$filter="))
    followed = dv.http.get(link, timeout=10).json()
    assert [t["subject"] for t in followed["value"]] == ["c", "b"]
    assert second["firstname"] == "Bob" and second["Contact_Tasks"] == []
    assert second["Contact_Tasks@odata.nextLink"].startswith(dv.url(f"contacts({bob.id})/"))


def test_nested_expand_pages_each_expanded_collection(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann")
    for subject in ("t1", "t2", "t3"):
        seed(dv.sandbox, "task", subject=subject, regardingobjectid=Lookup("contact", ann.id))
    prefer = {"Prefer": "odata.maxpagesize=2"}
    response = dv.get(
        "contacts?$select=firstname&$expand=Contact_Tasks($select=subject;"
        "$expand=regardingobjectid_contact_task($select=firstname))",
        headers=prefer,
    )
    contact = response.json()["value"][0]
    tasks = contact["Contact_Tasks"]
    assert len(tasks) == 2
    assert tasks[0]["regardingobjectid_contact_task"] == {"firstname": "Ann", "contactid": ann.id}
    link = contact["Contact_Tasks@odata.nextLink"]
    assert "$skiptoken=" in link
    rest = dv.http.get(link, headers=prefer, timeout=10).json()
    assert len(rest["value"]) == 1 and "@odata.nextLink" not in rest
    subjects = {t["subject"] for t in tasks} | {rest["value"][0]["subject"]}
    assert subjects == {"t1", "t2", "t3"}


@pytest.mark.parametrize(
    ("expand", "code", "message"),
    [
        ("nope", "0x0", "Could not find a property named 'nope'"),
        ("firstname", "0x80060888", "Property 'firstname' on type"),
        (
            "Contact_Tasks/$ref",
            "0x80060888",
            "Expand with $ref is only supported on lookup type navigation property.",
        ),
        ("Contact_Tasks($skip=1)", "0x80060888", "The query parameter $skip is not supported."),
        (
            "Contact_Tasks($orderby=subject;$expand=regardingobjectid_contact_task)",
            "0x80060888",
            "Only $select and $filter clause can be provided",
        ),
        (",".join(["Contact_Tasks"] * 16), "0x80060888", "The query specifies more than 15"),
    ],
)
def test_expand_errors(dv: WebApiSession, expand: str, code: str, message: str) -> None:
    status, found_code, found_message = error(dv.get(f"contacts?$expand={expand}"))
    assert (status, found_code) == (400, code)
    assert found_message.startswith(message)


# ----------------------------------------------------------------------- annotations


def test_formatted_values_and_lookup_annotations(dv: WebApiSession) -> None:
    ann = seed(
        dv.sandbox,
        "contact",
        firstname="Ann",
        lastname="Lee",
        donotemail=True,
        mp_topics="100000000,100000002",
        mp_protectionlevel=100000001,
        birthdate="1990-01-02",
        mp_consenton="2024-04-07T21:59:01Z",
    )
    task = seed(
        dv.sandbox,
        "task",
        subject="Call",
        prioritycode=2,
        regardingobjectid=Lookup("contact", ann.id),
    )
    response = dv.get(f"contacts({ann.id})", headers=ANNOTATIONS)
    assert response.headers["Preference-Applied"] == 'odata.include-annotations="*"'
    body = response.json()
    assert body[f"donotemail{FORMATTED}"] == "Yes"
    assert body[f"mp_topics{FORMATTED}"] == "Newsletter; Mentoring"
    assert body["mp_topics"] == "100000000,100000002"
    assert body[f"mp_protectionlevel{FORMATTED}"] == "Confidential"
    assert body[f"statecode{FORMATTED}"] == "Active"
    assert body[f"birthdate{FORMATTED}"] == "1/2/1990"
    assert body[f"mp_consenton{FORMATTED}"] == "4/7/2024 9:59 PM"
    assert f"firstname{FORMATTED}" not in body and f"lastname{FORMATTED}" not in body
    keys = list(body)
    assert keys.index(f"mp_topics{FORMATTED}") == keys.index("mp_topics") - 1
    task_body = dv.get(
        f"tasks({task.id})?$select=subject,prioritycode,_regardingobjectid_value",
        headers=ANNOTATIONS,
    ).json()
    assert task_body[f"prioritycode{FORMATTED}"] == "High"
    assert task_body[f"_regardingobjectid_value{FORMATTED}"] == "Ann Lee"
    assert task_body["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == (
        "contact"
    )
    assert (
        task_body["_regardingobjectid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"]
        == "regardingobjectid_contact_task"
    )


def test_annotation_lists_and_preference_applied(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann", donotemail=False)
    seed(dv.sandbox, "task", subject="Call", regardingobjectid=Lookup("contact", ann.id))
    prefer = (
        'odata.include-annotations="OData.Community.Display.V1.FormattedValue,'
        'Microsoft.Dynamics.CRM.lookuplogicalname",odata.maxpagesize=10'
    )
    response = dv.get("tasks?$select=_regardingobjectid_value", headers={"Prefer": prefer})
    assert response.headers["Preference-Applied"] == (
        'odata.include-annotations="OData.Community.Display.V1.FormattedValue,'
        'Microsoft.Dynamics.CRM.lookuplogicalname",odata.maxpagesize=10'
    )
    item = response.json()["value"][0]
    assert item[f"_regardingobjectid_value{FORMATTED}"] == "Ann"
    assert "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname" in item
    assert (
        "_regardingobjectid_value@Microsoft.Dynamics.CRM.associatednavigationproperty" not in item
    )
    plain = dv.get(f"contacts({ann.id})?$select=donotemail")
    assert "Preference-Applied" not in plain.headers
    assert f"donotemail{FORMATTED}" not in plain.json()


# ----------------------------------------------------------------------- properties, navigation


def test_property_values(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann")
    task = seed(dv.sandbox, "task", subject="Call", regardingobjectid=Lookup("contact", ann.id))
    assert dv.get(f"contacts({ann.id})/firstname").json() == {
        "@odata.context": dv.url(f"$metadata#contacts({ann.id})/firstname"),
        "value": "Ann",
    }
    assert dv.get(f"tasks({task.id})/_regardingobjectid_value").json()["value"] == ann.id
    empty = dv.get(f"contacts({ann.id})/lastname")
    assert (empty.status_code, empty.content) == (204, b"")
    assert error(dv.get(f"contacts({ann.id})/nope"))[:2] == (404, "0x8006088a")
    missing = "6d81597f-0f9f-e711-8122-000d3aa2331c"
    assert error(dv.get(f"contacts({missing})/firstname"))[:2] == (404, "0x80040217")


def test_navigation_properties_and_references(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann")
    tasks = seed_many(
        dv.sandbox,
        "task",
        [{"subject": f"t{i}", "regardingobjectid": Lookup("contact", ann.id)} for i in range(3)],
    )
    seed(dv.sandbox, "task", subject="other")
    related = dv.get(f"tasks({tasks[0].id})/regardingobjectid_contact_task?$select=firstname")
    assert related.json() == {
        "@odata.context": dv.url("$metadata#contacts(firstname)/$entity"),
        "@odata.etag": ann.etag,
        "firstname": "Ann",
        "contactid": ann.id,
    }
    unrelated = seed(dv.sandbox, "task", subject="none")
    assert dv.get(f"tasks({unrelated.id})/regardingobjectid_contact_task").status_code == 204
    prefer = {"Prefer": "odata.maxpagesize=2"}
    page = dv.get(
        f"contacts({ann.id})/Contact_Tasks?$select=subject&$orderby=subject", headers=prefer
    ).json()
    assert page["@odata.context"] == dv.url("$metadata#tasks(subject)")
    assert [t["subject"] for t in page["value"]] == ["t0", "t1"]
    rest = dv.http.get(page["@odata.nextLink"], headers=prefer, timeout=10).json()
    assert [t["subject"] for t in rest["value"]] == ["t2"]
    refs = dv.get(f"contacts({ann.id})/Contact_Tasks/$ref").json()
    assert refs["@odata.context"] == dv.url("$metadata#Collection($ref)")
    assert sorted(r["@odata.id"] for r in refs["value"]) == sorted(
        dv.url(f"tasks({t.id})") for t in tasks
    )
    single = dv.get(f"tasks({tasks[0].id})/regardingobjectid_contact_task/$ref").json()
    assert single == {
        "@odata.context": dv.url("$metadata#$ref"),
        "@odata.id": dv.url(f"contacts({ann.id})"),
    }


def test_row_to_json_writes_rows_as_reads_do(dv: WebApiSession) -> None:
    ann = seed(dv.sandbox, "contact", firstname="Ann", donotemail=True)
    task = seed(dv.sandbox, "task", subject="Call", regardingobjectid=Lookup("contact", ann.id))
    prefer = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
    request = Request(EnvironBuilder(path="/", base_url=dv.sandbox.base_url).get_environ())
    ctx = ApiContext(
        dv.sandbox.webapi, request, dv.sandbox.system_caller, Preferences.parse(prefer)
    )
    table = dv.sandbox.store.table("task")
    body = row_to_json(ctx, table, task, ["subject", "regardingobjectid"])
    assert body == {
        "@odata.etag": task.etag,
        "subject": "Call",
        f"_regardingobjectid_value{FORMATTED}": "Ann",
        "_regardingobjectid_value": ann.id,
        "activityid": task.id,
    }
    assert entity_context(ctx, table, ["subject"]) == dv.url("$metadata#tasks(subject)/$entity")
    over_http = dv.get(
        f"tasks({task.id})?$select=subject,_regardingobjectid_value", headers={"Prefer": prefer}
    ).json()
    assert {k: v for k, v in over_http.items() if k != "@odata.context"} == body


# ----------------------------------------------------------------------- functions, metadata


def test_who_am_i(dv: WebApiSession) -> None:
    for resource in ("WhoAmI()", "WhoAmI"):
        body = dv.get(resource).json()
        assert body["@odata.context"] == dv.url("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
        assert set(body) == {"@odata.context", "BusinessUnitId", "UserId", "OrganizationId"}
    status, code, message = error(dv.post("WhoAmI()", json={}))
    assert (status, code) == (404, "")
    assert message.startswith("No HTTP resource was found that matches the request URI")


def test_entity_definitions_the_client_reads(dv: WebApiSession) -> None:
    found = dv.get(
        "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute"
        "&$filter=LogicalName eq 'contact'"
    ).json()
    assert found["value"] == [
        {
            "LogicalName": "contact",
            "EntitySetName": "contacts",
            "PrimaryIdAttribute": "contactid",
            "MetadataId": found["value"][0]["MetadataId"],
        }
    ]
    one = dv.get(
        "EntityDefinitions(LogicalName='mp_registration')"
        "?$select=SchemaName,PrimaryNameAttribute,IsCustomEntity"
    ).json()
    assert (one["SchemaName"], one["PrimaryNameAttribute"], one["IsCustomEntity"]) == (
        "mp_Registration",
        "mp_name",
        True,
    )
    by_id = dv.get(f"EntityDefinitions({one['MetadataId']})?$select=LogicalName").json()
    assert by_id["LogicalName"] == "mp_registration"
    assert dv.get("EntityDefinitions?$filter=IsPrivate eq false").json()["value"]
    assert error(dv.get("EntityDefinitions(LogicalName='nope')"))[:2] == (404, "0x80040217")
    assert dv.patch("EntityDefinitions(LogicalName='contact')", json={}).status_code == 405


def test_attributes_option_sets_and_keys(dv: WebApiSession) -> None:
    picklists = dv.get(
        "EntityDefinitions(LogicalName='contact')/Attributes/"
        "Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
        "?$select=LogicalName&$expand=OptionSet($select=Options)"
    ).json()["value"]
    assert [p["LogicalName"] for p in picklists] == ["mp_protectionlevel", "mp_emailconfirmation"]
    options = {
        o["Value"]: o["Label"]["LocalizedLabels"][0]["Label"]
        for o in picklists[0]["OptionSet"]["Options"]
    }
    assert options[100000001] == "Confidential"
    attribute = dv.get(
        "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='firstname')"
    ).json()
    assert (attribute["AttributeType"], attribute["MaxLength"]) == ("String", 50)
    typed = dv.get(
        "EntityDefinitions(LogicalName='task')/Attributes"
        "?$select=LogicalName,AttributeType,Targets"
        "&$filter=AttributeType eq 'Lookup'"
    ).json()["value"]
    assert {a["LogicalName"]: a["Targets"] for a in typed} == {
        "regardingobjectid": ["contact", "mp_registration"],
        "ownerid": ["systemuser", "team"],
    }
    assert typed[0]["@odata.type"] == "#Microsoft.Dynamics.CRM.LookupAttributeMetadata"
    keys = dv.get("EntityDefinitions(LogicalName='contact')/Keys").json()["value"]
    assert [(k["LogicalName"], k["KeyAttributes"]) for k in keys] == [
        ("mp_contact_nationalid", ["mp_nationalid"]), ("mp_contact_emailkey", ["mp_emailkey"])
    ]
    relationships = dv.get(
        "EntityDefinitions(LogicalName='contact')/OneToManyRelationships"
        "?$select=SchemaName,ReferencingEntity"
    ).json()["value"]
    assert {"SchemaName": "Contact_Tasks", "ReferencingEntity": "task"} in [
        {k: r[k] for k in ("SchemaName", "ReferencingEntity")} for r in relationships
    ]


# ----------------------------------------------------------------------- the Dataverse client


def test_the_dataverse_python_client_works_against_the_sandbox(
    https_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.credentials import AccessToken
    from PowerPlatform.Dataverse.client import DataverseClient
    from PowerPlatform.Dataverse.models.upsert import UpsertItem

    assert https_sandbox.ca_file
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", https_sandbox.ca_file)

    class Credential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken(https_sandbox.auth.issue_token(), int(time.time()) + 3600)

    client = DataverseClient(https_sandbox.base_url, Credential())
    ann = client.records.create(
        "contact", {"firstname": "Ann", "lastname": "Lee", "mp_protectionlevel": "Confidential"}
    )
    record = client.records.retrieve("contact", ann, select=["firstname", "mp_protectionlevel"])
    assert record is not None
    assert (record["firstname"], record["mp_protectionlevel"]) == ("Ann", 100000001)
    client.records.update("contact", ann, {"lastname": "Li"})
    ids = client.records.create("contact", [{"firstname": f"P{i}"} for i in range(7)])
    assert len(ids) == 7
    pages = list(client.records.list_pages("contact", select=["firstname"], page_size=3))
    assert [len(page) for page in pages] == [3, 3, 2]
    client.records.upsert(
        "contact",
        [UpsertItem(alternate_key={"mp_nationalid": "19900101-1"}, record={"firstname": "Up"})],
    )
    upserted = https_sandbox.store.find_by_key(
        "contact", "mp_contact_nationalid", {"mp_nationalid": "19900101-1"}
    )
    assert upserted is not None and upserted.values["firstname"] == "Up"
    batch = client.batch.new()
    batch.records.create("contact", {"firstname": "Batched"})
    batch.records.update("contact", ann, {"firstname": "Annie"})
    result = batch.execute()
    assert not result.has_errors and len(result.entity_ids) >= 1
    assert client.records.retrieve("contact", ann, select=["firstname"])["firstname"] == "Annie"
    client.records.delete("contact", ann)
    assert client.records.retrieve("contact", ann) is None

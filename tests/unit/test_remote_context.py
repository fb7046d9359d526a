"""The RemoteExecutionContext the sandbox posts: value encodings, JSON text, context shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from plugins.core.schema import Column, Table
from sandbox.steps import encoding
from sandbox.steps.context import (
    ASYNC_PRIMARY_NAME_IMAGE,
    Invocation,
    Organization,
    build_context,
    without_bulky_members,
)
from sandbox.steps.registrations import Endpoint, Image, Step
from sandbox.store import Caller, ChangeEvent, Lookup

NS = "http://schemas.microsoft.com/xrm/2011/Contracts"
ROW_ID = "6d81597f-0f9f-e711-8122-000d3aa2331c"
USER_ID = "75c2dd85-e89e-e711-8122-000d3aa2331c"
STEP_ID = "75417616-4ea2-e711-8122-000d3aa2331c"

TABLE = Table(
    logical_name="mp_thing",
    entity_set="mp_things",
    primary_id="mp_thingid",
    primary_name="mp_name",
    columns={
        "mp_thingid": Column(type="uniqueidentifier"),
        "mp_name": Column(type="string"),
        "mp_notes": Column(type="memo"),
        "mp_count": Column(type="integer"),
        "mp_big": Column(type="bigint"),
        "mp_ratio": Column(type="decimal"),
        "mp_weight": Column(type="float"),
        "mp_price": Column(type="money"),
        "mp_active": Column(type="boolean"),
        "mp_when": Column(type="datetime"),
        "mp_birthday": Column(type="date"),
        "mp_kind": Column(type="choice", choices="mp_kind"),
        "mp_topics": Column(type="multichoice", choices="mp_topic"),
        "mp_owner": Column(type="lookup", targets={"contact": {"nav": "mp_Owner",
                                                               "relationship": "r"}}),
        "statecode": Column(type="state", choices="s"),
        "statuscode": Column(type="status", choices="t"),
        "modifiedon": Column(type="datetime", readonly=True),
    },
)


def option(value: int) -> dict[str, Any]:
    return {"__type": f"OptionSetValue:{NS}", "Value": value}


# ------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("column", "stored", "encoded"),
    [
        ("mp_thingid", ROW_ID, ROW_ID),
        ("mp_name", "Ada", "Ada"),
        ("mp_notes", "line1\nline2", "line1\nline2"),
        ("mp_count", 987654321, 987654321),
        ("mp_big", 2**40, 2**40),
        ("mp_ratio", 10.01, 10.01),
        ("mp_weight", 2365.12, 2365.12),
        ("mp_active", True, True),
        ("mp_active", False, False),
        ("mp_price", 2154.32, {"__type": f"Money:{NS}", "Value": 2154.32}),
        ("mp_when", "2020-12-15T07:00:00Z", "/Date(1608015600000)/"),
        ("mp_birthday", "2020-12-15", "/Date(1607990400000)/"),
        ("mp_kind", 257760001, option(257760001)),
        ("statecode", 0, option(0)),
        ("statuscode", 1, option(1)),
        ("mp_topics", "257760001,257760002", [option(257760001), option(257760002)]),
        ("mp_topics", [1, 2], [option(1), option(2)]),
        ("mp_name", None, None),
        ("mp_topics", None, None),
    ],
)
def test_value_encoding_per_column_type(column: str, stored: Any, encoded: Any) -> None:
    assert encoding.encode_value(stored, TABLE.columns[column]) == encoded


def test_lookup_is_a_typed_entity_reference() -> None:
    value = encoding.encode_value(Lookup("contact", ROW_ID), TABLE.columns["mp_owner"])
    assert value == {
        "__type": f"EntityReference:{NS}",
        "Id": ROW_ID,
        "KeyAttributes": [],
        "LogicalName": "contact",
        "Name": None,
        "RowVersion": None,
    }
    assert list(value) == ["__type", "Id", "KeyAttributes", "LogicalName", "Name", "RowVersion"]


def test_unknown_column_keeps_plain_values_and_encodes_lookups() -> None:
    assert encoding.encode_value("x", None) == "x"
    assert encoding.encode_value(Lookup("systemuser", USER_ID), None)["LogicalName"] == "systemuser"


@pytest.mark.parametrize(
    ("moment", "literal"),
    [
        ("2017-09-26T00:44:07Z", "/Date(1506386647000)/"),
        ("2017-09-26T00:44:07.123Z", "/Date(1506386647123)/"),
        ("2017-09-25T17:44:07-07:00", "/Date(1506386647000)/"),
        ("1969-12-31T23:59:59Z", "/Date(-1000)/"),
        ("2024-05-01", "/Date(1714521600000)/"),
        (datetime(2024, 5, 1, 10, 0, tzinfo=UTC), "/Date(1714557600000)/"),
        (datetime(2024, 5, 1, 10, 0), "/Date(1714557600000)/"),
    ],
)
def test_date_literal(moment: Any, literal: str) -> None:
    assert encoding.date_literal(moment) == literal


def test_entity_typed_and_untyped() -> None:
    typed = encoding.entity(TABLE, ROW_ID, {"mp_name": "A", "mp_notes": None}, typed=True)
    assert list(typed) == [
        "__type", "Attributes", "EntityState", "FormattedValues", "Id", "KeyAttributes",
        "LogicalName", "RelatedEntities", "RowVersion",
    ]
    assert typed["__type"] == f"Entity:{NS}"
    assert typed["Attributes"] == [
        {"key": "mp_name", "value": "A"},
        {"key": "mp_notes", "value": None},
    ]
    assert "__type" not in encoding.entity(TABLE, ROW_ID, {}, typed=False)


# -------------------------------------------------------------- JSON text


def test_dumps_escapes_like_data_contract_json_serializer() -> None:
    text = encoding.dumps({"a": 'x/y "q" \\ \n\t\x01 é', "b": "\U0001f600"})
    assert text == (
        '{"a":"x\\/y \\"q\\" \\\\ \\u000a\\u0009\\u0001 é","b":"\\ud83d\\ude00"}'
    )
    assert json.loads(text) == {"a": 'x/y "q" \\ \n\t\x01 é', "b": "\U0001f600"}


def test_dumps_writes_type_tags_with_escaped_slashes_and_no_whitespace() -> None:
    text = encoding.dumps({"v": encoding.option_set_value(1), "n": [None, True, 1.5, 2]})
    assert text == (
        '{"v":{"__type":"OptionSetValue:http:\\/\\/schemas.microsoft.com\\/xrm\\/2011'
        '\\/Contracts","Value":1},"n":[null,true,1.5,2]}'
    )


def test_dumps_date_literal_is_escaped() -> None:
    assert encoding.dumps("/Date(1506384247000)/") == '"\\/Date(1506384247000)\\/"'


def test_dumps_rejects_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError):
        encoding.dumps(float("nan"))
    with pytest.raises(TypeError):
        encoding.dumps({"x": object()})


# ---------------------------------------------------------------- context

ORG = Organization.named("unqsandbox")
ENDPOINT = Endpoint(id="e", name="hook", contract=8, url="http://127.0.0.1:1/x")
TOP_LEVEL = [
    "BusinessUnitId", "CorrelationId", "Depth", "InitiatingUserAgent",
    "InitiatingUserAzureActiveDirectoryObjectId", "InitiatingUserId", "InputParameters",
    "IsExecutingOffline", "IsInTransaction", "IsOfflinePlayback", "IsolationMode", "MessageName",
    "Mode", "OperationCreatedOn", "OperationId", "OrganizationId", "OrganizationName",
    "OutputParameters", "OwningExtension", "ParentContext", "PostEntityImages",
    "PreEntityImages", "PrimaryEntityId", "PrimaryEntityName", "RequestId",
    "SecondaryEntityName", "SharedVariables", "Stage", "UserAzureActiveDirectoryObjectId",
    "UserId",
]


def make_step(*, mode: int = 1, stage: int = 40, images: tuple[Image, ...] = ()) -> Step:
    return Step(id=STEP_ID, name="contact update hook", stage=stage, mode=mode, rank=1,
                endpoint=ENDPOINT, images=images)


def make_event(message: str, *, tag: str | None = None) -> ChangeEvent:
    caller = Caller(user_id=USER_ID, tag=tag, correlation_id="corr", depth=2, request_id="req",
                    user_agent="tests/1.0")
    before = {"mp_thingid": ROW_ID, "mp_name": "Old", "mp_count": 1, "mp_notes": None,
              "modifiedon": "2024-05-01T10:00:00Z"}
    after = {"mp_thingid": ROW_ID, "mp_name": "New", "mp_count": 1, "mp_notes": None,
             "modifiedon": "2024-05-02T10:00:00Z"}
    created_on = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    if message == "Create":
        return ChangeEvent("Create", "mp_thing", ROW_ID, {"mp_name": "New", "mp_thingid": ROW_ID},
                           None, after, caller, "op", created_on)
    if message == "Update":
        target = {"mp_name": "New", "mp_thingid": ROW_ID, "modifiedon": "2024-05-02T10:00:00Z"}
        return ChangeEvent("Update", "mp_thing", ROW_ID, target, before, after, caller, "op",
                           created_on)
    return ChangeEvent("Delete", "mp_thing", ROW_ID, {"__reference__": True, "id": ROW_ID},
                       before, None, caller, "op", created_on)


def context_for(event: ChangeEvent, step: Step) -> dict[str, Any]:
    return build_context(Invocation(event, TABLE, step, ORG, "asyncop-1"))


def pairs(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: item["value"] for item in items}


def attributes(entity: dict[str, Any]) -> dict[str, Any]:
    return pairs(entity["Attributes"])


def test_top_level_members_in_serializer_order_with_caller_facts() -> None:
    context = context_for(make_event("Update"), make_step())
    assert list(context) == TOP_LEVEL
    assert context["CorrelationId"] == "corr"
    assert context["Depth"] == 2
    assert context["InitiatingUserId"] == context["UserId"] == USER_ID
    assert context["InitiatingUserAgent"] == "tests/1.0"
    assert context["RequestId"] == "req"
    assert context["OperationId"] == "asyncop-1"
    assert context["OperationCreatedOn"] == "/Date(1714644000000)/"
    assert context["OrganizationName"] == "unqsandbox"
    assert context["OrganizationId"] == ORG.id
    assert context["BusinessUnitId"] == ORG.business_unit_id
    assert (context["IsolationMode"], context["SecondaryEntityName"]) == (1, "none")
    assert (context["PrimaryEntityName"], context["PrimaryEntityId"]) == ("mp_thing", ROW_ID)
    assert context["OwningExtension"] == {
        "Id": STEP_ID, "KeyAttributes": [], "LogicalName": "sdkmessageprocessingstep",
        "Name": "contact update hook", "RowVersion": None,
    }


def test_async_update_context() -> None:
    images = (Image("PreImage", 0, ("mp_name", "mp_count")), Image("PostImage", 1))
    context = context_for(make_event("Update"), make_step(images=images))
    assert (context["Mode"], context["IsInTransaction"], context["Stage"]) == (1, False, 40)
    [target_pair] = context["InputParameters"]
    target = target_pair["value"]
    assert target_pair["key"] == "Target" and target["__type"] == f"Entity:{NS}"
    assert attributes(target) == {"mp_name": "New", "mp_thingid": ROW_ID,
                                  "modifiedon": "/Date(1714644000000)/"}
    assert context["OutputParameters"] == []

    pre = pairs(context["PreEntityImages"])
    assert list(pre) == ["PreImage"]
    assert "__type" not in pre["PreImage"]
    assert attributes(pre["PreImage"]) == {"mp_name": "Old", "mp_count": 1, "mp_thingid": ROW_ID}
    post = pairs(context["PostEntityImages"])
    assert list(post) == ["PostImage", ASYNC_PRIMARY_NAME_IMAGE]
    assert "mp_notes" not in attributes(post["PostImage"])
    assert attributes(post[ASYNC_PRIMARY_NAME_IMAGE]) == {"mp_name": "New", "mp_thingid": ROW_ID}

    parent = context["ParentContext"]
    assert list(parent) == TOP_LEVEL
    assert (parent["Stage"], parent["Mode"], parent["ParentContext"]) == (30, 1, None)
    assert attributes(pairs(parent["InputParameters"])["Target"]) == {
        "mp_name": "New", "mp_thingid": ROW_ID,
    }
    assert parent["PreEntityImages"] == parent["PostEntityImages"] == []


def test_create_context_has_output_id_post_image_and_no_pre_image() -> None:
    step = make_step(images=(Image("Both", 2),))
    context = context_for(make_event("Create"), step)
    assert context["MessageName"] == "Create"
    assert pairs(context["OutputParameters"]) == {"id": ROW_ID}
    assert context["PreEntityImages"] == []
    assert list(pairs(context["PostEntityImages"])) == ["Both", ASYNC_PRIMARY_NAME_IMAGE]
    assert pairs(context["SharedVariables"]) == {
        "IsAutoTransact": True, "AcceptLang": "", "DefaultsAddedFlag": True,
    }
    assert context["ParentContext"]["OutputParameters"] == []


def test_delete_context_has_reference_target_and_pre_images_only() -> None:
    step = make_step(images=(Image("Both", 2, ("mp_name",)),))
    context = context_for(make_event("Delete"), step)
    target = pairs(context["InputParameters"])["Target"]
    assert target == encoding.entity_reference("mp_thing", ROW_ID)
    assert context["PostEntityImages"] == []
    pre = pairs(context["PreEntityImages"])
    assert list(pre) == ["Both", ASYNC_PRIMARY_NAME_IMAGE]
    assert attributes(pre["Both"]) == {"mp_name": "Old", "mp_thingid": ROW_ID}


def test_synchronous_step_is_in_transaction_without_the_async_image() -> None:
    context = context_for(make_event("Update"), make_step(mode=0, stage=20,
                                                          images=(Image("Post", 1),)))
    assert (context["Mode"], context["IsInTransaction"], context["Stage"]) == (0, True, 20)
    assert context["PostEntityImages"] == []
    assert context["ParentContext"]["IsInTransaction"] is True


def test_tag_is_a_shared_variable_in_context_and_parent() -> None:
    context = context_for(make_event("Update", tag="member-plugins"), make_step())
    assert pairs(context["SharedVariables"])["tag"] == "member-plugins"
    assert pairs(context["ParentContext"]["SharedVariables"])["tag"] == "member-plugins"
    untagged = context_for(make_event("Update"), make_step())
    assert "tag" not in pairs(untagged["SharedVariables"])


def test_trimming_drops_the_four_bulky_members_only() -> None:
    context = context_for(make_event("Update"), make_step())
    trimmed = without_bulky_members(context)
    assert set(context) - set(trimmed) == {
        "ParentContext", "InputParameters", "PreEntityImages", "PostEntityImages",
    }
    assert trimmed["PrimaryEntityId"] == ROW_ID


def test_whole_context_round_trips_through_the_serializer() -> None:
    context = context_for(make_event("Update"), make_step(images=(Image("Pre", 0),)))
    text = encoding.dumps(context)
    assert "\\/Date(1714644000000)\\/" in text
    assert json.loads(text) == context

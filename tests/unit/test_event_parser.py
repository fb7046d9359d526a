"""The RemoteExecutionContext parser over every fixture, every value encoding and bad input."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from plugins.core.events import (
    CLAIMS,
    DataverseEvent,
    EventParseError,
    decode_body,
    parse_servicebus,
    parse_webhook,
)
from plugins.core.remote_context import (
    Entity,
    EntityCollection,
    EntityReference,
    KeyValuePair,
    Money,
    OptionSetValue,
    RawValue,
    decode_value,
    parse_date,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"
XRM = "http://schemas.microsoft.com/xrm/2011/Contracts"
HOUR = timedelta(hours=1)


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def webhook_headers(table: str, message: str, **extra: str) -> dict[str, str]:
    headers = {
        "x-request-id": "11111111-2222-4333-8444-555555555555",
        "x-ms-dynamics-organization": "orgname.crm4.dynamics.com",
        "x-ms-dynamics-entity-name": table,
        "x-ms-dynamics-request-name": message,
        "x-ms-correlation-request-id": "b374239d-4233-41a9-8b17-a86cb4f737b5",
        "content-type": "application/json",
    }
    headers.update(extra)
    return headers


def minimal(**members: object) -> bytes:
    context: dict[str, object] = {
        "MessageName": "Update",
        "PrimaryEntityName": "contact",
        "PrimaryEntityId": "6d81597f-0f9f-e711-8122-000d3aa2331c",
        "Stage": 40,
        "Mode": 1,
        "InputParameters": [],
    }
    context.update(members)
    return json.dumps({k: v for k, v in context.items() if v is not ...}).encode()


def attribute(value: object) -> object:
    """Decode one attribute value the way it sits inside a Target entity."""
    body = minimal(
        InputParameters=[
            {
                "key": "Target",
                "value": {
                    "__type": f"Entity:{XRM}",
                    "Attributes": [{"key": "x", "value": value}],
                    "Id": "6d81597f-0f9f-e711-8122-000d3aa2331c",
                    "LogicalName": "contact",
                },
            }
        ]
    )
    return parse_webhook(body, {}).attributes["x"]


# --------------------------------------------------------------------------- fixtures


def test_docs_update_example() -> None:
    event = parse_webhook(
        body_of("webhook_update_contact_docs.json"), webhook_headers("contact", "Update")
    )

    assert event.source == "webhook"
    assert (event.message, event.table, event.stage, event.mode, event.depth) == (
        "Update", "contact", 40, 1, 1,
    )
    assert event.record_id == "6d81597f-0f9f-e711-8122-000d3aa2331c"
    assert event.correlation_id == "b374239d-4233-41a9-8b17-a86cb4f737b5"
    assert event.operation_id == "4af10637-4ea2-e711-8122-000d3aa2331c"
    assert event.initiating_user_id == "75c2dd85-e89e-e711-8122-000d3aa2331c"
    assert event.user_id == "75c2dd85-e89e-e711-8122-000d3aa2331c"
    assert event.organization_id == "4ef5b371-e89e-e711-8122-000d3aa2331c"
    assert event.organization_name == "OrgName"
    assert event.organization_host == "orgname.crm4.dynamics.com"
    assert event.owning_step_id == "75417616-4ea2-e711-8122-000d3aa2331c"
    assert event.request_id == "11111111-2222-4333-8444-555555555555"  # body null -> header
    assert event.operation_created_on == datetime(2017, 9, 26, 7, 4, 8, tzinfo=UTC)
    assert event.operation_created_on.utcoffset() == timedelta(hours=-7)
    assert not event.trimmed
    assert not event.is_synchronous

    assert isinstance(event.target, Entity)
    assert event.target.logical_name == "contact"
    attrs = event.attributes
    assert attrs["firstname"] == "James"
    assert attrs["contactid"] == "6d81597f-0f9f-e711-8122-000d3aa2331c"
    assert attrs["modifiedon"] == datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC)
    assert attrs["modifiedby"] == EntityReference(
        logical_name="systemuser", id="75c2dd85-e89e-e711-8122-000d3aa2331c", name=None
    )
    assert "modifiedonbehalfby" in attrs and attrs["modifiedonbehalfby"] is None

    image = event.post_images["AsynchronousStepPrimaryName"]
    assert isinstance(image, Entity)
    assert image.get("fullname") == "James Glynn (sample)"
    assert event.pre_images == {}
    assert event.output_parameters == {}
    assert event.created_id is None

    parent = event.parent
    assert parent is not None and parent.stage == 30 and parent.message == "Update"
    assert parent.input_parameters["SuppressDuplicateDetection"] is False
    assert parent.input_parameters["Target"].attributes == {
        "firstname": "James",
        "contactid": "6d81597f-0f9f-e711-8122-000d3aa2331c",
    }
    assert parent.shared_variables["ChangedEntityTypes"] == [
        KeyValuePair(key="contact", value="Update")
    ]
    assert parent.parent is None
    assert event.tag is None


def test_typed_create_decodes_every_column_type() -> None:
    event = parse_webhook(
        body_of("webhook_create_typed.json"), webhook_headers("albxrm_testentity", "Create")
    )
    attrs = event.attributes

    assert attrs["albxrm_twooptions"] is True
    assert attrs["albxrm_wholenumber"] == 987654321
    assert attrs["albxrm_lookupaccount"] == EntityReference(
        logical_name="account", id="b76b3f4b-1be7-e611-8101-e0071b6af231"
    )
    assert attrs["albxrm_currency"] == Money(value=Decimal("2154.32"))
    assert attrs["albxrm_optionset"] == OptionSetValue(value=257760001)
    assert attrs["albxrm_multiselectoptionset"] == [
        OptionSetValue(value=257760001),
        OptionSetValue(value=257760002),
    ]
    assert attrs["albxrm_float"] == Decimal("2365.12")
    assert attrs["albxrm_decimal"] == Decimal("10.01")
    assert str(attrs["albxrm_precisedecimal"]) == "1.0000000000"
    assert attrs["albxrm_dateandtime"] == datetime(2020, 12, 15, 7, 0, tzinfo=UTC)
    assert attrs["albxrm_text"] == "sdafasf\nasdfas"
    assert attrs["albxrm_testentityid"] == "44bf3c6a-d83e-eb11-a813-000d3ab0e1f5"
    assert attrs["createdon"] == datetime(2018, 5, 31, 9, 5, 24, tzinfo=UTC)
    assert attrs["ownerid"].name == "Alex Admin"
    assert attrs["statecode"] == OptionSetValue(value=0)
    assert attrs["modifiedonbehalfby"] is None

    assert event.target.formatted_values["albxrm_multiselectoptionset"] == "Value 1; Value 2"
    assert event.created_id == "44bf3c6a-d83e-eb11-a813-000d3ab0e1f5"
    assert event.shared_variables == {"IsAutoTransact": True, "DefaultsAddedFlag": True}
    assert event.request_id == "7c3e9f20-5a4b-4c6d-8e1f-2a3b4c5d6e7f"  # body wins over header
    assert event.operation_created_on.utcoffset() == timedelta(0)


def test_delete_has_reference_target_and_pre_image() -> None:
    event = parse_webhook(
        body_of("webhook_delete_contact.json"), webhook_headers("contact", "Delete")
    )

    assert event.message == "Delete"
    assert event.target == EntityReference(
        logical_name="contact", id="2a9c6f1e-3b7d-4e5f-9a8b-1c2d3e4f5a6b"
    )
    assert event.attributes == {}
    assert event.input_parameters["ConcurrencyBehavior"] == 0
    pre = event.pre_images["PreImage"]
    assert pre.row_version == "5948260"
    assert pre.get("statecode") == OptionSetValue(value=0)
    assert pre.formatted_values == {"statecode": "Active"}
    assert event.post_images == {}


def test_sync_update_with_row_version_and_user_agent() -> None:
    event = parse_webhook(
        body_of("webhook_update_sync_agentstatus.json"),
        webhook_headers("msdyn_agentstatus", "Update"),
    )

    assert event.is_synchronous
    assert event.target.row_version == "5948260"
    assert event.attributes["msdyn_presencestatus"] == OptionSetValue(value=192360001)
    assert event.pre_images["PreImage"].get("msdyn_presencestatus") == OptionSetValue(
        value=192360000
    )
    assert event.shared_variables["AcceptLang"] == "en-US"


def test_trimmed_by_header() -> None:
    headers = webhook_headers("mp_registration", "Update")
    headers["x-ms-dynamics-msg-size-exceeded"] = ""
    event = parse_webhook(body_of("webhook_trimmed_update.json"), headers)

    assert event.trimmed
    assert event.target is None and event.attributes == {}
    assert event.pre_images == {} and event.post_images == {} and event.parent is None
    assert (event.table, event.record_id) == (
        "mp_registration", "e3f4a5b6-c7d8-4e9f-8a1b-2c3d4e5f6a7b",
    )


def test_trimmed_when_the_four_members_are_missing_without_marker() -> None:
    event = parse_webhook(body_of("webhook_trimmed_update.json"), {})
    assert event.trimmed


def test_not_trimmed_when_members_are_present_but_empty() -> None:
    assert not parse_webhook(minimal(), {}).trimmed


def test_header_names_are_case_insensitive() -> None:
    event = parse_webhook(
        body_of("webhook_update_contact_docs.json"),
        {
            "X-MS-Dynamics-Msg-Size-Exceeded": "true",
            "X-MS-Dynamics-Organization": "o.crm.dynamics.com",
        },
    )
    assert event.trimmed
    assert event.organization_host == "o.crm.dynamics.com"


def test_servicebus_message_with_claim_properties_in_bytes() -> None:
    properties: dict[str | bytes, object] = {
        (CLAIMS + "Organization").encode(): b"https://unqsandbox.crm4.dynamics.com/",
        (CLAIMS + "User").encode(): b"9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        CLAIMS + "InitiatingUser": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        CLAIMS + "EntityLogicalName": "mp_registration",
        CLAIMS + "RequestName": b"Create",
    }
    event = parse_servicebus(body_of("servicebus_create_registration.json"), properties)

    assert isinstance(event, DataverseEvent)
    assert event.source == "servicebus"
    assert (event.message, event.table, event.depth) == ("Create", "mp_registration", 2)
    assert event.organization_host == "unqsandbox.crm4.dynamics.com"
    assert event.created_id == "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e"
    assert event.owning_step_id == "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a"
    assert event.tag == "member-plugins"  # from the parent context's shared variables
    attrs = event.attributes
    assert attrs["mp_firstname"] == "Åsa"
    assert attrs["mp_lastname"] == "O'Brien"
    assert attrs["mp_topics"] == [OptionSetValue(value=2), OptionSetValue(value=3)]
    assert attrs["mp_consenton"] == datetime(2024, 8, 2, 7, 0, 39, tzinfo=UTC)
    assert attrs["mp_consenton"].utcoffset() == timedelta(hours=2)
    assert attrs["mp_personid"] is None
    assert not event.trimmed


def test_servicebus_size_exceeded_property() -> None:
    event = parse_servicebus(
        body_of("servicebus_create_registration.json"),
        {b"http://schemas.microsoft.com/xrm/2011/Claims/MessageMaxSizeExceeded": b"True"},
    )
    assert event.trimmed


def test_servicebus_without_properties() -> None:
    event = parse_servicebus(body_of("servicebus_create_registration.json"), None)
    assert event.organization_host is None and not event.trimmed


def test_entity_collection_unknown_types_and_unknown_members() -> None:
    event = parse_webhook(body_of("webhook_createmultiple_contacts.json"), {})

    assert event.message == "CreateMultiple"
    assert event.record_id == "00000000-0000-0000-0000-000000000000"
    targets = event.input_parameters["Targets"]
    assert isinstance(targets, EntityCollection)
    assert targets.entity_name == "contact" and not targets.more_records
    assert [e.get("firstname") for e in targets.entities] == ["Ebba", "Nils"]
    aliased = targets.entities[1].get("mp_score")
    assert isinstance(aliased, RawValue)
    assert aliased.type_name == f"AliasedValue:{XRM}"
    assert aliased.data["Value"] == 7
    hint = event.input_parameters["BypassHint"]
    assert isinstance(hint, RawValue) and hint.data["Level"] == 2
    assert event.target is None


def test_tag_in_own_shared_variables() -> None:
    event = parse_webhook(minimal(SharedVariables=[{"key": "tag", "value": "mine"}]), {})
    assert event.tag == "mine"


def test_correlation_falls_back_to_header() -> None:
    event = parse_webhook(
        minimal(), {"x-ms-correlation-request-id": "b374239d-4233-41a9-8b17-a86cb4f737b5"}
    )
    assert event.correlation_id == "b374239d-4233-41a9-8b17-a86cb4f737b5"


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("text", "expected", "offset"),
    [
        ("/Date(1506384247000)/", datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC), timedelta(0)),
        ("\\/Date(1506384247000)\\/", datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC), timedelta(0)),
        ("/Date(1506409448000-0700)/", datetime(2017, 9, 26, 7, 4, 8, tzinfo=UTC), -HOUR * 7),
        ("/Date(1608007658000+0000)/", datetime(2020, 12, 15, 4, 47, 38, tzinfo=UTC), timedelta(0)),
        ("/Date(1527757530151)/", datetime(2018, 5, 31, 9, 5, 30, 151000, UTC), timedelta(0)),
        ("/Date(-62135596800000)/", datetime(1, 1, 1, tzinfo=UTC), timedelta(0)),
        ("/Date(0+0530)/", datetime(1970, 1, 1, tzinfo=UTC), timedelta(hours=5, minutes=30)),
    ],
)
def test_dates(text: str, expected: datetime, offset: timedelta) -> None:
    moment = parse_date(text)
    assert moment == expected
    assert moment is not None and moment.utcoffset() == offset


@pytest.mark.parametrize("text", ["/Date()/", "Date(1)", "/Date(1)/x", "2024-01-01T00:00:00Z"])
def test_strings_that_are_not_dates_stay_strings(text: str) -> None:
    assert decode_value(text) == text


def test_escaped_slash_date_on_the_wire() -> None:
    raw = b'{"v": "\\/Date(1506384247000)\\/"}'
    assert decode_value(json.loads(raw)["v"]) == datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (987654321, 987654321),
        ("plain", "plain"),
        ({"__type": f"OptionSetValue:{XRM}", "Value": 3}, OptionSetValue(value=3)),
        ({"__type": f"Money:{XRM}", "Value": 12}, Money(value=Decimal("12"))),
        ({"__type": "Guid:#System", "__value": "ABCDEF00-0000-4000-8000-000000000001"},
         "abcdef00-0000-4000-8000-000000000001"),
        ({"__type": "DateTime:#System", "__value": "/Date(0)/"}, datetime(1970, 1, 1, tzinfo=UTC)),
        ({"__type": "Int32:#System", "__value": 5}, 5),
        ({"__type": f"EntityReference:{XRM}", "Id": "ABCDEF00-0000-4000-8000-000000000001",
          "LogicalName": "account", "Name": "Contoso"},
         EntityReference(logical_name="account", id="abcdef00-0000-4000-8000-000000000001",
                         name="Contoso")),
        ({"Id": "abcdef00-0000-4000-8000-000000000001", "LogicalName": "account"},
         EntityReference(logical_name="account", id="abcdef00-0000-4000-8000-000000000001")),
        ([], []),
    ],
)
def test_value_encodings(value: object, expected: object) -> None:
    assert attribute(value) == expected


def test_money_keeps_decimal_precision() -> None:
    raw = json.loads('{"__type": "Money:x", "Value": 2154.32}', parse_float=Decimal)
    assert decode_value(raw) == Money(value=Decimal("2154.32"))


@pytest.mark.parametrize(
    "value",
    [
        {"__type": f"Something:{XRM}", "Value": 1},
        {"__type": f"OptionSetValue:{XRM}"},
        {"__type": f"OptionSetValue:{XRM}", "Value": "high"},
        {"__type": f"Money:{XRM}", "Value": None},
        {"__type": f"EntityReference:{XRM}", "LogicalName": "account"},
        {"__type": f"EntityCollection:{XRM}", "Entities": None},
        {"__type": f"Entity:{XRM}", "LogicalName": "contact", "Attributes": "oops"},
        {"no": "type"},
    ],
)
def test_unknown_or_malformed_values_are_kept_raw(value: dict[str, object]) -> None:
    decoded = attribute(value)
    assert isinstance(decoded, RawValue)
    assert decoded.data == value
    assert decoded.type_name == value.get("__type")


def test_nested_entity_values_decode() -> None:
    entity = attribute(
        {
            "__type": f"Entity:{XRM}",
            "LogicalName": "task",
            "Id": None,
            "Attributes": [{"key": "scheduledend", "value": "/Date(0)/"}],
        }
    )
    assert isinstance(entity, Entity)
    assert entity.id is None
    assert entity.get("scheduledend") == datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- body encodings


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
        lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
        lambda t: t.encode("utf-16-le"),
        lambda t: t.encode("utf-16-be"),
        lambda t: codecs.BOM_UTF32_LE + t.encode("utf-32-le"),
        lambda t: "\ufeff" + t,
        lambda t: t,
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be", "utf32le-bom",
         "str-bom", "str"],
)
def test_body_encodings(encode) -> None:  # type: ignore[no-untyped-def]
    text = body_of("servicebus_create_registration.json").decode("utf-8")
    event = parse_servicebus(encode(text), {})
    assert event.attributes["mp_firstname"] == "Åsa"


def test_decode_body_rejects_invalid_utf8() -> None:
    with pytest.raises(EventParseError, match="not valid utf-8"):
        decode_body(b'{"a": "\xff\xfe\xfd"}'[:-1] + b"\xc3")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is empty"),
        (b"not json at all", "not JSON"),
        (b"<xml/>", "not JSON"),
        (b"[1, 2]", "JSON list, not a RemoteExecutionContext"),
        (b'"text"', "JSON str, not a RemoteExecutionContext"),
        (b'{"hello": "world"}', "not a RemoteExecutionContext: it has none of"),
        (minimal(PrimaryEntityId=...), "missing PrimaryEntityId"),
        (minimal(PrimaryEntityName=..., MessageName=...), "missing MessageName, PrimaryEntityName"),
        (minimal(Stage=None), "missing Stage"),
        (minimal(PrimaryEntityId="not-a-guid"), "PrimaryEntityId must be a GUID, got 'not-a-guid'"),
        (minimal(MessageName=""), "MessageName must be a non-empty string"),
        (minimal(MessageName=5), "MessageName must be a non-empty string, got 5"),
        (minimal(Stage="40"), "Stage must be an integer, got '40'"),
        (minimal(Mode=True), "Mode must be an integer, got True"),
        (minimal(Depth=1.5), "Depth must be an integer"),
        (minimal(CorrelationId="x"), "CorrelationId must be a GUID"),
        (minimal(OperationCreatedOn="yesterday"), "OperationCreatedOn must be a /Date"),
        (minimal(OrganizationName=3), "OrganizationName must be a string"),
        (minimal(InputParameters={"Target": 1}), "InputParameters must be a list of key/value"),
        (minimal(InputParameters=[1]), r"InputParameters\[0\] is not a \{key, value\} pair"),
        (minimal(SharedVariables="x"), "SharedVariables must be a list"),
        (minimal(PreEntityImages={}), "PreEntityImages must be a list"),
        (minimal(PostEntityImages=[{"value": 1}]), r"PostEntityImages\[0\] is not a"),
        (minimal(ParentContext=[]), "ParentContext must be an object or null"),
        (minimal(ParentContext={"SharedVariables": 1}), "ParentContext.SharedVariables must be"),
    ],
)
def test_bad_input_names_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(EventParseError, match=message):
        parse_webhook(body, {})


def test_bad_servicebus_body() -> None:
    with pytest.raises(EventParseError, match="not JSON"):
        parse_servicebus(b"@\x02\x0bmsbin1-binary-xml", {"ContentType": "application/msbin1"})


def test_event_parse_error_is_a_value_error() -> None:
    assert issubclass(EventParseError, ValueError)


def test_event_is_frozen() -> None:
    event = parse_webhook(minimal(), {})
    with pytest.raises(ValueError):
        event.message = "Create"  # type: ignore[misc]


def test_offset_becomes_the_datetime_zone() -> None:
    moment = parse_date("/Date(1506409448000-0700)/")
    assert moment is not None and moment.tzinfo == timezone(timedelta(hours=-7))


def test_a_name_longer_than_dataverse_allows_is_not_an_event() -> None:
    context = {"MessageName": "Create" * 100, "PrimaryEntityName": "contact",
               "PrimaryEntityId": "6d81597f-0f9f-e711-8122-000d3aa2331c", "Stage": 40, "Mode": 1}
    with pytest.raises(EventParseError, match="MessageName is 600 characters long"):
        parse_webhook(json.dumps(context).encode(), {})


def test_a_huge_wrong_value_is_cut_short_in_the_error() -> None:
    context = {"MessageName": ["x" * 10_000], "PrimaryEntityName": "contact",
               "PrimaryEntityId": "6d81597f-0f9f-e711-8122-000d3aa2331c", "Stage": 40, "Mode": 1}
    with pytest.raises(EventParseError) as caught:
        parse_webhook(json.dumps(context).encode(), {})
    assert len(str(caught.value)) < 200

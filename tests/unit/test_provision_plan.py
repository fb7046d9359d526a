"""The provisioning plan (pure): what to create, in which order, and what stands in the way;
the metadata bodies it sends; the schema under the organisation's names."""

from __future__ import annotations

from typing import Any

from plugins.admin import metadata
from plugins.admin.metadata import ExistingChoice, ExistingKey, ExistingTable
from plugins.admin.provision_plan import (
    Environment,
    StepKind,
    mapped_schema,
    plan_provisioning,
)
from plugins.core.schema import Column, Schema, product_schema
from plugins.core.schema_map import ContactMap, RegistrationMap, SchemaMap
from plugins.registration.model import Status

SCHEMA = Schema.model_validate(
    {
        "choices": {
            "statecode_active": {"options": {"0": "Active", "1": "Inactive"}},
            "statuscode_active": {"options": {"1": "Active", "2": "Inactive"}},
            "mp_status": {"options": {"100000000": "Received", "100000001": "Approved"}},
            "mp_topic": {"options": {"100000000": "News", "100000001": "Events"}},
        },
        "tables": [
            {
                "logical_name": "contact", "entity_set": "contacts", "primary_id": "contactid",
                "primary_name": "fullname", "standard": True,
                "columns": {
                    "contactid": {"type": "uniqueidentifier"},
                    "fullname": {"type": "string"},
                    "statecode": {"type": "state", "choices": "statecode_active"},
                    "mp_nationalid": {"type": "string", "max_length": 20},
                    "mp_topics": {"type": "multichoice", "choices": "mp_topic"},
                },
                "keys": [{"name": "mp_contact_nationalid", "columns": ["mp_nationalid"]}],
            },
            {
                "logical_name": "mp_registration", "entity_set": "mp_registrations",
                "primary_id": "mp_registrationid", "primary_name": "mp_name",
                "label": "Alumni registration",
                "columns": {
                    "mp_registrationid": {"type": "uniqueidentifier"},
                    "mp_name": {"type": "string", "max_length": 200},
                    "mp_status": {"type": "choice", "choices": "mp_status"},
                    "mp_topics": {"type": "multichoice", "choices": "mp_topic"},
                    "mp_startdate": {"type": "date"},
                    "mp_personid": {"type": "lookup", "targets": {"contact": {
                        "nav": "mp_PersonId", "relationship": "mp_contact_mp_registration_PersonId",
                        "cascade_delete": True}}},
                    "statecode": {"type": "state", "choices": "statecode_active"},
                    "createdon": {"type": "datetime", "readonly": True},
                },
            },
            {
                "logical_name": "task", "entity_set": "tasks", "primary_id": "activityid",
                "primary_name": "subject", "standard": True,
                "columns": {
                    "activityid": {"type": "uniqueidentifier"},
                    "subject": {"type": "string"},
                    "regardingobjectid": {"type": "lookup", "targets": {
                        "contact": {"nav": "regardingobjectid_contact_task",
                                    "relationship": "Contact_Tasks"},
                        "mp_registration": {"nav": "regardingobjectid_mp_registration_task",
                                            "relationship": "mp_registration_Tasks"}}},
                },
            },
        ],
    }
)
TYPE_NAMES = {kind: sorted(names)[0] for kind, names in metadata.EXISTING_TYPES.items()}


def existing(schema: Schema, name: str, *, custom: bool = True, **changes: Any) -> ExistingTable:
    """A table as the environment would report it (without ``mp_`` columns unless ``custom``)."""
    table = schema.table(name)
    columns = {
        column: TYPE_NAMES[spec.type]
        for column, spec in table.columns.items()
        if custom or not column.startswith("mp_")
    }
    lookups = {
        column: frozenset(t for t in spec.targets or {} if custom or not t.startswith("mp_"))
        for column, spec in table.columns.items()
        if spec.targets and column in columns
    }
    keys = tuple(
        ExistingKey(k.name, frozenset(k.columns), "Active") for k in table.keys if custom
    )
    snapshot = ExistingTable(name, table.entity_set, f"id-{name}", columns, keys, lookups)
    return ExistingTable(**{**snapshot.__dict__, **changes})


def fresh_environment() -> Environment:
    return Environment(
        {n: existing(SCHEMA, n, custom=False) for n in ("contact", "task")}, {}
    )


def provisioned_environment() -> Environment:
    return Environment(
        {t.logical_name: existing(SCHEMA, t.logical_name) for t in SCHEMA.tables},
        {name: ExistingChoice(name, f"id-{name}", frozenset(c.options))
         for name, c in SCHEMA.choices.items()},
    )


# ----------------------------------------------------------------------------- planning


def test_fresh_environment_gets_everything_in_dependency_order() -> None:
    plan = plan_provisioning(SCHEMA, fresh_environment())
    assert [(s.kind, s.name) for s in plan.steps] == [
        (StepKind.CHOICE, "mp_topic"),
        (StepKind.CHOICE, "mp_status"),
        (StepKind.TABLE, "mp_registration"),
        (StepKind.COLUMN, "contact.mp_nationalid"),
        (StepKind.COLUMN, "contact.mp_topics"),
        (StepKind.COLUMN, "mp_registration.mp_status"),
        (StepKind.COLUMN, "mp_registration.mp_topics"),
        (StepKind.COLUMN, "mp_registration.mp_startdate"),
        (StepKind.RELATIONSHIP, "mp_contact_mp_registration_PersonId"),
        (StepKind.KEY, "contact.mp_contact_nationalid"),
    ]
    assert plan.conflicts == () and not plan.is_noop
    table = plan.steps[2]
    assert table.summary == "primary name mp_name, activities enabled"
    assert table.body["HasActivities"] is True
    column = plan.steps[4]
    assert column.collection == "EntityDefinitions(LogicalName='contact')/Attributes"
    assert column.choice == "mp_topic" and "GlobalOptionSet@odata.bind" not in column.body
    assert plan.steps[-1].collection == "EntityDefinitions(LogicalName='contact')/Keys"


def test_provisioned_environment_is_a_no_op() -> None:
    plan = plan_provisioning(SCHEMA, provisioned_environment())
    assert plan.is_noop and plan.steps == () and plan.conflicts == ()
    tables, columns, lookup_targets, keys = 3, 16, 3, 1
    assert plan.present == tables + columns + lookup_targets + keys


def test_a_column_on_an_existing_choice_is_bound_at_once() -> None:
    environment = fresh_environment()
    topic = ExistingChoice("mp_topic", "c0ffee", frozenset({100000000, 100000001}))
    environment = Environment(environment.tables, {"mp_topic": topic})
    plan = plan_provisioning(SCHEMA, environment)
    topics = next(s for s in plan.steps if s.name == "contact.mp_topics")
    assert topics.choice is None
    assert topics.body["GlobalOptionSet@odata.bind"] == "/GlobalOptionSetDefinitions(c0ffee)"
    assert [s.name for s in plan.steps if s.kind is StepKind.CHOICE] == ["mp_status"]


def test_conflicts_name_what_is_in_the_way() -> None:
    contact = existing(SCHEMA, "contact", columns={
        **existing(SCHEMA, "contact").columns, "mp_nationalid": "IntegerType"},
        keys=(ExistingKey("mp_contact_nationalid", frozenset({"fullname"}), "Active"),))
    registration = existing(SCHEMA, "mp_registration", entity_set="mp_registrationset")
    environment = Environment(
        {"contact": contact, "mp_registration": registration,
         "task": existing(SCHEMA, "task", custom=False)},
        {"mp_topic": ExistingChoice("mp_topic", "x", frozenset({100000000}))},
    )
    plan = plan_provisioning(SCHEMA, environment)
    assert plan.conflicts == (
        "table mp_registration has the entity set 'mp_registrationset', not 'mp_registrations': "
        "set the schema map's entity_set to 'mp_registrationset'",
        "column contact.mp_nationalid is IntegerType, the product needs string: map the product "
        "to another column in the schema map",
        "alternate key contact.mp_contact_nationalid exists over other columns than "
        "mp_nationalid: remove it or rename the product's key",
        "task.regardingobjectid cannot point at mp_registration: turn on 'Enable for "
        "activities' (mp_registration > Properties) in the maker portal, then run again",
    )


def test_missing_standard_table_and_non_custom_column_are_conflicts() -> None:
    contact = existing(SCHEMA, "contact", custom=False)
    schema = SCHEMA.model_copy(update={"tables": (
        SCHEMA.table("contact").model_copy(update={"columns": {
            **SCHEMA.table("contact").columns, "telephone9": Column(type="string")}}),
        *SCHEMA.tables[1:],
    )})
    plan = plan_provisioning(schema, Environment({"contact": contact}, {}))
    assert "table task does not exist in this environment" in plan.conflicts[0]
    assert any(c.startswith("column contact.telephone9 is missing and is not a custom column")
               for c in plan.conflicts)
    assert not any(s.name.startswith("task.") for s in plan.steps)


def test_global_choice_lacking_values_is_a_conflict() -> None:
    environment = fresh_environment()
    environment = Environment(environment.tables, {
        "mp_status": ExistingChoice("mp_status", "s", frozenset({100000000}))})
    plan = plan_provisioning(SCHEMA, environment)
    assert (
        "global choice mp_status lacks the values 100000001: add them (with the product's "
        "labels) or map the product's values in the schema map"
    ) in plan.conflicts


def test_key_status_failed_is_a_conflict_and_pending_a_note() -> None:
    def with_key(status: str) -> Environment:
        environment = provisioned_environment()
        contact = existing(SCHEMA, "contact", keys=(
            ExistingKey("mp_contact_nationalid", frozenset({"mp_nationalid"}), status),))
        return Environment({**environment.tables, "contact": contact}, environment.choices)

    failed = plan_provisioning(SCHEMA, with_key("Failed"))
    assert failed.conflicts and "failed to build" in failed.conflicts[0]
    pending = plan_provisioning(SCHEMA, with_key("Pending"))
    assert pending.is_noop
    assert pending.notes == ("alternate key contact.mp_contact_nationalid is still being built "
                             "(Pending)",)


def test_product_schema_plans_without_conflicts_against_its_standard_tables() -> None:
    schema = mapped_schema(product_schema(), SchemaMap())
    tables = {t.logical_name: existing(schema, t.logical_name, custom=False)
              for t in schema.tables if t.standard}
    plan = plan_provisioning(schema, Environment(tables, {}))
    assert plan.conflicts == ()
    created = {s.name for s in plan.steps if s.kind is StepKind.TABLE}
    assert created == {t.logical_name for t in schema.tables if not t.standard}
    assert not any(
        s.kind is StepKind.COLUMN and s.name.split(".")[1] in metadata.SYSTEM_COLUMNS
        for s in plan.steps
    )


# ---------------------------------------------------------------------- the schema map


def test_default_schema_map_changes_nothing() -> None:
    assert mapped_schema(product_schema(), SchemaMap()) == product_schema()


def test_mapped_names_and_choice_numbers() -> None:
    schema_map = SchemaMap(
        registration=RegistrationMap(
            table="new_alumniregistration", entity_set="new_alumniregistrations",
            id="new_alumniregistrationid", name="new_name", status="new_status",
            person_nav="new_ContactId",
        ),
        contact=ContactMap(national_id="new_personnummer", national_id_key="new_pnr_key"),
    )
    schema = mapped_schema(SCHEMA, schema_map)
    registration = schema.table("new_alumniregistration")
    assert (registration.entity_set, registration.primary_id, registration.primary_name) == (
        "new_alumniregistrations", "new_alumniregistrationid", "new_name")
    assert "new_status" in registration.columns and "mp_status" not in registration.columns
    assert registration.columns["mp_personid"].targets["contact"].nav == "new_ContactId"
    contact = schema.table("contact")
    assert contact.keys[0].name == "new_pnr_key" and contact.keys[0].columns == (
        "new_personnummer",)
    task = schema.table("task")
    assert set(task.columns["regardingobjectid"].targets or {}) == {
        "contact", "new_alumniregistration"}


def test_mapped_choice_numbers_follow_the_labels() -> None:
    numbers = {**RegistrationMap().status_values, Status.RECEIVED: 1, Status.DENIED: 5}
    schema = mapped_schema(
        product_schema(), SchemaMap(registration=RegistrationMap(status_values=numbers))
    )
    options = schema.choices["mp_registrationstatus"].options
    assert options[1] == "Received" and options[5] == "Denied"
    assert 100000000 not in options and options[100000001] == "ApprovedRegisteredAlumnus"
    assert schema.choices["mp_topic"] == product_schema().choices["mp_topic"]


# -------------------------------------------------------------------- metadata bodies


def test_table_definition_carries_only_its_primary_name_column() -> None:
    body = metadata.table_definition(SCHEMA.table("mp_registration"), has_activities=False)
    assert body["@odata.type"] == "Microsoft.Dynamics.CRM.EntityMetadata"
    assert body["SchemaName"] == "mp_Registration"
    assert body["DisplayName"]["LocalizedLabels"][0] == {
        "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
        "Label": "Alumni registration", "LanguageCode": 1033,
    }
    [primary] = body["Attributes"]
    assert (primary["@odata.type"], primary["SchemaName"], primary["IsPrimaryName"],
            primary["MaxLength"]) == (
        "Microsoft.Dynamics.CRM.StringAttributeMetadata", "mp_Name", True, 200)


def test_column_definitions_by_type() -> None:
    date = metadata.column_definition("mp_startdate", Column(type="date"))
    assert (date["AttributeType"], date["Format"], date["DateTimeBehavior"]) == (
        "DateTime", "DateOnly", {"Value": "DateOnly"})
    multi = metadata.column_definition("mp_topics", Column(type="multichoice", choices="x"))
    assert (multi["@odata.type"], multi["AttributeType"], multi["AttributeTypeName"]) == (
        "Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata", "Virtual",
        {"Value": "MultiSelectPicklistType"})
    memo = metadata.column_definition("mp_notes", Column(type="memo"))
    assert (memo["MaxLength"], memo["Format"]) == (2000, "TextArea")
    required = metadata.column_definition("mp_key", Column(type="string", required=True))
    assert required["RequiredLevel"]["Value"] == "ApplicationRequired"
    boolean = metadata.column_definition("mp_flag", Column(type="boolean"))
    assert boolean["OptionSet"]["TrueOption"]["Value"] == 1
    money = metadata.column_definition("mp_fee", Column(type="money"))
    assert money["@odata.type"].endswith("MoneyAttributeMetadata") and money["Precision"] == 2


def test_relationship_definition_creates_the_lookup() -> None:
    registration = SCHEMA.table("mp_registration")
    column = registration.columns["mp_personid"]
    link = (column.targets or {})["contact"]
    body = metadata.relationship_definition(
        registration, "mp_personid", column, SCHEMA.table("contact"), link)
    assert (body["SchemaName"], body["ReferencedEntity"], body["ReferencedAttribute"],
            body["ReferencingEntity"]) == (
        "mp_contact_mp_registration_PersonId", "contact", "contactid", "mp_registration")
    assert body["CascadeConfiguration"]["Delete"] == "Cascade"
    assert body["Lookup"]["SchemaName"] == "mp_PersonId"
    assert body["Lookup"]["@odata.type"] == "Microsoft.Dynamics.CRM.LookupAttributeMetadata"


def test_reading_what_the_environment_answers() -> None:
    table = metadata.read_table({
        "LogicalName": "contact", "EntitySetName": "contacts", "MetadataId": "m1",
        "Attributes": [{"LogicalName": "fullname", "AttributeTypeName": {"Value": "StringType"}}],
        "Keys": [{"LogicalName": "k", "KeyAttributes": ["a", "b"],
                  "EntityKeyIndexStatus": "Active"}],
        "ManyToOneRelationships": [
            {"SchemaName": "r1", "ReferencedEntity": "account", "ReferencingAttribute": "parentid"},
            {"SchemaName": "r2", "ReferencedEntity": "contact", "ReferencingAttribute": "parentid"},
        ],
    })
    assert table.columns == {"fullname": "StringType"}
    assert table.keys == (ExistingKey("k", frozenset({"a", "b"}), "Active"),)
    assert table.lookups == {"parentid": frozenset({"account", "contact"})}
    choice = metadata.read_choice({"Name": "x", "MetadataId": "m2",
                                   "Options": [{"Value": 1}, {"Value": 2}]})
    assert choice == ExistingChoice("x", "m2", frozenset({1, 2}))
    assert metadata.bind_choice({"a": 1}, "m2") == {
        "a": 1, "GlobalOptionSet@odata.bind": "/GlobalOptionSetDefinitions(m2)"}

"""The step catalog, the endpoint options and the registration plan (pure: no Dataverse)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

import pytest

from plugins.admin import catalog
from plugins.admin.catalog import (
    IMAGE_PRE,
    MARKER,
    MODE_ASYNCHRONOUS,
    MODE_SYNCHRONOUS,
    STAGE_POST_OPERATION,
    STAGE_PRE_OPERATION,
    ImageSpec,
    StepSpec,
    product_steps,
)
from plugins.admin.commands import render_plan
from plugins.admin.endpoint import (
    DeliveryError,
    EndpointSpec,
    QueueDelivery,
    WebhookDelivery,
    fingerprint,
)
from plugins.admin.plan import Action, Kind, Link, Plan, PlanItem
from plugins.admin.planning import MessageIds, registration_plan, unregistration_plan
from plugins.admin.registered import Registered, Row, StepRow, is_managed
from plugins.core.schema_map import RegistrationMap, SchemaMap

URL = "https://contoso-members.azurewebsites.net/api/registration/events"
KEY = "function-key-0123456789"
WEBHOOK = WebhookDelivery(URL, KEY)
IDS = MessageIds(
    messages={"Create": "m-create", "Update": "m-update"},
    filters={("Create", "mp_registration"): "f-create", ("Update", "mp_registration"): "f-update"},
)
EMPTY = Registered(endpoints=(), steps=(), images=(), foreign_steps={})


def plan_for(
    registered: Registered = EMPTY,
    endpoint: EndpointSpec | None = None,
    specs: tuple[StepSpec, ...] | None = None,
) -> Plan:
    return registration_plan(
        endpoint or WEBHOOK.endpoint(),
        specs if specs is not None else product_steps(SchemaMap()),
        registered,
        IDS,
    )


def applied(plan: Plan, base: Registered = EMPTY) -> Registered:
    """What Dataverse holds after ``plan`` was applied to ``base`` (creates and deletes)."""
    numbers = itertools.count(1)
    deleted = {item.row_id for item in plan.items if item.action is Action.DELETE}
    endpoints = [row for row in base.endpoints if row.id not in deleted]
    steps = [row for row in base.steps if row.id not in deleted]
    images = [row for row in base.images if row.id not in deleted]
    ids = {(r.name, "endpoint"): r.id for r in endpoints} | {(r.name, "step"): r.id for r in steps}
    for item in plan.items:
        if item.action is not Action.CREATE:
            continue
        row_id = f"{item.kind}-{next(numbers)}"
        values = {k: v for k, v in item.values.items() if k not in ("authvalue", "saskey")}
        links = {link.navigation: link for link in item.links}
        if item.kind is Kind.ENDPOINT:
            endpoints.append(Row(row_id, item.name, values))
        elif item.kind is Kind.STEP:
            handler = links["eventhandler_serviceendpoint"].item
            values |= {
                "_eventhandler_value": ids[(handler, "endpoint")],
                "_sdkmessageid_value": links["sdkmessageid"].row_id,
                "_sdkmessagefilterid_value": links["sdkmessagefilterid"].row_id,
                "statecode": 0,
            }
            steps.append(StepRow(row_id, item.name, values))
        else:
            step = ids[(links["sdkmessageprocessingstepid"].item, "step")]
            values |= {"_sdkmessageprocessingstepid_value": step}
            images.append(Row(row_id, item.name, values))
        ids[(item.name, item.kind.value)] = row_id
    return Registered(tuple(endpoints), tuple(steps), tuple(images), base.foreign_steps)


def actions(plan: Plan) -> list[tuple[str, str, str]]:
    return [(item.action.value, item.kind.value, item.label) for item in plan.items]


# ------------------------------------------------------------------- catalog


def test_catalog_takes_table_and_column_names_from_the_schema_map() -> None:
    mapped = SchemaMap(
        registration=RegistrationMap(table="new_alumniregistration", status="new_status")
    )
    created, decided = product_steps(mapped)
    assert (created.message, created.table, created.filtering_attributes) == (
        "Create", "new_alumniregistration", ()
    )
    assert created.images == ()
    assert (decided.message, decided.table, decided.filtering_attributes) == (
        "Update", "new_alumniregistration", ("new_status", "mp_officedecision")
    )
    assert decided.images == (ImageSpec("PreImage", IMAGE_PRE, ("new_status",)),)
    assert {(s.stage, s.mode) for s in (created, decided)} == {
        (STAGE_POST_OPERATION, MODE_ASYNCHRONOUS)
    }


def test_step_names_and_descriptions_carry_the_markers() -> None:
    for step in product_steps(SchemaMap()):
        assert step.name.startswith("member-plugins: ")
        assert step.description.endswith(MARKER)
        assert is_managed({"name": step.name, "description": step.description})
    assert not is_managed({"name": "member-plugins: x", "description": "someone else's"})
    assert not is_managed({"name": "Contoso step", "description": f"copied {MARKER}"})


def test_an_asynchronous_step_must_be_post_operation() -> None:
    with pytest.raises(ValueError, match="PostOperation"):
        StepSpec("x", "Create", "contact", "p", stage=STAGE_PRE_OPERATION)
    sync = StepSpec("x", "Create", "contact", "p", stage=STAGE_PRE_OPERATION, mode=MODE_SYNCHRONOUS)
    assert sync.summary == "Create of contact, PreOperation, sync"


def test_catalog_groups_extend_the_product_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    def lifecycle(schema: SchemaMap) -> tuple[StepSpec, ...]:
        return (StepSpec("contact changed", "Update", schema.contact.table, "Lifecycle."),)

    monkeypatch.setattr(catalog, "CATALOG", (*catalog.CATALOG, lifecycle))
    assert [s.key for s in product_steps(SchemaMap())] == [
        "registration created", "registration status changed", "contact changed"
    ]
    monkeypatch.setattr(catalog, "CATALOG", (*catalog.CATALOG, catalog.registration_steps))
    with pytest.raises(ValueError, match="registered twice"):
        product_steps(SchemaMap())


# ------------------------------------------------------------------ endpoints


def test_webhook_key_endpoint() -> None:
    spec = WEBHOOK.endpoint()
    assert spec.columns == {"url": URL, "contract": 8, "authtype": 4}
    assert (spec.secret_column, spec.secret) == ("authvalue", KEY)
    assert KEY not in repr(spec) and KEY not in repr(WEBHOOK)
    assert fingerprint(KEY) in spec.description and KEY not in spec.description


def test_http_header_endpoint_escapes_the_key_into_settings_xml() -> None:
    spec = WebhookDelivery(URL, 'k"<&', "httpheader").endpoint()
    assert spec.columns["authtype"] == 5
    [setting] = ElementTree.fromstring(spec.secret).findall("setting")
    assert setting.attrib == {"name": "x-functions-key", "value": 'k"<&'}


def test_queue_endpoint_is_a_persistent_json_queue() -> None:
    delivery = QueueDelivery("sb://contoso.servicebus.windows.net", "events", "send", "s3cret")
    spec = delivery.endpoint()
    assert spec.columns == {
        "contract": 6,
        "namespaceaddress": "sb://contoso.servicebus.windows.net/",
        "namespaceformat": 2,
        "solutionnamespace": "contoso",
        "path": "events",
        "authtype": 2,
        "saskeyname": "send",
        "messageformat": 2,
        "messagecharset": 1,
        "userclaim": 1,
        "connectionmode": 1,
    }
    assert (spec.secret_column, spec.secret) == ("saskey", "s3cret")


@pytest.mark.parametrize(
    ("delivery", "message"),
    [
        (WebhookDelivery("ftp://x/y", KEY), "http"),
        (WebhookDelivery("http://contoso.azurewebsites.net/api/registration/events", KEY),
         "must be https"),
        (WebhookDelivery(URL + "?code=abc", KEY), "--function-key"),
        (WebhookDelivery(URL, ""), "--function-key"),
        (QueueDelivery("https://ns/", "q", "n", "k"), "sb://"),
        (QueueDelivery("sb://ns/", "", "n", ""), "--queue, --sas-key"),
    ],
)
def test_unusable_delivery_options_are_refused(delivery: Any, message: str) -> None:
    with pytest.raises(DeliveryError, match=message.replace("?", r"\?")):
        delivery.endpoint()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:7071/api/registration/events", "http://localhost:80/x",
            "http://[::1]:8080/x", URL],
)
def test_plain_http_webhooks_only_on_loopback(url: str) -> None:
    assert WebhookDelivery(url, KEY).endpoint().columns["url"] == url


def test_a_sandbox_namespace_address_is_its_own_solution_namespace() -> None:
    spec = QueueDelivery("sb://127.0.0.1:8443/servicebus/", "q", "n", "k").endpoint()
    assert spec.columns["solutionnamespace"] == "127.0.0.1"


def test_fingerprint_tells_keys_apart_without_revealing_them() -> None:
    assert fingerprint("a") != fingerprint("b")
    assert fingerprint("a") == fingerprint("a")
    assert fingerprint("a").startswith("sha256:") and len(fingerprint("a")) == 23


# ---------------------------------------------------------------------- plans


def test_first_plan_creates_endpoint_steps_and_image_linked_by_name() -> None:
    plan = plan_for()
    assert actions(plan) == [
        ("create", "endpoint", "member-plugins: webhook"),
        ("create", "step", "member-plugins: registration created"),
        ("create", "step", "member-plugins: registration status changed"),
        ("create", "image", "PreImage on member-plugins: registration status changed"),
    ]
    endpoint, created, decided, image = plan.items
    assert endpoint.values["authvalue"] == KEY and KEY not in repr(endpoint)
    assert Link("eventhandler_serviceendpoint", "serviceendpoints", item=endpoint.name) in (
        created.links
    )
    assert Link("sdkmessagefilterid", "sdkmessagefilters", row_id="f-update") in decided.links
    assert decided.values["filteringattributes"] == "mp_status,mp_officedecision"
    assert decided.values["asyncautodelete"] is True
    assert image.values == {
        "name": "PreImage", "entityalias": "PreImage", "imagetype": 0,
        "messagepropertyname": "Target", "attributes": "mp_status",
    }
    assert image.links == (
        Link("sdkmessageprocessingstepid", "sdkmessageprocessingsteps", item=decided.name),
    )


def test_plan_against_what_it_created_is_a_noop() -> None:
    registered = applied(plan_for())
    again = plan_for(registered)
    assert again.is_noop
    assert again.counts() == {
        Action.CREATE: 0, Action.UPDATE: 0, Action.DELETE: 0, Action.UNCHANGED: 4
    }


def test_column_lists_compare_as_sets() -> None:
    registered = applied(plan_for())
    step = registered.steps[1]
    shuffled = replace(
        step, values={**step.values, "filteringattributes": " MP_OFFICEDECISION , MP_STATUS "}
    )
    assert plan_for(replace(registered, steps=(registered.steps[0], shuffled))).is_noop


def test_only_changed_columns_are_updated() -> None:
    registered = applied(plan_for())
    step = registered.steps[0]
    moved = replace(step, values={**step.values, "rank": 5, "_sdkmessagefilterid_value": "other"})
    plan = plan_for(replace(registered, steps=(moved, registered.steps[1])))
    [update] = plan.writes
    assert (update.action, update.name) == (Action.UPDATE, step.name)
    assert update.changes == ("rank", "sdkmessagefilterid")
    assert dict(update.values) == {"rank": 1}
    assert update.links == (Link("sdkmessagefilterid", "sdkmessagefilters", row_id="f-create"),)


def test_a_new_key_rewrites_the_secret_and_nothing_else() -> None:
    registered = applied(plan_for())
    plan = plan_for(registered, WebhookDelivery(URL, "rotated-key").endpoint())
    [update] = plan.writes
    assert update.kind is Kind.ENDPOINT
    assert update.changes == ("description", "authvalue")
    assert update.values["authvalue"] == "rotated-key"


def test_switching_to_a_queue_moves_the_steps_and_deletes_the_old_endpoint() -> None:
    registered = applied(plan_for())
    queue = QueueDelivery("sb://ns.servicebus.windows.net/", "events", "send", "k").endpoint()
    plan = plan_for(registered, queue)
    assert actions(plan) == [
        ("create", "endpoint", "member-plugins: Service Bus queue"),
        ("update", "step", "member-plugins: registration created"),
        ("update", "step", "member-plugins: registration status changed"),
        ("unchanged", "image", "PreImage on member-plugins: registration status changed"),
        ("delete", "endpoint", "member-plugins: webhook"),
    ]
    assert plan.items[1].changes == ("eventhandler_serviceendpoint",)
    assert plan_for(applied(plan, registered), queue).is_noop


def test_an_old_endpoint_other_steps_use_is_kept() -> None:
    registered = applied(plan_for())
    old = registered.endpoints[0]
    queue = QueueDelivery("sb://ns.servicebus.windows.net/", "events", "send", "k").endpoint()
    plan = plan_for(replace(registered, foreign_steps={old.id: 2}), queue)
    kept = plan.items[-1]
    assert (kept.action, kept.name) == (Action.UNCHANGED, old.name)
    assert "2 step(s) not registered by member-plugins" in kept.note


def test_steps_and_images_no_longer_in_the_catalog_are_removed() -> None:
    everything = product_steps(SchemaMap())
    registered = applied(plan_for())
    plan = plan_for(registered, specs=everything[:1])
    assert [a for a in actions(plan) if a[0] != "unchanged"] == [
        ("delete", "image", "PreImage on member-plugins: registration status changed"),
        ("delete", "step", "member-plugins: registration status changed"),
    ]
    without_image = replace(everything[1], images=())
    plan = plan_for(registered, specs=(everything[0], without_image))
    assert [a for a in actions(plan) if a[0] != "unchanged"] == [
        ("delete", "image", "PreImage on member-plugins: registration status changed"),
    ]


def test_a_duplicate_step_is_removed() -> None:
    registered = applied(plan_for())
    twin = replace(registered.steps[0], id="step-twin")
    plan = plan_for(replace(registered, steps=(*registered.steps, twin)))
    [delete] = plan.writes
    assert (delete.action, delete.row_id) == (Action.DELETE, "step-twin")


def test_a_disabled_step_is_left_disabled_and_noted() -> None:
    registered = applied(plan_for())
    step = registered.steps[0]
    disabled = replace(step, values={**step.values, "statecode": 1})
    plan = plan_for(replace(registered, steps=(disabled, registered.steps[1])))
    assert plan.is_noop
    assert plan.items[1].note == "disabled in Dataverse; left disabled"


def test_unregistration_deletes_images_then_steps_then_the_endpoint() -> None:
    registered = applied(plan_for())
    assert actions(unregistration_plan(registered)) == [
        ("delete", "step", "member-plugins: registration created"),
        ("delete", "image", "PreImage on member-plugins: registration status changed"),
        ("delete", "step", "member-plugins: registration status changed"),
        ("delete", "endpoint", "member-plugins: webhook"),
    ]
    assert unregistration_plan(EMPTY).items == ()


def test_rendered_plan_names_changes_but_never_secrets() -> None:
    registered = applied(plan_for())
    plan = plan_for(registered, WebhookDelivery(URL, "rotated-key").endpoint())
    lines = render_plan(plan)
    assert lines[0] == (
        f"  update     endpoint  member-plugins: webhook (webhook {URL}) "
        "[changes: description, authvalue]"
    )
    assert "rotated-key" not in "\n".join(lines)
    item = PlanItem(Kind.STEP, "member-plugins: x", Action.UNCHANGED, note="left disabled")
    assert render_plan(Plan((item,))) == ["  unchanged  step      member-plugins: x; left disabled"]


def test_the_erasure_step_comes_with_erasure_enabled() -> None:
    assert "erasure request created" not in [s.key for s in product_steps(SchemaMap())]
    [step] = [s for s in product_steps(SchemaMap(), erasure=True) if "erasure" in s.key]
    assert (step.message, step.table, step.mode) == ("Create", "mp_erasurerequest", 1)

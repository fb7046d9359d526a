"""Service Bus steps end to end: registered through the Web API, fired by Web API writes,
received from the sandbox's namespace over its REST API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import requests
from steps_registration import register_image, register_queue, register_step, system_jobs

from sandbox.app import Sandbox
from sandbox.store import Caller

if TYPE_CHECKING:
    from conftest import WebApiSession

CLAIMS = "http://schemas.microsoft.com/xrm/2011/Claims/"


def receive(sandbox: Sandbox, queue: str) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/servicebus/{queue}/messages/head", timeout=10)


def complete(sandbox: Sandbox, queue: str, response: requests.Response) -> None:
    broker = json.loads(response.headers["BrokerProperties"])
    done = requests.delete(
        f"{sandbox.base_url}/servicebus/{queue}/messages/{broker['SequenceNumber']}/"
        f"{broker['LockToken']}",
        timeout=10,
    )
    assert done.status_code == 200


def pairs(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {pair["key"]: pair["value"] for pair in items}


def created_id(response: requests.Response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def test_async_step_puts_the_context_on_the_queue_with_claims(
    sandbox: Sandbox, dv: WebApiSession
) -> None:
    step = register_step(dv, register_queue(dv, "contact-events"), "Update", "contact",
                         filtering_attributes="emailaddress1")
    register_image(dv, step, 0, "PreImage", "emailaddress1")
    contact_id = created_id(dv.post("contacts", json={"lastname": "Bus",
                                                      "emailaddress1": "old@example.org"}))
    assert dv.patch(f"contacts({contact_id})?tag=member-plugins",
                    json={"emailaddress1": "new@example.org"},
                    headers={"User-Agent": "member-plugins-tests/1.0"}).status_code == 204
    assert sandbox.steps.wait_idle(10)

    got = receive(sandbox, "contact-events")
    assert got.status_code == 201
    assert got.headers["Content-Type"] == "application/json"
    assert b"\\/Date(" in got.content
    properties = json.loads(got.headers["X-Application-Properties"])
    user_id = sandbox.auth.application_user_id
    assert properties[CLAIMS + "EntityLogicalName"] == "contact"
    assert properties[CLAIMS + "RequestName"] == "Update"
    assert properties[CLAIMS + "Organization"] == sandbox.base_url.split("//")[1]
    assert properties[CLAIMS + "InitiatingUserAgent"] == "member-plugins-tests/1.0"
    assert properties[CLAIMS + "User"] == properties[CLAIMS + "InitiatingUser"] == user_id
    assert not any("MessageMaxSizeExceeded" in key for key in properties)

    context = json.loads(got.content)
    assert (context["MessageName"], context["Mode"], context["PrimaryEntityId"]) == (
        "Update", 1, contact_id,
    )
    assert context["UserId"] == context["InitiatingUserId"] == user_id
    user = dv.get(f"systemusers({user_id})?$select=azureactivedirectoryobjectid").json()
    assert context["UserAzureActiveDirectoryObjectId"] == user["azureactivedirectoryobjectid"]
    assert context["InitiatingUserAgent"] == "member-plugins-tests/1.0"
    assert pairs(context["SharedVariables"])["tag"] == "member-plugins"
    pre = pairs(context["PreEntityImages"])["PreImage"]
    assert pairs(pre["Attributes"])["emailaddress1"] == "old@example.org"
    complete(sandbox, "contact-events", got)
    assert sandbox.servicebus.active_count("contact-events") == 0
    assert [j["statuscode"] for j in system_jobs(dv, step)] == [30]


def test_unfiltered_column_does_not_enqueue(sandbox: Sandbox, dv: WebApiSession) -> None:
    register_step(dv, register_queue(dv, "filtered"), "Update", "contact",
                  filtering_attributes="emailaddress1")
    contact_id = created_id(dv.post("contacts", json={"lastname": "Bus"}))
    assert dv.patch(f"contacts({contact_id})", json={"lastname": "Other"}).status_code == 204
    assert sandbox.steps.wait_idle(10)
    assert receive(sandbox, "filtered").status_code == 204


def test_context_over_192_kb_is_trimmed_and_marked(sandbox: Sandbox, dv: WebApiSession) -> None:
    step = register_step(dv, register_queue(dv, "big"), "Create", "mp_registration")
    registration_id = created_id(
        dv.post("mp_registrations", json={"mp_name": "big", "mp_evidence": "y" * 100_000})
    )
    assert sandbox.steps.wait_idle(10)
    got = receive(sandbox, "big")
    assert got.status_code == 201
    properties = json.loads(got.headers["X-Application-Properties"])
    assert [k for k in properties if "MessageMaxSizeExceeded" in k]
    context = json.loads(got.content)
    for member in ("ParentContext", "InputParameters", "PreEntityImages", "PostEntityImages"):
        assert member not in context
    assert context["PrimaryEntityId"] == registration_id
    assert [j["statuscode"] for j in system_jobs(dv, step)] == [30]


def test_context_still_too_big_after_trimming_is_not_sent(
    sandbox: Sandbox, dv: WebApiSession
) -> None:
    step = register_step(dv, register_queue(dv, "huge"), "Create", "contact")
    # The tag shared variable is not among the trimmed members; a URL this long cannot be
    # sent over HTTP, so the write goes to the store with the caller the Web API would build.
    caller = Caller(user_id=sandbox.system_caller.user_id, tag="z" * 200_000)
    with sandbox.store.transaction(caller):
        sandbox.store.insert("contact", {"lastname": "Huge"})
    assert sandbox.steps.wait_idle(10)
    assert receive(sandbox, "huge").status_code == 204
    [job] = system_jobs(dv, step)
    assert job["statuscode"] == 31
    assert "no message was sent" in job["message"]


def test_xml_message_formats_fail_clearly(sandbox: Sandbox, dv: WebApiSession) -> None:
    step = register_step(dv, register_queue(dv, "xml", messageformat=1), "Create", "contact")
    created_id(dv.post("contacts", json={"lastname": "Xml"}))
    assert sandbox.steps.wait_idle(10)
    assert receive(sandbox, "xml").status_code == 204
    [job] = system_jobs(dv, step)
    assert job["statuscode"] == 31
    assert "not supported by the sandbox" in job["message"]


def test_synchronous_service_bus_step_posts_immediately(
    sandbox: Sandbox, dv: WebApiSession
) -> None:
    register_step(dv, register_queue(dv, "sync-events"), "Create", "contact", mode=0, stage=40)
    contact_id = created_id(dv.post("contacts", json={"lastname": "Now"}))
    got = receive(sandbox, "sync-events")
    assert got.status_code == 201
    context = json.loads(got.content)
    assert (context["Mode"], context["IsInTransaction"]) == (0, True)
    assert pairs(context["OutputParameters"]) == {"id": contact_id}

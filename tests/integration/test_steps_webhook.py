"""Webhook steps end to end: registered through the Web API, fired by Web API writes, received
by a loopback webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from steps_registration import (
    register_image,
    register_step,
    register_webhook,
    system_jobs,
)
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sandbox.app import Sandbox
from sandbox.config import SandboxConfig

if TYPE_CHECKING:
    from conftest import WebApiSession

NS = "http://schemas.microsoft.com/xrm/2011/Contracts"
WEBHOOK_KEY, HTTP_HEADER, HTTP_QUERY_STRING = 4, 5, 6


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    args: dict[str, str]
    headers: dict[str, str]
    header_names: list[str]
    body: bytes

    @property
    def context(self) -> dict[str, Any]:
        return json.loads(self.body)


class _RawHeaderNames(WSGIRequestHandler):
    """Keeps the header names as sent (WSGI's environ upper-cases them)."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["test.header_names"] = list(self.headers.keys())
        return environ


@dataclass
class Receiver:
    """A webhook receiver on a loopback port answering with scripted statuses."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.append(
                Received(
                    path=request.path,
                    args=dict(request.args),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    header_names=environ["test.header_names"],
                    body=request.get_data(),
                )
            )
            status = self.statuses.pop(0) if self.statuses else 200
        time.sleep(self.delay)
        return Response("ignored by Dataverse", status=status)(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, hook.app, threaded=True, request_handler=_RawHeaderNames
    )
    hook.url = f"http://127.0.0.1:{server.server_port}/api/dataverse-events"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def attrs(entity: dict[str, Any]) -> dict[str, Any]:
    return {pair["key"]: pair["value"] for pair in entity["Attributes"]}


def pairs(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {pair["key"]: pair["value"] for pair in items}


def created_id(response: Any) -> str:
    assert response.status_code == 204, response.text
    return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def test_async_create_posts_the_context_with_headers_and_webhook_key(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    endpoint = register_webhook(dv, receiver.url, WEBHOOK_KEY, "function-key")
    step = register_step(dv, endpoint, "Create", "contact")
    register_image(dv, step, 1, "PostImage", "firstname,lastname,mp_topics")

    response = dv.post(
        "contacts",
        json={"firstname": "Ada", "lastname": "Lovelace", "mp_topics": "100000000,100000001",
              "birthdate": "1815-12-10"},
        headers={"x-ms-correlation-request-id": "11111111-2222-3333-4444-555555555555"},
    )
    contact_id = created_id(response)
    assert sandbox.steps.wait_idle(10)

    [hit] = receiver.received
    assert hit.path == "/api/dataverse-events"
    assert hit.args == {"code": "function-key"}
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["x-ms-dynamics-entity-name"] == "contact"
    assert hit.headers["x-ms-dynamics-request-name"] == "Create"
    assert hit.headers["x-ms-dynamics-organization"] == sandbox.base_url.split("//")[1]
    assert hit.headers["x-ms-correlation-request-id"] == "11111111-2222-3333-4444-555555555555"
    assert hit.headers["x-request-id"]
    assert "x-ms-dynamics-msg-size-exceeded" not in hit.headers
    dataverse_headers = [n for n in hit.header_names if n.lower().startswith("x-")]
    assert dataverse_headers == [n.lower() for n in dataverse_headers]
    assert b"\\/Date(" in hit.body

    context = hit.context
    assert (context["MessageName"], context["Mode"], context["Stage"]) == ("Create", 1, 40)
    assert context["IsInTransaction"] is False
    assert context["PrimaryEntityId"] == contact_id
    assert context["CorrelationId"] == "11111111-2222-3333-4444-555555555555"
    assert context["OrganizationName"] == sandbox.config.organization_name
    assert context["OwningExtension"]["Id"] == step
    assert pairs(context["OutputParameters"]) == {"id": contact_id}
    target = pairs(context["InputParameters"])["Target"]
    assert target["__type"] == f"Entity:{NS}"
    target_attrs = attrs(target)
    assert target_attrs["firstname"] == "Ada"
    assert target_attrs["birthdate"] == "/Date(-4861728000000)/"
    assert target_attrs["mp_topics"] == [
        {"__type": f"OptionSetValue:{NS}", "Value": 100000000},
        {"__type": f"OptionSetValue:{NS}", "Value": 100000001},
    ]
    assert context["PreEntityImages"] == []
    post = pairs(context["PostEntityImages"])
    assert attrs(post["PostImage"]) == {
        "firstname": "Ada", "lastname": "Lovelace",
        "mp_topics": target_attrs["mp_topics"], "contactid": contact_id,
    }
    assert attrs(post["AsynchronousStepPrimaryName"]) == {
        "fullname": "Ada Lovelace", "contactid": contact_id,
    }
    assert context["ParentContext"]["Stage"] == 30

    [job] = system_jobs(dv, step)
    assert job["statuscode"] == 30


def test_http_header_and_query_string_authentication(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    settings = (
        '<settings><setting name="x-functions-key" value="s3cret"/>'
        '<setting name="x-tenant" value="alumni"/></settings>'
    )
    by_header = register_webhook(dv, receiver.url, HTTP_HEADER, settings)
    by_query = register_webhook(dv, receiver.url + "?fixed=1", HTTP_QUERY_STRING, settings)
    register_step(dv, by_header, "Create", "contact")
    register_step(dv, by_query, "Create", "contact", rank=2)

    created_id(dv.post("contacts", json={"lastname": "Hopper"}))
    assert sandbox.steps.wait_idle(10)

    header_hit, query_hit = receiver.received
    assert header_hit.headers["x-functions-key"] == "s3cret"
    assert header_hit.headers["x-tenant"] == "alumni"
    assert header_hit.args == {}
    assert query_hit.args == {"fixed": "1", "x-functions-key": "s3cret", "x-tenant": "alumni"}
    assert "x-functions-key" not in query_hit.headers


def test_update_respects_filtering_attributes_and_sends_images(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    contact_id = created_id(dv.post("contacts", json={"firstname": "Grace", "lastname": "H",
                                                      "telephone1": "1"}))
    endpoint = register_webhook(dv, receiver.url, WEBHOOK_KEY, "k")
    step = register_step(dv, endpoint, "Update", "contact",
                         filtering_attributes="firstname,lastname")
    register_image(dv, step, 0, "PreImage", "firstname,telephone1")
    register_image(dv, step, 2, "Both")

    assert dv.patch(f"contacts({contact_id})", json={"telephone1": "2"}).status_code == 204
    assert sandbox.steps.wait_idle(10)
    assert receiver.received == []

    assert dv.patch(f"contacts({contact_id})", json={"firstname": "Gracie"}).status_code == 204
    assert sandbox.steps.wait_idle(10)
    [hit] = receiver.received
    context = hit.context
    assert context["MessageName"] == "Update"
    target = attrs(pairs(context["InputParameters"])["Target"])
    assert target["firstname"] == "Gracie"
    assert target["fullname"] == "Gracie H"
    assert target["modifiedon"].startswith("/Date(")
    assert "telephone1" not in target
    parent_target = attrs(pairs(context["ParentContext"]["InputParameters"])["Target"])
    assert parent_target == {"firstname": "Gracie", "contactid": contact_id}
    pre = pairs(context["PreEntityImages"])
    assert attrs(pre["PreImage"]) == {"firstname": "Grace", "telephone1": "2",
                                      "contactid": contact_id}
    assert attrs(pre["Both"])["firstname"] == "Grace"
    post = pairs(context["PostEntityImages"])
    assert attrs(post["Both"])["firstname"] == "Gracie"
    assert list(post) == ["Both", "AsynchronousStepPrimaryName"]


def test_delete_sends_a_reference_target_and_a_pre_image(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    contact_id = created_id(dv.post("contacts", json={"lastname": "Gone"}))
    endpoint = register_webhook(dv, receiver.url, WEBHOOK_KEY, "k")
    step = register_step(dv, endpoint, "Delete", "contact")
    register_image(dv, step, 0, "PreImage", "lastname")

    assert dv.delete(f"contacts({contact_id})").status_code == 204
    assert sandbox.steps.wait_idle(10)
    context = receiver.received[0].context
    target = pairs(context["InputParameters"])["Target"]
    assert target["__type"] == f"EntityReference:{NS}"
    assert (target["LogicalName"], target["Id"]) == ("contact", contact_id)
    assert context["PostEntityImages"] == []
    assert attrs(pairs(context["PreEntityImages"])["PreImage"]) == {
        "lastname": "Gone", "contactid": contact_id,
    }


def test_tag_reaches_shared_variables(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"), "Create", "contact")
    created_id(dv.post("contacts?tag=member-plugins", json={"lastname": "Tagged"}))
    assert sandbox.steps.wait_idle(10)
    shared = pairs(receiver.received[0].context["SharedVariables"])
    assert shared["tag"] == "member-plugins"


def test_disabled_step_does_not_fire(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    step = register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"),
                         "Create", "contact")
    disable = dv.patch(f"sdkmessageprocessingsteps({step})", json={"statecode": 1,
                                                                    "statuscode": 2})
    assert disable.status_code == 204
    created_id(dv.post("contacts", json={"lastname": "Quiet"}))
    assert sandbox.steps.wait_idle(10)
    assert receiver.received == []


def test_one_retry_on_503_then_success(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    step = register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"),
                         "Create", "contact")
    receiver.statuses = [503, 200]
    created_id(dv.post("contacts", json={"lastname": "Retry"}))
    assert sandbox.steps.wait_idle(10)
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    assert [j["statuscode"] for j in system_jobs(dv, step)] == [30]


def test_failures_are_recorded_on_the_system_job_without_more_retries(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    step = register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"),
                         "Create", "contact")
    receiver.statuses = [503, 503, 500]
    created_id(dv.post("contacts", json={"lastname": "Twice"}))
    created_id(dv.post("contacts", json={"lastname": "Once"}))
    assert sandbox.steps.wait_idle(10)
    assert len(receiver.received) == 3
    jobs = system_jobs(dv, step)
    assert [j["statuscode"] for j in jobs] == [31, 31]
    assert sorted(j["message"][-9:] for j in jobs) == ["HTTP 500.", "HTTP 503."]
    assert all(j["friendlymessage"] and j["completedon"] for j in jobs)
    assert all("k" not in j["message"].split() for j in jobs)


def test_async_auto_delete_removes_succeeded_jobs(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    step = register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"),
                         "Create", "contact", asyncautodelete=True)
    created_id(dv.post("contacts", json={"lastname": "Clean"}))
    assert sandbox.steps.wait_idle(10)
    assert len(receiver.received) == 1
    assert system_jobs(dv, step) == []


def test_synchronous_step_runs_in_the_transaction(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    endpoint = register_webhook(dv, receiver.url, WEBHOOK_KEY, "k")
    step = register_step(dv, endpoint, "Create", "contact", mode=0, stage=20)
    contact_id = created_id(dv.post("contacts", json={"lastname": "Sync"}))
    [hit] = receiver.received
    context = hit.context
    assert (context["Mode"], context["Stage"], context["IsInTransaction"]) == (0, 20, True)
    assert context["OutputParameters"] == [] and context["PostEntityImages"] == []
    assert context["PrimaryEntityId"] == contact_id
    assert system_jobs(dv, step) == []


def test_failed_synchronous_step_rolls_the_write_back(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"),
                  "Create", "contact", mode=0, stage=40)
    receiver.statuses = [500]
    before = dv.get("contacts?$select=contactid").json()["value"]

    response = dv.post("contacts", json={"lastname": "Rejected"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x80040265"
    assert dv.get("contacts?$select=contactid").json()["value"] == before


def test_synchronous_timeout_rolls_the_write_back(receiver: Receiver) -> None:
    from conftest import WebApiSession

    with Sandbox(SandboxConfig(webhook_timeout_seconds=0.3)) as sandbox:
        dv = WebApiSession(sandbox)
        register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"),
                      "Create", "contact", mode=0, stage=20)
        receiver.delay = 1.0
        response = dv.post("contacts", json={"lastname": "Slow"})
        assert response.status_code == 400
        assert "did not answer within 0.3 seconds" in response.json()["error"]["message"]
        receiver.delay = 0.0
        assert dv.get("contacts?$select=contactid").json()["value"] == []
        dv.close()


def test_payload_over_256_kb_is_trimmed_and_flagged(
    sandbox: Sandbox, dv: WebApiSession, receiver: Receiver
) -> None:
    step = register_step(dv, register_webhook(dv, receiver.url, WEBHOOK_KEY, "k"),
                         "Create", "mp_registration")
    register_image(dv, step, 1, "PostImage")
    registration_id = created_id(
        dv.post("mp_registrations", json={"mp_name": "big", "mp_evidence": "x" * 100_000})
    )
    assert sandbox.steps.wait_idle(10)
    [hit] = receiver.received
    assert hit.headers["x-ms-dynamics-msg-size-exceeded"]
    context = hit.context
    for member in ("ParentContext", "InputParameters", "PreEntityImages", "PostEntityImages"):
        assert member not in context
    assert context["PrimaryEntityId"] == registration_id
    assert len(hit.body) < 10_000

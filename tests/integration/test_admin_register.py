"""``member-plugins register | status | unregister`` against the HTTPS sandbox, in-process.

The commands sign in through msal like against Dataverse; a second run must send no write,
unregister must remove exactly what register created, and every failure must be one line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sync_harness import add_event_registration_table
from werkzeug.wrappers import Request, Response

from plugins.admin import connection
from plugins.admin.catalog import ImageSpec, StepSpec, product_steps
from plugins.admin.commands import FUNCTION_KEY_VARIABLE, SAS_KEY_VARIABLE
from plugins.admin.endpoint import QueueDelivery, WebhookDelivery
from plugins.admin.status import status
from plugins.admin.steps import (
    RegistrationError,
    RegistrationOptions,
    apply,
    plan_registration,
    register,
    unregister,
)
from plugins.cli import main
from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.auth import MsalTokenProvider
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import BatchError
from sandbox.app import Sandbox
from sandbox.errors import ODataError
from sandbox.http import error_response
from sandbox.product_settings import dataverse_settings, dataverse_values
from sandbox.webapi.context import API_PATH
from sandbox.wsgiserver import ServerThread

WEBHOOK_URL = "https://contoso-members.azurewebsites.net/api/registration/events"
REGISTER = ["register", "--webhook-url", WEBHOOK_URL, "--function-key", "key-1"]
WRITES = ("POST", "PATCH", "PUT", "DELETE")
TABLES = {
    "serviceendpoints": "serviceendpointid",
    "sdkmessageprocessingsteps": "sdkmessageprocessingstepid",
    "sdkmessageprocessingstepimages": "sdkmessageprocessingstepimageid",
}


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Admin:
    """The sandbox, the environment the CLI reads, and a client for checking results."""

    sandbox: Sandbox
    client: DataverseClient
    capsys: pytest.CaptureFixture[str]

    def run(self, *argv: str) -> Run:
        self.capsys.readouterr()
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def writes(self) -> list[str]:
        return [
            f"{e.method} {e.path}" for e in self.sandbox.request_log.entries()
            if e.method in WRITES and e.path.startswith(API_PATH)
        ]

    def rows(self) -> dict[str, set[str]]:
        """Every endpoint, step and image id in the environment."""
        return {
            entity_set: {row[key] for row in self.client.query(entity_set, select=[key])}
            for entity_set, key in TABLES.items()
        }


def settings_values(sandbox: Sandbox) -> dict[str, str]:
    """The environment the CLI reads: the sandbox through msal, with quick retries."""
    return dataverse_values(sandbox, retry_backoff_seconds="0.02")


@pytest.fixture
def quiet_logging() -> Iterator[None]:
    """The commands configure logging for the process; put the root logger back after."""
    root = logging.getLogger()
    saved = root.level, [(h, h.filters[:], h.formatter) for h in root.handlers]
    try:
        yield
    finally:
        root.setLevel(saved[0])
        for handler, filters, formatter in saved[1]:
            handler.filters[:] = filters
            handler.setFormatter(formatter)


@pytest.fixture
def admin(
    https_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    quiet_logging: None,
) -> Iterator[Admin]:
    values = settings_values(https_sandbox)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in (FUNCTION_KEY_VARIABLE, SAS_KEY_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    settings = dataverse_settings(https_sandbox)
    client = DataverseClient(settings, token_provider=MsalTokenProvider(settings))
    try:
        yield Admin(https_sandbox, client, capsys)
    finally:
        client.close()


def seed_foreign_rows(client: DataverseClient) -> dict[str, str]:
    """Another team's webhook and step, one named like the product's but not marked."""
    endpoint = client.create(
        "serviceendpoints",
        {"name": "Contoso: ERP webhook", "url": "https://erp.contoso.com/hook", "contract": 8,
         "authtype": 4, "authvalue": "erp-key"},
    ).id
    message = next(client.query("sdkmessages", filter=odata.eq("name", "Create")))["sdkmessageid"]
    message_filter = next(
        client.query(
            "sdkmessagefilters",
            filter=odata.eq("primaryobjecttypecode", "mp_registration")
            & odata.eq("sdkmessageid/name", "Create"),
        )
    )["sdkmessagefilterid"]
    step = client.create(
        "sdkmessageprocessingsteps",
        {
            "name": "member-plugins: registration created",
            "description": "ERP copy of the registration feed",
            "stage": 40, "mode": 1, "rank": 1, "supporteddeployment": 0,
            "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint})",
            "sdkmessageid@odata.bind": f"/sdkmessages({message})",
            "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({message_filter})",
        },
    ).id
    assert endpoint and step
    return {"endpoint": endpoint, "step": step}


# ----------------------------------------------------------------- the cycle


def test_register_twice_status_and_unregister_twice(admin: Admin) -> None:
    foreign = seed_foreign_rows(admin.client)
    before = admin.rows()

    first = admin.run(*REGISTER)
    assert first.code == 0, first.err
    assert first.err == ""
    assert "registered: 4 created (one change set)" in first.out
    created = admin.rows()
    assert {k: len(created[k] - before[k]) for k in TABLES} == {
        "serviceendpoints": 1, "sdkmessageprocessingsteps": 2, "sdkmessageprocessingstepimages": 1,
    }

    admin.sandbox.request_log.clear()
    second = admin.run(*REGISTER)
    assert second.code == 0
    assert "nothing to change: 4 unchanged" in second.out
    assert admin.writes() == []

    report = admin.run("status")
    assert report.code == 0
    assert "  enabled   member-plugins: registration created (Create of mp_registration" in (
        report.out
    )
    assert "images PreImage" in report.out
    assert "complete: 2 of 2 steps registered and enabled" in report.out
    assert foreign["step"] not in report.out and "Contoso" not in report.out

    removed = admin.run("unregister")
    assert removed.code == 0, removed.err
    assert "unregistered: 4 deleted (one change set)" in removed.out
    assert admin.rows() == before

    admin.sandbox.request_log.clear()
    again = admin.run("unregister")
    assert "nothing to change: nothing is registered by member-plugins" in again.out
    assert admin.writes() == []


def test_follow_ups_add_their_steps_on_the_same_endpoint(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_event_registration_table(admin.sandbox)
    trigger = {
        "name": "attended", "table": "mp_eventregistration",
        "entity_set": "mp_eventregistrations", "column": "mp_attended", "value": True,
        "person": "mp_personid",
    }
    monkeypatch.setenv("SYNC__FOLLOW_UPS__ENABLED", "true")
    monkeypatch.setenv("SYNC__FOLLOW_UPS__TRIGGERS", json.dumps([trigger]))
    before = admin.rows()

    first = admin.run(*REGISTER)
    assert first.code == 0, first.err
    assert "registered: 9 created (one change set)" in first.out
    created = admin.rows()
    assert {k: len(created[k] - before[k]) for k in TABLES} == {
        "serviceendpoints": 1, "sdkmessageprocessingsteps": 6, "sdkmessageprocessingstepimages": 2,
    }
    steps = list(admin.client.query("sdkmessageprocessingsteps"))
    assert len({s["_eventhandler_value"] for s in steps}) == 1

    admin.sandbox.request_log.clear()
    assert "nothing to change: 9 unchanged" in admin.run(*REGISTER).out
    assert admin.writes() == []
    report = admin.run("status")
    assert "member-plugins: membership renewed (Update of mp_membership, PostOperation, async, " \
        "on mp_enddate)" in report.out
    assert "member-plugins: follow-up attended changed (Update of mp_eventregistration" in (
        report.out
    )
    assert "complete: 6 of 6 steps registered and enabled" in report.out

    monkeypatch.setenv("SYNC__FOLLOW_UPS__ENABLED", "false")
    turned_off = admin.run(*REGISTER)
    assert "registered: 5 deleted, 4 unchanged (one change set)" in turned_off.out


def test_dry_runs_write_nothing(admin: Admin) -> None:
    admin.sandbox.request_log.clear()
    planned = admin.run(*REGISTER, "--dry-run")
    assert planned.code == 0
    assert "  create     endpoint  member-plugins: webhook" in planned.out
    assert "dry run: 4 to create; nothing was written" in planned.out
    assert admin.writes() == []

    assert admin.run(*REGISTER).code == 0
    admin.sandbox.request_log.clear()
    planned = admin.run("unregister", "--dry-run")
    assert "dry run: 4 to delete; nothing was written" in planned.out
    assert admin.writes() == []


def test_queue_delivery_then_back_to_a_webhook(admin: Admin) -> None:
    queue = [
        "register", "--servicebus-namespace", "sb://contoso.servicebus.windows.net/",
        "--queue", "registration-events", "--sas-key-name", "dataverse-send", "--sas-key", "c2Fz",
    ]
    assert admin.run(*queue).code == 0
    [endpoint] = admin.client.query("serviceendpoints")
    assert {k: endpoint[k] for k in (
        "contract", "namespaceaddress", "solutionnamespace", "path", "authtype", "saskeyname",
        "messageformat", "userclaim",
    )} == {
        "contract": 6, "namespaceaddress": "sb://contoso.servicebus.windows.net/",
        "solutionnamespace": "contoso",
        "path": "registration-events", "authtype": 2, "saskeyname": "dataverse-send",
        "messageformat": 2, "userclaim": 1,
    }
    admin.sandbox.request_log.clear()
    assert "nothing to change" in admin.run(*queue).out
    assert admin.writes() == []

    switched = admin.run(*REGISTER)
    assert "registered: 1 created, 2 updated, 1 deleted, 1 unchanged" in switched.out
    [webhook] = admin.client.query("serviceendpoints")
    assert (webhook["contract"], webhook["url"]) == (8, WEBHOOK_URL)
    steps = list(admin.client.query("sdkmessageprocessingsteps"))
    assert {s["_eventhandler_value"] for s in steps} == {webhook["serviceendpointid"]}


def test_a_new_function_key_updates_only_the_endpoint(admin: Admin) -> None:
    assert admin.run(*REGISTER).code == 0
    admin.sandbox.request_log.clear()
    rotated = admin.run(*REGISTER[:-1], "key-2", "--webhook-auth", "httpheader")
    assert "[changes: authtype, description, authvalue]" in rotated.out
    assert "key-2" not in rotated.out and "key-1" not in rotated.out
    assert admin.writes() == [f"POST {API_PATH}$batch"]


def test_status_shows_a_disabled_step_and_register_leaves_it(admin: Admin) -> None:
    assert admin.run(*REGISTER).code == 0
    step = next(
        s for s in admin.client.query("sdkmessageprocessingsteps")
        if s["name"] == "member-plugins: registration created"
    )
    admin.client.update(
        "sdkmessageprocessingsteps", step["sdkmessageprocessingstepid"],
        {"statecode": 1, "statuscode": 2},
    )
    report = admin.run("status")
    assert "  disabled  member-plugins: registration created" in report.out
    assert "incomplete: 1 of 2 steps registered and enabled" in report.out
    again = admin.run(*REGISTER)
    assert "disabled in Dataverse; left disabled" in again.out
    assert "nothing to change" in again.out


def test_settings_from_a_local_settings_file(
    admin: Admin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = settings_values(admin.sandbox)
    for name in values:
        monkeypatch.delenv(name)
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}), encoding="utf-8")
    report = admin.run("status", "--settings", str(path))
    assert report.code == 0, report.err
    assert f"registration in {admin.sandbox.base_url}" in report.out


# -------------------------------------------------------- the functions API


def test_functions_for_the_demo(admin: Admin) -> None:
    options = RegistrationOptions(WebhookDelivery(WEBHOOK_URL, "key-1"))
    plan = register(admin.client, options)
    assert plan.counts()["create"] == 4
    assert plan_registration(admin.client, options).is_noop
    assert apply(admin.client, plan_registration(admin.client, options)) == 0
    assert status(admin.client).complete
    assert len(unregister(admin.client).writes) == 4
    assert not status(admin.client).complete


def test_a_failing_change_set_leaves_nothing_registered(admin: Admin) -> None:
    good = product_steps(SchemaMap())[0]
    bad = StepSpec(
        "too long an alias", "Update", "mp_registration", "Fails on its image.",
        images=(ImageSpec("x" * 300, 0, ("mp_status",)),),
    )
    before = admin.rows()
    options = RegistrationOptions(WebhookDelivery(WEBHOOK_URL, "k"), steps=(good, bad))
    with pytest.raises(BatchError):
        register(admin.client, options)
    assert admin.rows() == before


def test_a_table_without_the_message_is_refused_before_writing(admin: Admin) -> None:
    missing = StepSpec("nowhere", "Create", "new_unprovisioned", "Missing table.")
    options = RegistrationOptions(QueueDelivery("sb://ns/", "q", "n", "k"), steps=(missing,))
    admin.sandbox.request_log.clear()
    with pytest.raises(RegistrationError, match="no Create message for table 'new_unprovisioned'"):
        plan_registration(admin.client, options)
    assert admin.writes() == []


# --------------------------------------------------------------- bad input


def one_error_line(run: Run) -> str:
    assert run.code != 0
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_wrong_secret(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVERSE__CLIENT_SECRET", "not-the-secret")
    line = one_error_line(admin.run(*REGISTER))
    assert "cannot sign in to Dataverse (invalid_client: AADSTS7000215" in line
    assert "DATAVERSE__CLIENT_SECRET" in line
    assert "not-the-secret" not in line
    assert admin.writes() == []


def test_missing_privilege(admin: Admin) -> None:
    def refuse_writes(request: Request, nxt: Any) -> Response:
        if request.method == "POST" and request.path.endswith("$batch"):
            return error_response(ODataError(
                403, "0x80040220",
                "Principal user (Id=6f1e..., type=8) is missing prvCreateSdkMessageProcessingStep "
                "privilege on OTC=4608 for entity 'sdkmessageprocessingstep'.",
            ))
        return nxt(request)

    admin.sandbox.add_api_middleware(refuse_writes)
    before = admin.rows()
    run = admin.run(*REGISTER)
    line = one_error_line(run)
    assert run.code == 1
    assert "the application user lacks a privilege (HTTP 403 0x80040220" in line
    assert "security role" in line
    assert admin.rows() == before


def test_url_the_tenant_does_not_know(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVERSE__URL", "https://contoso.sharepoint.com")
    line = one_error_line(admin.run("status"))
    assert "DATAVERSE__URL https://contoso.sharepoint.com is not a Dataverse environment" in line
    assert "AADSTS70011" in line


class StaticTokens:
    """A token that was acquired fine: these cases are about the environment URL."""

    def token(self, *, force_refresh: bool = False) -> str:
        return "token"


@pytest.fixture
def website() -> Iterator[str]:
    """A web server that is not Dataverse: 404 HTML for the Web API, a text page at /text."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith("/text/"):
            page = Response("<html>welcome</html>", content_type="text/html")
        else:
            page = Response("<html>not found</html>", status=404, content_type="text/html")
        return page(environ, start_response)

    server = ServerThread(app, name="not-dataverse").start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("suffix", "finding"),
    [("", "it has no Dataverse Web API"), ("/text", "it does not answer JSON")],
)
def test_url_that_is_not_dataverse(
    admin: Admin, monkeypatch: pytest.MonkeyPatch, website: str, suffix: str, finding: str
) -> None:
    monkeypatch.setattr(connection, "token_provider_for", lambda settings: StaticTokens())
    monkeypatch.setenv("DATAVERSE__URL", website + suffix)
    line = one_error_line(admin.run(*REGISTER))
    assert f"DATAVERSE__URL {website + suffix} is not a Dataverse environment ({finding})" in line


def test_url_that_refuses_connections(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = ServerThread(lambda environ, start_response: [], name="closed").start()
    url = f"http://127.0.0.1:{closed.port}"
    closed.stop()
    monkeypatch.setattr(connection, "token_provider_for", lambda settings: StaticTokens())
    monkeypatch.setenv("DATAVERSE__URL", url)
    line = one_error_line(admin.run("unregister"))
    assert f"cannot reach Dataverse at {url} (connection refused)" in line


def test_register_needs_one_delivery(admin: Admin) -> None:
    run = admin.run("register")
    assert run.code == 2
    assert "register needs either --webhook-url" in one_error_line(run)
    both = admin.run(*REGISTER, "--servicebus-namespace", "sb://x/")
    assert both.code == 2
    webhook_without_key = admin.run("register", "--webhook-url", WEBHOOK_URL)
    assert "needs the function key" in one_error_line(webhook_without_key)
    assert webhook_without_key.code == 2
    assert admin.writes() == []

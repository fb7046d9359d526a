"""``member-plugins provision`` against a sandbox that starts as a fresh environment.

The sandbox serves only the standard tables (``SandboxConfig(provisioned=False)``); the
command creates the product's choices, tables, columns, lookups and keys through the
metadata Web API, and the sandbox makes them real tables at once. A second run must send no
write; a conflict must stop the run before its first write; a run that fails part-way must
be finished by the next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sync_harness import SandboxTokens
from werkzeug.wrappers import Request, Response

from plugins.admin import connection
from plugins.admin.metadata import label
from plugins.cli import main
from plugins.core.schema import Schema, product_schema
from plugins.core.settings import DataverseSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import AuthenticationError
from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.errors import ODataError
from sandbox.http import error_response
from sandbox.webapi.context import API_PATH

WRITES = ("POST", "PATCH", "PUT", "DELETE")
Handler = Callable[[Request], Response]


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Environment:
    sandbox: Sandbox
    client: DataverseClient
    capsys: pytest.CaptureFixture[str]

    def run(self, *argv: str) -> Run:
        self.sandbox.request_log.clear()
        self.capsys.readouterr()
        code = main(["provision", *argv])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def writes(self) -> list[str]:
        return [
            f"{e.method} {e.path[len(API_PATH):]}" for e in self.sandbox.request_log.entries()
            if e.method in WRITES and e.path.startswith(API_PATH)
        ]

    def intercept(self, method: str, path_end: str, error: ODataError) -> None:
        """Answer requests ``method ...<path_end>`` with ``error`` (until the test ends)."""

        def middleware(request: Request, nxt: Handler) -> Response:
            if request.method == method and request.path.endswith(path_end):
                return error_response(error)
            return nxt(request)

        self.sandbox.add_api_middleware(middleware)


@pytest.fixture
def fresh(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Environment]:
    sandbox = Sandbox(SandboxConfig(provisioned=False)).start()
    monkeypatch.setattr(connection, "token_provider_for", lambda settings: SandboxTokens(sandbox))
    monkeypatch.setenv("DATAVERSE__URL", sandbox.base_url)
    monkeypatch.setenv("DATAVERSE__RETRY_BACKOFF_SECONDS", "0.01")
    for name in ("SCHEMA_MAP", "SCHEMA_MAP__REGISTRATION__TABLE"):
        monkeypatch.delenv(name, raising=False)
    client = DataverseClient(
        DataverseSettings(url=sandbox.base_url), token_provider=SandboxTokens(sandbox)
    )
    try:
        yield Environment(sandbox, client, capsys)
    finally:
        client.close()
        sandbox.stop()


def product_part(schema: Schema) -> dict[str, Any]:
    """What provisioning must make true: per product table, its columns (type, choice,
    lookup targets), keys and the options of the choices it uses."""
    product = product_schema()
    found: dict[str, Any] = {}
    for wanted in product.tables:
        table = schema.table(wanted.logical_name)
        columns = {}
        for name in wanted.columns:
            column = table.columns[name]
            targets = {
                target: (link.nav, link.relationship, link.cascade_delete)
                for target, link in (column.targets or {}).items()
                if target in (wanted.columns[name].targets or {})
            }
            options = schema.choices[column.choices].options if column.choices else None
            kind = column.type
            columns[name] = (kind, options if kind in ("choice", "multichoice") else None, targets)
        keys = {key.name: key.columns for key in table.keys}
        found[wanted.logical_name] = (table.entity_set, columns, keys)
    return found


def test_provision_creates_everything_then_a_second_run_changes_nothing(
    fresh: Environment,
) -> None:
    assert "mp_registration" not in {t.logical_name for t in fresh.sandbox.schema.tables}
    first = fresh.run()
    assert (first.code, first.err) == (0, "")
    assert "create  table         mp_registration (primary name mp_name, activities enabled)" in (
        first.out
    )
    assert "not in a transaction" in first.out and "provisioned: " in first.out
    writes = fresh.writes()
    assert writes and all(w.startswith("POST ") for w in writes)
    summary = first.out.split("provisioned: ")[1]
    created = int(summary.split(" definitions created")[0])
    applied = int(summary.split("; ")[1].split(" workspace steps applied")[0])
    assert len(writes) == created + applied
    assert product_part(fresh.sandbox.schema) == product_part(product_schema())

    second = fresh.run()
    assert (second.code, second.err) == (0, "")
    assert "nothing to change: all " in second.out
    assert fresh.writes() == []


def test_dry_run_prints_the_plan_and_writes_nothing(fresh: Environment) -> None:
    run = fresh.run("--dry-run")
    assert run.code == 0
    assert "create  choice        mp_registrationstatus (7 options)" in run.out
    assert "create  column        contact.mp_nationalid (string, 20 characters)" in run.out
    assert "create  relationship  mp_contact_mp_registration_PersonId" in run.out
    assert "create  key           contact.mp_contact_nationalid (mp_nationalid)" in run.out
    assert "nothing was written" in run.out
    assert fresh.writes() == []


def test_provisioned_environment_serves_rows_and_takes_the_steps(fresh: Environment) -> None:
    assert fresh.run("--solution", "memberplugins").code == 0
    client = fresh.client
    client.upsert(
        "contacts", {"mp_nationalid": "19900101-1234"},
        {"firstname": "Anna", "mp_topics": "100000000,100000002", "mp_deceased": False},
        mode=UpsertMode.CREATE_ONLY,
    )
    found = client.get("contacts", {"mp_nationalid": "19900101-1234"}, select=["mp_topics"])
    assert found is not None and found["mp_topics"] == "100000000,100000002"
    contact = found["contactid"]
    registration = client.create(
        "mp_registrations",
        {"mp_name": "R-1", "mp_status": 100000000, "mp_evidence": "x" * 5000,
         "mp_PersonId@odata.bind": f"/contacts({contact})"},
        return_representation=True,
    )
    assert registration.record is not None
    assert registration.record["_mp_personid_value"] == contact
    assert registration.record["mp_status"] == 100000000
    regarding = "regardingobjectid_mp_registration_task@odata.bind"
    task = client.create(
        "tasks",
        {"subject": "Review",
         regarding: f"/mp_registrations({registration.record['mp_registrationid']})"},
    )
    assert task.id
    entity = client.read_metadata(
        "EntityDefinitions(LogicalName='mp_registration')",
        select=("LogicalName", "EntitySetName"),
    )
    assert entity["EntitySetName"] == "mp_registrations"
    filters = client.query(
        "sdkmessagefilters", select=["sdkmessagefilterid"],
        filter=odata.eq("primaryobjecttypecode", "mp_registration"),
    )
    assert list(filters), "a new table gets its SDK message filters, as in Dataverse"
    fresh.capsys.readouterr()
    register = ["register", "--webhook-url", "https://contoso.azurewebsites.net/api/x",
                "--function-key", "key-1"]
    assert main(register) == 0, fresh.capsys.readouterr().err
    fresh.capsys.readouterr()
    assert main(["status"]) == 0 and "complete:" in fresh.capsys.readouterr().out


def test_maps_onto_the_organisations_own_registration_table(
    fresh: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = fresh.client
    client.create_metadata("EntityDefinitions", {
        "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata",
        "SchemaName": "new_AlumniRegistration", "DisplayName": label("Alumni registration"),
        "OwnershipType": "UserOwned", "HasActivities": True,
        "Attributes": [{"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
                        "SchemaName": "new_Name", "IsPrimaryName": True, "MaxLength": 200}],
    })
    client.create_metadata("EntityDefinitions(LogicalName='new_alumniregistration')/Attributes", {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "new_Email", "MaxLength": 200,
    })
    for name, value in {
        "TABLE": "new_alumniregistration", "ENTITY_SET": "new_alumniregistrations",
        "ID": "new_alumniregistrationid", "NAME": "new_name", "EMAIL": "new_email",
    }.items():
        monkeypatch.setenv(f"SCHEMA_MAP__REGISTRATION__{name}", value)
    monkeypatch.setenv(
        "SCHEMA_MAP__TASK__REGARDING_REGISTRATION_NAV",
        "regardingobjectid_new_alumniregistration_task",
    )

    run = fresh.run()
    assert (run.code, run.err) == (0, "")
    assert "create  table         mp_registration" not in run.out
    assert "create  column        new_alumniregistration.mp_status" in run.out
    assert "new_alumniregistration.new_email" not in run.out
    table = fresh.sandbox.schema.table("new_alumniregistration")
    assert table.columns["new_email"].max_length == 200
    assert table.columns["mp_personid"].targets is not None
    assert "mp_registration" not in {t.logical_name for t in fresh.sandbox.schema.tables}
    assert fresh.run().out.count("nothing to change") == 1


def test_a_conflict_stops_the_run_before_any_write(fresh: Environment) -> None:
    fresh.client.create_metadata("EntityDefinitions(LogicalName='contact')/Attributes", {
        "@odata.type": "Microsoft.Dynamics.CRM.IntegerAttributeMetadata",
        "SchemaName": "mp_NationalId",
    })
    run = fresh.run()
    assert run.code == 1
    assert (
        "conflict  column contact.mp_nationalid is IntegerType, the product needs string"
        in run.out
    )
    assert run.err.startswith("error: 1 definition(s) in the way") and run.err.count("\n") == 1
    assert "nothing was written" in run.err
    assert fresh.writes() == []


def test_a_run_that_fails_part_way_is_finished_by_the_next(fresh: Environment) -> None:
    fresh.intercept("POST", "RelationshipDefinitions", ODataError(
        400, "0x80044331", "A validation error occurred."))
    failed = fresh.run()
    assert failed.code == 1 and failed.err.count("\n") == 1
    assert "error: creating relationship mp_contact_mp_registration_PersonId failed after" in (
        failed.err
    )
    assert "HTTP 400 0x80044331" in failed.err and "run it again" in failed.err
    assert "mp_registration" in {t.logical_name for t in fresh.sandbox.schema.tables}

    fresh.sandbox._api_middleware.pop()
    finished = fresh.run()
    assert finished.code == 0
    assert "create  table" not in finished.out and "create  relationship" in finished.out
    assert fresh.run().out.startswith("provisioning plan") and fresh.writes() == []
    assert product_part(fresh.sandbox.schema) == product_part(product_schema())


def test_missing_customization_privilege_is_one_line(fresh: Environment) -> None:
    fresh.intercept("POST", "GlobalOptionSetDefinitions", ODataError(
        403, "0x80040220", "Principal user is missing prvCreateEntity privilege."))
    run = fresh.run()
    assert run.code == 1 and run.err.count("\n") == 1
    assert "may not customize this environment (HTTP 403 0x80040220" in run.err
    assert "System Customizer" in run.err


def test_sign_in_failure_is_one_line(
    fresh: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refused:
        def token(self, *, force_refresh: bool = False) -> str:
            raise AuthenticationError(
                "invalid_client", "AADSTS7000215: Invalid client secret provided. Trace ID: 1"
            )

    monkeypatch.setattr(connection, "token_provider_for", lambda settings: Refused())
    run = fresh.run()
    assert run.code == 1 and run.err.count("\n") == 1
    assert "cannot sign in to Dataverse (invalid_client: AADSTS7000215" in run.err
    assert fresh.writes() == []


def test_sandbox_metadata_writes_refuse_what_dataverse_refuses(fresh: Environment) -> None:
    client = fresh.client
    client.create_metadata("GlobalOptionSetDefinitions", {
        "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata", "Name": "new_colour",
        "Options": [{"Value": None, "Label": label(text)} for text in ("Red", "Blue")],
    })
    assert fresh.sandbox.schema.choices["new_colour"].options == {
        100000000: "Red", 100000001: "Blue"
    }
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("GlobalOptionSetDefinitions", {"@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
         "Name": "new_colour", "Options": [{"Value": 1, "Label": label("x")}]}, 400,
         "The schema name new_colour for type OptionSet is not unique"),
        ("EntityDefinitions(LogicalName='contact')/Attributes",
         {"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": "Age"},
         400, "must start with a customization prefix"),
        ("EntityDefinitions(LogicalName='contact')/Attributes",
         {"@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
          "SchemaName": "new_Owner"}, 400, "POST RelationshipDefinitions"),
        ("EntityDefinitions(LogicalName='nope')/Attributes",
         {"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
          "SchemaName": "new_X"}, 404, "Could not find an entity with the name nope"),
        ("EntityDefinitions", {"SchemaName": "new_Thing", "Attributes": []}, 400,
         "exactly the primary name attribute"),
        ("RelationshipDefinitions", {"@odata.type":
         "Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata", "SchemaName": "new_a_b"}, 400,
         "OneToManyRelationshipMetadata only"),
    ]
    headers = {"Authorization": f"Bearer {fresh.sandbox.auth.issue_token()}",
               "Content-Type": "application/json"}
    for path, body, status, message in cases:
        response = requests.post(f"{fresh.sandbox.base_url}{API_PATH}{path}",
                                 data=json.dumps(body), headers=headers, timeout=10)
        assert response.status_code == status, (path, response.text)
        assert message in response.json()["error"]["message"], response.text
    put = requests.put(
        f"{fresh.sandbox.base_url}{API_PATH}EntityDefinitions(LogicalName='contact')",
        data="{}", headers=headers, timeout=10,
    )
    assert put.status_code == 405


"""The office's workspace, provisioned into a fresh environment (the sandbox, over HTTP):
one solution holds every component, once; a second run changes nothing; the views' FetchXml,
evaluated by the sandbox, returns exactly the registrations the office must see.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests
from test_provision import Environment, fresh  # noqa: F401  (the fixture)

from plugins.admin.workspace.components import fixed_id
from plugins.admin.workspace.formxml import form_id
from plugins.admin.workspace.roles import product_roles
from plugins.admin.workspace.views import view_id
from plugins.cli import main
from plugins.core.schema import product_schema
from plugins.core.schema_map import SchemaMap
from plugins.core.settings import RegistrationSettings
from plugins.registration.service import RegistrationService
from sandbox.webapi.context import API_PATH

RECEIVED, APPROVED, NOT_APPROVED, DENIED, UNREGISTERED = (
    100000000, 100000002, 100000003, 100000005, 100000006
)
SCHEMA = SchemaMap()
TASK_OWNER = SCHEMA.model_copy(
    update={"task": SCHEMA.task.model_copy(update={"owner_nav": "owningteam"})}
)


def get(env: Environment, resource: str) -> requests.Response:
    """A plain Web API GET, as any client sends it."""
    return requests.get(
        f"{env.sandbox.base_url}{API_PATH}{resource}",
        headers={"Authorization": f"Bearer {env.sandbox.auth.issue_token()}",
                 "Accept": "application/json"},
        timeout=10,
    )


def rows(env: Environment, resource: str) -> list[dict[str, Any]]:
    response = get(env, resource)
    assert response.status_code == 200, response.text
    return response.json()["value"]


def view(env: Environment, key: str) -> list[str]:
    """The first names of the registrations a view returns, in its order."""
    return [r["mp_firstname"] for r in rows(env, f"mp_registrations?savedQuery={view_id(key)}")]


def test_one_solution_holds_every_component_once(fresh: Environment) -> None:  # noqa: F811
    first = fresh.run()
    assert (first.code, first.err) == (0, "")
    [publisher] = rows(fresh, "publishers?$select=uniquename,customizationprefix,"
                              "customizationoptionvalueprefix")
    assert (publisher["customizationprefix"], publisher["customizationoptionvalueprefix"]) == (
        "mp", 10000
    )
    [solution] = rows(fresh, "solutions?$select=solutionid,uniquename,_publisherid_value")
    assert solution["uniquename"] == "MemberPlugins"
    components = rows(fresh, "solutioncomponents?$select=objectid,componenttype,_solutionid_value")
    assert {c["_solutionid_value"] for c in components} == {solution["solutionid"]}
    types = Counter(c["componenttype"] for c in components)
    custom_tables = sum(1 for table in product_schema().tables if not table.standard)
    assert (types[1], types[60], types[26], types[62], types[80], types[20]) == (
        custom_tables, 2, 4, 1, 1, 2
    )
    ids = {c["objectid"] for c in components}
    assert {form_id("form.registration"), form_id("form.contact"), fixed_id("app"),
            fixed_id("sitemap"), fixed_id("role.office"), fixed_id("role.integration"),
            *(view_id(k) for k in ("view.review", "view.decided", "view.stuck",
                                   "view.unregistered"))} <= ids
    assert len(ids) == len(components)
    [team] = rows(fresh, "teams?$select=teamid,name&$filter=name eq 'Alumni office'")
    assert [r["roleid"] for r in rows(fresh, f"teams({team['teamid']})/teamroles_association"
                                             "?$select=roleid")] == [fixed_id("role.office")]

    integration, office = product_roles(SCHEMA)
    for role, spec in ((fixed_id("role.integration"), integration),
                       (fixed_id("role.office"), office)):
        held = fresh.client.call_function("RetrieveRolePrivilegesRole",
                                          {"RoleId": uuid.UUID(role)})["RolePrivileges"]
        assert sorted(p["PrivilegeName"] for p in held) == list(spec.privileges())
        assert {p["Depth"] for p in held} == {"Global"}

    second = fresh.run()
    assert (second.code, second.err) == (0, "")
    assert "nothing to change" in second.out
    assert fresh.writes() == []


def test_dry_run_lists_every_component_and_writes_nothing(
    fresh: Environment,  # noqa: F811
) -> None:
    run = fresh.run("--dry-run")
    assert run.code == 0
    for line in (
        "create          publisher  memberplugins",
        "create          solution   MemberPlugins",
        "create          team       Alumni office",
        "create          form       Registration (alumni office)",
        "create          form       Alumnus (alumni office)",
        "create          view       Registrations to review",
        "create          view       Decided today",
        "create          view       Stuck in Received for more than an hour",
        "create          view       Unregistered",
        "create          site map   mp_alumnioffice",
        "create          app        Alumni office",
        "create          role       Member plugins integration",
        "create          role       Alumni office",
        "add privileges  role       Alumni office (16 privileges)",
        "publish         app        Alumni office",
    ):
        assert line in run.out
    assert fresh.writes() == []


def test_the_app_is_valid_and_published(fresh: Environment) -> None:  # noqa: F811
    assert fresh.run().code == 0
    app = fixed_id("app")
    answer = fresh.client.call_function("ValidateApp", {"AppModuleId": uuid.UUID(app)})
    assert answer["AppValidationResponse"] == {"ValidationSuccess": True,
                                               "ValidationIssueList": []}
    [row] = rows(fresh, f"appmodules?$select=publishedon,uniquename&$filter=appmoduleid eq {app}")
    assert row["publishedon"] and row["uniquename"] == "mp_AlumniOffice"


def test_views_return_exactly_the_right_registrations(fresh: Environment) -> None:  # noqa: F811
    assert fresh.run().code == 0
    now = datetime.now(UTC)
    made = {
        "Anna": (NOT_APPROVED, now - timedelta(hours=3), None),
        "Bo": (NOT_APPROVED, now - timedelta(hours=2), None),
        "Cecilia": (APPROVED, now - timedelta(hours=5), now),
        "David": (DENIED, now - timedelta(days=2), now - timedelta(days=1)),
        "Eva": (RECEIVED, now - timedelta(hours=2), None),
        "Filip": (RECEIVED, now - timedelta(minutes=5), None),
        "Greta": (None, now - timedelta(minutes=90), None),
        "Hugo": (UNREGISTERED, now - timedelta(days=3), now - timedelta(hours=25)),
        "Ines": (UNREGISTERED, now - timedelta(days=4), now - timedelta(days=2)),
    }
    for name, (status, created, processed) in made.items():
        values: dict[str, Any] = {"mp_firstname": name, "mp_lastname": "Test"}
        if status is not None:
            values["mp_status"] = status
        if processed is not None:
            values["mp_processedon"] = processed.strftime("%Y-%m-%dT%H:%M:%SZ")
        registration = fresh.client.create("mp_registrations", values)
        # createdon is the platform's; the data set needs registrations of the past.
        with fresh.sandbox.store.transaction(fresh.sandbox.system_caller):
            fresh.sandbox.store.update("mp_registration", str(registration.id),
                                       {"createdon": created.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert view(fresh, "view.review") == ["Anna", "Bo"]
    assert view(fresh, "view.decided") == ["Cecilia"]
    assert view(fresh, "view.stuck") == ["Eva", "Greta"]
    assert view(fresh, "view.unregistered") == ["Hugo", "Ines"]


def test_an_invalid_registration_shows_in_registrations_to_review_with_a_task(
    fresh: Environment,  # noqa: F811
) -> None:
    assert fresh.run().code == 0
    registration = fresh.client.create("mp_registrations", {
        "mp_firstname": "Ivar", "mp_lastname": "Invalid", "mp_email": "not an address",
        "mp_status": RECEIVED,
    })
    service = RegistrationService(
        fresh.client, RegistrationSettings(review_team="Alumni office"), TASK_OWNER
    )
    outcome = service.process(str(registration.id), None)
    assert outcome.reason == "invalid-registration"
    assert view(fresh, "view.review") == ["Ivar"]
    [team] = rows(fresh, "teams?$select=teamid&$filter=name eq 'Alumni office'")
    [task] = rows(fresh, "tasks?$select=subject,_ownerid_value,statecode"
                         f"&$filter=_regardingobjectid_value eq {registration.id}")
    assert (task["_ownerid_value"], task["statecode"]) == (team["teamid"], 0)


@pytest.mark.parametrize(
    ("fetch", "message"),
    [
        ('<fetch><entity name="mp_registration"><link-entity name="contact" from="contactid" '
         'to="mp_personid"/></entity></fetch>', "<link-entity> is not supported"),
        ('<fetch><entity name="mp_registration"><filter><condition attribute="mp_status" '
         'operator="eq-userid"/></filter></entity></fetch>', "'eq-userid' is not supported"),
        ('<fetch><entity name="mp_registration"><attribute name="nope"/></entity></fetch>',
         "has no attribute 'nope'"),
        ("<fetch><entity", "not well-formed"),
    ],
)
def test_fetchxml_the_sandbox_cannot_evaluate_is_refused_clearly(
    fresh: Environment, fetch: str, message: str  # noqa: F811
) -> None:
    assert fresh.run().code == 0
    response = get(fresh, f"mp_registrations?fetchXml={quote(fetch)}")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_status_checks_the_application_users_role(
    fresh: Environment, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    assert fresh.run().code == 0
    assert main(["status"]) == 0
    assert "missing   role 'Member plugins integration' on the application user" in (
        capsys.readouterr().out
    )
    user = fresh.sandbox.auth.application_user_id
    fresh.client.associate("systemusers", user, "systemuserroles_association", "roles",
                           fixed_id("role.integration"))
    assert main(["status"]) == 0
    assert "  role      the application user has 'Member plugins integration'" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("entity_set", "body", "message"),
    [
        ("systemforms", {"name": "f", "objecttypecode": "mp_registration", "type": 2,
                         "formxml": '<form><tabs><tab><columns><column><sections><section>'
                                    '<rows><row><cell><control id="x" classid="{1}" '
                                    'datafieldname="mp_nope"/></cell></row></rows></section>'
                                    '</sections></column></columns></tab></tabs></form>'},
         "bound to 'mp_nope'"),
        ("systemforms", {"name": "f", "objecttypecode": "mp_registration", "type": 2,
                         "formxml": "<form"}, "not well-formed"),
        ("savedqueries", {"name": "v", "returnedtypecode": "mp_registration", "querytype": 0,
                          "fetchxml": '<fetch><entity name="mp_registration"/></fetch>',
                          "layoutxml": '<grid name="resultset" select="1" icon="1" '
                                       'preview="1"><row name="result" id="mp_registrationid">'
                                       '<cell name="mp_firstname"/></row></grid>'},
         "<grid> needs object"),
        ("savedqueries", {"name": "v", "returnedtypecode": "contact", "querytype": 0,
                          "fetchxml": '<fetch><entity name="mp_registration"/></fetch>',
                          "layoutxml": "<grid/>"},
         "the view returns 'contact'"),
        ("sitemaps", {"sitemapname": "s", "sitemapxml": '<SiteMap><Area Id="a"><Group Id="g">'
                      '<SubArea Id="x" Entity="mp_nope"/></Group></Area></SiteMap>'},
         "the table 'mp_nope' does not exist"),
    ],
)
def test_the_sandbox_refuses_customizations_dataverse_would_refuse(
    dv: Any, entity_set: str, body: dict[str, Any], message: str
) -> None:
    response = dv.post(entity_set, json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_a_solution_header_naming_no_solution_is_refused_and_nothing_written(dv: Any) -> None:
    response = dv.post("roles", json={"name": "r"},
                       headers={"MSCRM.SolutionUniqueName": "NoSuchSolution"})
    assert response.status_code == 400
    assert "The solution 'NoSuchSolution' does not exist." in response.json()["error"]["message"]
    assert dv.get("roles").json()["value"] == []


def test_an_update_that_breaks_a_view_is_refused_too(fresh: Environment) -> None:  # noqa: F811
    assert fresh.run().code == 0
    review = view_id("view.review")
    response = requests.patch(
        f"{fresh.sandbox.base_url}{API_PATH}savedqueries({review})",
        json={"fetchxml": '<fetch><entity name="mp_registration"><link-entity name="contact"/>'
                          "</entity></fetch>"},
        headers={"Authorization": f"Bearer {fresh.sandbox.auth.issue_token()}",
                 "If-Match": "*"},
        timeout=10,
    )
    assert response.status_code == 400
    assert view(fresh, "view.review") == []


def test_a_view_changed_by_hand_is_put_back_by_the_next_provision(
    fresh: Environment,  # noqa: F811
) -> None:
    assert fresh.run().code == 0
    review = view_id("view.review")
    changed = '<fetch><entity name="mp_registration"><attribute name="mp_firstname"/></entity>' \
              "</fetch>"
    fresh.client.update("savedqueries", review, {"fetchxml": changed})
    run = fresh.run()
    assert run.code == 0
    assert "update          view       Registrations to review (fetchxml)" in run.out
    assert "publish         app        Alumni office" in run.out
    [row] = rows(fresh, f"savedqueries?$select=fetchxml&$filter=savedqueryid eq {review}")
    assert 'operator="eq" value="100000003"' in row["fetchxml"]

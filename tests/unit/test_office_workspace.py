"""The office's workspace as the product ships it, and the plan against an environment
(pure: no I/O)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from workspace_rendering import (
    form_text,
    privileges_table,
    view_text,
    workspace_forms,
    workspace_views,
)

from plugins.admin.provision_plan import mapped_schema
from plugins.admin.workspace.components import Kind, Workspace, workspace
from plugins.admin.workspace.formxml import Field, Section, Tab, form_xml
from plugins.admin.workspace.plan import Action, EnvironmentState, Found, plan_workspace
from plugins.admin.workspace.roles import privilege_name, product_roles
from plugins.admin.workspace.texts import LCIDS
from plugins.core.schema import product_schema
from plugins.core.schema_map import ContactMap, RegistrationMap, SchemaMap
from plugins.registration.review_text import OfficeLanguage

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA = SchemaMap()


def shipped(language: OfficeLanguage = "en") -> Workspace:
    return workspace(SCHEMA, product_schema(), language, object_type_code=10001)


def everything_in_place(wanted: Workspace) -> EnvironmentState:
    found = {
        (c.kind, c.name): Found(c.row_id or f"id-{c.name}", {k: c.body[k] for k in c.compared})
        for c in wanted.components
    }
    names = {p for _, spec in wanted.roles for p in spec.privileges()}
    return EnvironmentState(
        found=found,
        app_parts=frozenset(p.row_id or "" for p in wanted.app_parts),
        role_privileges={r.row_id or "": frozenset(s.privileges()) for r, s in wanted.roles},
        privilege_ids={n: f"p-{n}" for n in names},
        team_roles=frozenset({wanted.office_role.row_id or ""}),
        app_roles=frozenset({wanted.office_role.row_id or ""}),
    )


def test_an_environment_that_has_everything_gets_an_empty_plan() -> None:
    wanted = shipped()
    plan = plan_workspace(wanted, everything_in_place(wanted))
    assert plan.is_noop and plan.present == len(wanted.components)


def test_an_empty_environment_gets_every_component_in_order() -> None:
    wanted = shipped()
    plan = plan_workspace(wanted, EnvironmentState())
    kinds = [s.component.kind for s in plan.steps if s.action is Action.CREATE]
    assert kinds[:3] == [Kind.PUBLISHER, Kind.SOLUTION, Kind.TEAM]
    assert kinds.count(Kind.FORM) == 2 and kinds.count(Kind.VIEW) == 4
    assert [s.action for s in plan.steps[len(kinds):]] == [
        Action.ADD_TO_APP, Action.ADD_PRIVILEGES, Action.ADD_PRIVILEGES, Action.ASSIGN_ROLE,
        Action.ASSIGN_ROLE, Action.PUBLISH,
    ]
    assert set(plan.missing_privileges) == {p for _, s in wanted.roles for p in s.privileges()}


def test_a_changed_view_is_updated_and_the_app_published_again() -> None:
    wanted = shipped()
    state = everything_in_place(wanted)
    review = next(c for c in wanted.components if c.kind is Kind.VIEW)
    stale = dict(state.found)
    stale[(review.kind, review.name)] = Found(review.row_id or "", {
        **{k: review.body[k] for k in review.compared}, "fetchxml": "<fetch/>",
    })
    plan = plan_workspace(wanted, EnvironmentState(
        found=stale, app_parts=state.app_parts, role_privileges=state.role_privileges,
        privilege_ids=state.privilege_ids, team_roles=state.team_roles,
        app_roles=state.app_roles,
    ))
    assert [(s.action, s.component.name) for s in plan.steps] == [
        (Action.UPDATE, review.name), (Action.PUBLISH, wanted.app.name)
    ]
    assert plan.steps[0].changes == {"fetchxml": review.body["fetchxml"]}


def test_an_organisations_own_names_reach_forms_views_and_roles() -> None:
    renamed = SchemaMap(
        registration=RegistrationMap(status="new_status"),
        contact=ContactMap(categories="new_categories"),
    )
    mapped = mapped_schema(product_schema(), renamed)
    wanted = workspace(renamed, mapped, "sv")
    review = next(c for c in wanted.components if c.kind is Kind.VIEW)
    assert 'attribute="new_status"' in review.body["fetchxml"]
    form = next(c for c in wanted.components if c.kind is Kind.FORM)
    assert 'datafieldname="new_status"' in form.body["formxml"]
    assert review.name == "Registreringar att granska"


def test_a_form_field_the_table_lacks_is_refused() -> None:
    table = product_schema().table("mp_registration")
    with pytest.raises(ValueError, match="has no column mp_nope"):
        form_xml("form.registration", table, (Tab("t", "tab.review", (
            Section("s", "section.why", (Field("mp_nope", "mp_status"),)),)),))


def test_every_label_is_written_in_the_three_languages() -> None:
    for form in workspace_forms(shipped()):
        for labels in ET.fromstring(form.body["formxml"]).iter("labels"):
            assert sorted(int(str(lbl.get("languagecode"))) for lbl in labels) == sorted(
                LCIDS.values()
            )


def test_privilege_names_follow_dataverse() -> None:
    assert privilege_name("Read", "mp_registration") == "prvReadmp_Registration"
    assert privilege_name("Assign", "task") == "prvAssignActivity"
    assert privilege_name("Read", "systemuser") == "prvReadUser"
    integration, office = product_roles(SCHEMA)
    assert not any("Delete" in p for p in office.privileges())
    assert "prvDeleteContact" in integration.privileges()


def test_docs_show_the_forms_views_and_privileges_the_product_ships() -> None:
    office = (DOCS / "office.md").read_text(encoding="utf-8")
    admin = (DOCS / "admin.md").read_text(encoding="utf-8")
    wanted = workspace(SCHEMA, product_schema(), "en")
    for form in workspace_forms(wanted):
        assert form_text(form) in office
    for view in workspace_views(wanted):
        assert view_text(view) in office
    assert privileges_table(product_roles(SCHEMA)) in admin

"""Read the workspace an environment has, and apply a plan (through the Dataverse client).

Reads: the publisher and solution by unique name, the team by name, the caller's business unit,
each form / view / site map / app / role by its fixed id, the registration table's type code,
the app's components (``RetrieveAppComponents``), each role's privileges
(``RetrieveRolePrivilegesRole``), the privileges by name, and the office role's
associations with the team and the app.

Writes, in plan order: creates with the ``MSCRM.SolutionUniqueName`` header (so every
solution-aware row lands in the product's solution), updates, ``AddAppComponents``,
``AddPrivilegesRole`` (depth Global), the N:N associations ``teamroles_association`` and
``appmoduleroles_association``, and ``PublishXml`` for the app.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import NotFoundError

from .components import Component, Kind, Workspace
from .plan import Action, EnvironmentState, Found, Step, WorkspacePlan

TYPES = {
    Kind.SITEMAP: "sitemap", Kind.FORM: "systemform", Kind.VIEW: "savedquery",
}
PART_IDS = ("sitemapid", "formid", "savedqueryid")
TYPE_PREFIX = "Microsoft.Dynamics.CRM."
_PRIVILEGE_BATCH = 15


def object_type_code(client: DataverseClient, table: str) -> int | None:
    """The table's ``ObjectTypeCode`` (None when the table does not exist yet)."""
    path = odata.entity_path("EntityDefinitions", {"LogicalName": table})
    try:
        body = client.read_metadata(path, select=("ObjectTypeCode",))
    except NotFoundError:
        return None
    code = body.get("ObjectTypeCode")
    return int(code) if isinstance(code, int) else None


def read_state(client: DataverseClient, wanted: Workspace) -> EnvironmentState:
    """What the environment has of ``wanted`` (GETs only)."""
    found: dict[tuple[Kind, str], Found] = {}
    for component in wanted.components:
        row = _find(client, component)
        if row is not None:
            found[(component.kind, component.name)] = row
    app = found.get((Kind.APP, wanted.app.name))
    parts = frozenset(_app_parts(client, app.id)) if app else frozenset()
    role_privileges = {
        role.row_id or "": frozenset(_role_privileges(client, found[(role.kind, role.name)].id))
        for role, _ in wanted.roles if (role.kind, role.name) in found
    }
    names = sorted({p for _, spec in wanted.roles for p in spec.privileges()})
    team = found.get((Kind.TEAM, wanted.team.name))
    return EnvironmentState(
        found=found,
        app_parts=parts,
        role_privileges=role_privileges,
        privilege_ids=_privilege_ids(client, names),
        team_roles=frozenset(_related(client, "teams", team.id, "teamroles_association",
                                      "roleid")) if team else frozenset(),
        app_roles=frozenset(_related(client, "appmodules", app.id,
                                     "appmoduleroles_association", "roleid"))
        if app else frozenset(),
    )


def apply(client: DataverseClient, wanted: Workspace, plan: WorkspacePlan,
          state: EnvironmentState) -> None:
    """Apply ``plan``'s steps in order (each one Dataverse write, or one action)."""
    ids = {key: found.id for key, found in state.found.items()}
    business_unit = _business_unit(client)
    for step in plan.steps:
        _apply_step(client, wanted, step, ids, business_unit, state)


def _apply_step(
    client: DataverseClient,
    wanted: Workspace,
    step: Step,
    ids: dict[tuple[Kind, str], str],
    business_unit: str,
    state: EnvironmentState,
) -> None:
    component = step.component
    key = (component.kind, component.name)
    if step.action is Action.CREATE:
        body = dict(component.body)
        if component.row_id:
            body[component.id_column] = component.row_id
        if component.kind is Kind.SOLUTION:
            publisher = next(c for c in wanted.components if c.kind is Kind.PUBLISHER)
            body["publisherid@odata.bind"] = odata.bind(
                "publishers", ids[(publisher.kind, publisher.name)]
            )
        if component.kind in (Kind.TEAM, Kind.ROLE):
            body["businessunitid@odata.bind"] = odata.bind("businessunits", business_unit)
        result = client.create(component.entity_set, body,
                               solution=wanted.solution if component.in_solution else None)
        ids[key] = result.id or component.row_id or ""
    elif step.action is Action.UPDATE:
        client.update(component.entity_set, ids[key], dict(step.changes))
    elif step.action is Action.ADD_TO_APP:
        client.call_action("AddAppComponents", {
            "AppId": ids[key],
            "Components": [
                {p.id_column: p.row_id, "@odata.type": f"{TYPE_PREFIX}{TYPES[p.kind]}"}
                for p in step.items
            ],
        })
    elif step.action is Action.ADD_PRIVILEGES:
        client.call_bound_action("roles", ids[key], "AddPrivilegesRole", {
            "Privileges": [
                {"PrivilegeId": state.privilege_ids[name], "Depth": "Global",
                 "BusinessUnitId": business_unit}
                for name in step.items if name in state.privilege_ids
            ],
        })
    elif step.action is Action.ASSIGN_ROLE:
        role = wanted.office_role
        navigation = "teamroles_association" if component.kind is Kind.TEAM else (
            "appmoduleroles_association"
        )
        client.associate(component.entity_set, ids[key], navigation, "roles",
                         ids[(role.kind, role.name)])
    elif step.action is Action.PUBLISH:
        client.call_action("PublishXml", {
            "ParameterXml": "<importexportxml><appmodules><appmodule>"
            f"{ids[key]}</appmodule></appmodules></importexportxml>",
        })


def _find(client: DataverseClient, component: Component) -> Found | None:
    select = [component.id_column, *component.compared]
    if component.row_id is not None:
        try:
            row = client.get(component.entity_set, component.row_id, select=select)
        except NotFoundError:
            return None
        return _found(row, component) if row is not None else None
    condition = odata.and_(*(odata.eq(c, v) for c, v in component.key.items()))
    rows = list(client.query(component.entity_set, select=select, filter=condition, top=1))
    return _found(rows[0], component) if rows else None


def _found(row: dict[str, Any], component: Component) -> Found:
    return Found(str(row[component.id_column]).lower(),
                 {c: row.get(c) for c in component.compared})


def _app_parts(client: DataverseClient, app_id: str) -> Iterable[str]:
    try:
        answer = client.call_function("RetrieveAppComponents", {"AppModuleId": uuid.UUID(app_id)})
    except NotFoundError:
        return ()
    return [
        str(part[column]).lower()
        for part in answer.get("value", [])
        for column in PART_IDS if part.get(column)
    ]


def _role_privileges(client: DataverseClient, role_id: str) -> Iterable[str]:
    answer = client.call_function("RetrieveRolePrivilegesRole", {"RoleId": uuid.UUID(role_id)})
    return [str(p.get("PrivilegeName")) for p in answer.get("RolePrivileges", [])]


def _privilege_ids(client: DataverseClient, names: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(names), _PRIVILEGE_BATCH):
        chunk = names[start:start + _PRIVILEGE_BATCH]
        rows = client.query("privileges", select=["privilegeid", "name"],
                            filter=odata.or_(*(odata.eq("name", n) for n in chunk)))
        found.update({str(r["name"]): str(r["privilegeid"]).lower() for r in rows})
    return found


def _related(
    client: DataverseClient, entity_set: str, row_id: str, navigation: str, id_column: str
) -> Iterable[str]:
    rows = client.related(entity_set, row_id, navigation, select=[id_column])
    return [str(r[id_column]).lower() for r in rows]


def _business_unit(client: DataverseClient) -> str:
    """The business unit roles and the team are created in: the application user's own
    (``WhoAmI``), which is the root one unless the user was moved."""
    return str(client.call_function("WhoAmI")["BusinessUnitId"]).lower()

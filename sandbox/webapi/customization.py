"""Solutions and the customizations an app is made of: what Dataverse does with them
(roles and privileges: :mod:`.roles`).

- ``MSCRM.SolutionUniqueName`` on a create adds the new solution-aware row (role 20,
  savedquery 26, systemform 60, sitemap 62, appmodule 80; metadata: table 1, column 2,
  global choice 9, relationship 10, key 14) to that unmanaged solution as a
  ``solutioncomponent``; a solution that does not exist, or a managed one, is refused.
- ``systemform.formxml``, ``savedquery.fetchxml`` / ``layoutxml`` and
  ``sitemap.sitemapxml`` are checked as Dataverse checks them on save: well-formed, the
  right root element, and naming only tables and columns that exist (a view's FetchXml must
  also be within :mod:`sandbox.odata.fetchxml`'s subset, so tests can evaluate it).
- Actions and functions: ``AddAppComponents``, ``RetrieveAppComponents``, ``ValidateApp``
  (an app needs a site map), ``PublishXml`` (sets ``appmodule.publishedon``),
  ``AddSolutionComponent``.

The error codes for refused customizations are not documented; they are the sandbox's own
(400 ``0x80040203``, Dataverse's generic "invalid argument").
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from werkzeug.wrappers import Response

from plugins.core.schema import Table

from .. import errors
from ..http import empty_response, json_response
from ..odata import fetchxml
from ..steps.context import Organization
from ..store import Caller, Lookup, Row, Store
from .context import ApiContext
from .resource import Resource

HEADER = "MSCRM.SolutionUniqueName"
COMPONENT_TYPES: Mapping[str, int] = {
    "role": 20, "savedquery": 26, "systemform": 60, "sitemap": 62, "appmodule": 80,
}
METADATA_TYPES: Mapping[str, int] = {
    "EntityDefinitions": 1, "Attributes": 2, "GlobalOptionSetDefinitions": 9,
    "RelationshipDefinitions": 10, "Keys": 14,
}
_REFUSED = "0x80040203"



# ------------------------------------------------------------------ environment


def install(store: Store, organization_name: str, caller: Caller) -> None:
    """The root business unit (``WhoAmI`` answers its id)."""
    organization = Organization.named(organization_name)
    with store.transaction(caller):
        store.insert("businessunit", {"name": organization_name},
                     row_id=organization.business_unit_id)


# ------------------------------------------------------------------- creates


def check_create(ctx: ApiContext, table: Table, values: Mapping[str, Any]) -> None:
    """Refuse a customization Dataverse would refuse (before anything is written); on an
    update ``values`` are the row's values with the changes applied."""
    check = _CHECKS.get(table.logical_name)
    if check is not None:
        check(ctx, values)


def solution_for(ctx: ApiContext) -> Row | None:
    """The unmanaged solution the request's header names (None without the header)."""
    name = ctx.request.headers.get(HEADER)
    if not name:
        return None
    found = ctx.store.find_by_key("solution", "solution_uniquename", {"uniquename": name})
    if found is None:
        raise errors.bad_request(f"The solution '{name}' does not exist.", code=_REFUSED)
    if found.values.get("ismanaged"):
        raise errors.bad_request(
            f"Cannot add components to the managed solution '{name}'.", code=_REFUSED
        )
    return found


def record_created(ctx: ApiContext, table: Table, row: Row, solution: Row | None) -> None:
    """Add a created solution-aware row to the header's solution."""
    component_type = COMPONENT_TYPES.get(table.logical_name)
    if solution is not None and component_type is not None:
        add_component(ctx.store, solution, component_type, row.id)


def record_metadata(
    ctx: ApiContext, resource: Resource, metadata_id: str | None, solution: Row | None
) -> None:
    """Add a created table, column, choice, relationship or key to the header's solution."""
    name = resource.segments[-1] if resource.segments else resource.name
    if solution is None or metadata_id is None or name not in METADATA_TYPES:
        return
    with ctx.store.transaction(ctx.caller):
        add_component(ctx.store, solution, METADATA_TYPES[name], metadata_id)


def add_component(store: Store, solution: Row, component_type: int, object_id: str) -> None:
    """One ``solutioncomponent`` row (none when the solution already holds the object)."""
    for row in store.rows("solutioncomponent"):
        values = row.values
        if values.get("objectid") == object_id and values.get("solutionid") == Lookup(
            "solution", solution.id
        ):
            return
    store.insert("solutioncomponent", {
        "objectid": object_id, "componenttype": component_type, "rootcomponentbehavior": 0,
        "solutionid": Lookup("solution", solution.id),
    })


def _check_form(ctx: ApiContext, values: Mapping[str, Any]) -> None:
    table = _table_named(ctx, values.get("objecttypecode"), "objecttypecode")
    root = _xml(values.get("formxml"), "formxml", "form")
    for control in root.iter("control"):
        field = control.get("datafieldname")
        if field and field not in table.columns:
            refuse(f"formxml: the control '{control.get('id')}' is bound to '{field}', which "
                    f"is not an attribute of '{table.logical_name}'")
        if not control.get("classid"):
            refuse(f"formxml: the control '{control.get('id')}' has no classid")


def _check_view(ctx: ApiContext, values: Mapping[str, Any]) -> None:
    table = _table_named(ctx, values.get("returnedtypecode"), "returnedtypecode")
    text = values.get("fetchxml")
    if not isinstance(text, str):
        refuse("fetchxml is required")
    try:
        query = fetchxml.parse(text, lambda name: _table(ctx, name))
    except fetchxml.FetchXmlError as exc:
        raise errors.bad_request(f"fetchxml: {exc}", code=_REFUSED) from exc
    if query.entity != table.logical_name:
        refuse(f"fetchxml queries '{query.entity}', the view returns '{table.logical_name}'")
    grid = _xml(values.get("layoutxml"), "layoutxml", "grid")
    # What the savedquery schema (Fetch.xsd) requires of a grid, its row and its cells.
    missing = [a for a in ("name", "select", "preview", "icon", "object") if a not in grid.attrib]
    if missing or not grid.get("object", "").isdigit():
        refuse(f"layoutxml: <grid> needs {', '.join(missing or ['an integer object'])}")
    rows = grid.findall("row")
    if len(rows) != 1 or not rows[0].get("name") or not rows[0].get("id"):
        refuse("layoutxml: <grid> needs exactly one <row> with name and id")
    if not rows[0].findall("cell"):
        refuse("layoutxml: the <row> needs at least one <cell>")
    for cell in grid.iter("cell"):
        if cell.get("name") not in table.columns:
            refuse(f"layoutxml: '{table.logical_name}' has no attribute '{cell.get('name')}'")


def _check_site_map(ctx: ApiContext, values: Mapping[str, Any]) -> None:
    root = _xml(values.get("sitemapxml"), "sitemapxml", "SiteMap")
    for sub_area in root.iter("SubArea"):
        entity = sub_area.get("Entity")
        if entity and _table(ctx, entity) is None:
            refuse(f"sitemapxml: the table '{entity}' does not exist")


def _check_app(ctx: ApiContext, values: Mapping[str, Any]) -> None:
    if not values.get("webresourceid"):
        refuse("an app needs webresourceid (its icon)")


_CHECKS: dict[str, Callable[[ApiContext, Mapping[str, Any]], None]] = {
    "systemform": _check_form, "savedquery": _check_view, "sitemap": _check_site_map,
    "appmodule": _check_app,
}


# ------------------------------------------------------------ actions/functions

UNBOUND_ACTIONS = frozenset({"AddAppComponents", "PublishXml", "AddSolutionComponent"})
FUNCTIONS = frozenset({"ValidateApp", "RetrieveAppComponents"})


def handles(name: str) -> bool:
    """Whether ``name`` is an unbound action or function served here."""
    return name in UNBOUND_ACTIONS or name in FUNCTIONS


def call(ctx: ApiContext, resource: Resource) -> Response:
    """Run an unbound action (POST) or function (GET)."""
    method = ctx.request.method
    if resource.name in UNBOUND_ACTIONS and method == "POST":
        body = ctx.json_body()
        if not isinstance(body, dict):
            raise errors.malformed_json("the body must be a JSON object")
        with ctx.store.transaction(ctx.caller):
            return _ACTIONS[resource.name](ctx, body)
    if resource.name in FUNCTIONS and method == "GET":
        parts = resource.key.parts if resource.key is not None and resource.key.parts else {}
        return _FUNCTIONS[resource.name](ctx, {k: str(v).lower() for k, v in parts.items()})
    raise errors.method_not_allowed(method, ctx.request.url)


def add_app_components(ctx: ApiContext, body: Mapping[str, Any]) -> Response:
    """``AddAppComponents``: each component (``@odata.type`` + its id) joins the app."""
    app = row_or_404(ctx, "appmodule", body.get("AppId"))
    for component in body.get("Components") or []:
        kind = str(component.get("@odata.type", "")).removeprefix("#").removeprefix(
            "Microsoft.Dynamics.CRM."
        )
        if kind not in COMPONENT_TYPES and kind != "entity":
            refuse(f"'{kind}' cannot be added to an app")
        target = ctx.store.table(kind) if kind != "entity" else None
        object_id = component.get(target.primary_id) if target else component.get("MetadataId")
        if target is not None:
            row_or_404(ctx, kind, object_id)
        existing = [
            r for r in ctx.store.rows("appmodulecomponent")
            if r.values.get("appmoduleidunique") == Lookup("appmodule", app.id)
            and r.values.get("objectid") == str(object_id).lower()
        ]
        if not existing:
            ctx.store.insert("appmodulecomponent", {
                "objectid": str(object_id).lower(),
                "componenttype": COMPONENT_TYPES.get(kind, 1),
                "appmoduleidunique": Lookup("appmodule", app.id),
            })
    return empty_response()


def publish_xml(ctx: ApiContext, body: Mapping[str, Any]) -> Response:
    """``PublishXml``: the apps named in ``ParameterXml`` become published."""
    root = _xml(body.get("ParameterXml"), "ParameterXml", "importexportxml")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for element in root.iter("appmodule"):
        app = row_or_404(ctx, "appmodule", (element.text or "").strip())
        ctx.store.update("appmodule", app.id, {"publishedon": now})
    return empty_response()


def add_solution_component(ctx: ApiContext, body: Mapping[str, Any]) -> Response:
    """``AddSolutionComponent``: an existing component joins an unmanaged solution."""
    name = body.get("SolutionUniqueName")
    solution = ctx.store.find_by_key("solution", "solution_uniquename", {"uniquename": name})
    if solution is None:
        refuse(f"The solution '{name}' does not exist.")
    component_type = body.get("ComponentType")
    object_id = str(body.get("ComponentId", "")).lower()
    if not isinstance(component_type, int) or not object_id:
        refuse("ComponentId and ComponentType are required")
    add_component(ctx.store, solution, component_type, object_id)
    return json_response({
        "@odata.context": f"{ctx.service_root}$metadata#Microsoft.Dynamics.CRM."
        "AddSolutionComponentResponse",
        "id": str(uuid.uuid4()),
    })


def validate_app(ctx: ApiContext, parameters: Mapping[str, str]) -> Response:
    """``ValidateApp``: an app without a site map is invalid (as Dataverse reports it)."""
    app = row_or_404(ctx, "appmodule", parameter(parameters, "AppModuleId"))
    parts = _app_parts(ctx.store, app.id)
    issues = []
    if not any(p.values.get("componenttype") == COMPONENT_TYPES["sitemap"] for p in parts):
        issues.append({"ErrorType": "Error", "Message": "App does not contain Site Map",
                       "DisplayName": None, "ComponentId": str(uuid.UUID(int=0)),
                       "ComponentType": 0, "CRMErrorCode": -2147155684})
    return json_response({
        "@odata.context": f"{ctx.service_root}$metadata#Microsoft.Dynamics.CRM."
        "ValidateAppResponse",
        "AppValidationResponse": {"ValidationSuccess": not issues,
                                  "ValidationIssueList": issues},
    })


def retrieve_app_components(ctx: ApiContext, parameters: Mapping[str, str]) -> Response:
    """``RetrieveAppComponents``: the app's components, each as its table's entity."""
    app = row_or_404(ctx, "appmodule", parameter(parameters, "AppModuleId"))
    by_type = {number: name for name, number in COMPONENT_TYPES.items()}
    value = []
    for part in _app_parts(ctx.store, app.id):
        kind = by_type.get(part.values.get("componenttype"))
        if kind is None:
            continue
        table = ctx.store.table(kind)
        value.append({"@odata.type": f"#Microsoft.Dynamics.CRM.{kind}",
                      table.primary_id: part.values.get("objectid")})
    return json_response({
        "@odata.context": f"{ctx.service_root}$metadata#Collection(Microsoft.Dynamics.CRM."
        "crmbaseentity)",
        "value": value,
    })


_ACTIONS: dict[str, Callable[[ApiContext, Mapping[str, Any]], Response]] = {
    "AddAppComponents": add_app_components, "PublishXml": publish_xml,
    "AddSolutionComponent": add_solution_component,
}
_FUNCTIONS: dict[str, Callable[[ApiContext, Mapping[str, str]], Response]] = {
    "ValidateApp": validate_app, "RetrieveAppComponents": retrieve_app_components,
}


# ------------------------------------------------------------------ internals


def _app_parts(store: Store, app_id: str) -> list[Row]:
    return [r for r in store.rows("appmodulecomponent")
            if r.values.get("appmoduleidunique") == Lookup("appmodule", app_id)]


def parameter(parameters: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in parameters.items() if k.lower() == name.lower()), None)


def row_or_404(ctx: ApiContext, table: str, row_id: Any) -> Row:
    row = ctx.store.get(table, str(row_id or "").lower())
    if row is None:
        raise errors.row_not_found(table, str(row_id))
    return row


def _table(ctx: ApiContext, name: str) -> Table | None:
    return next((t for t in ctx.store.schema.tables if t.logical_name == name), None)


def _table_named(ctx: ApiContext, name: Any, column: str) -> Table:
    table = _table(ctx, str(name or ""))
    if table is None:
        refuse(f"{column}: the table '{name}' does not exist")
    return table


def _xml(text: Any, column: str, root_tag: str) -> ET.Element:
    if not isinstance(text, str) or not text.strip():
        refuse(f"{column} is required")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise errors.bad_request(f"{column} is not well-formed XML: {exc}", code=_REFUSED) from exc
    if root.tag != root_tag:
        refuse(f"{column}: the root element must be <{root_tag}>, not <{root.tag}>")
    return root


def refuse(message: str) -> NoReturn:
    raise errors.bad_request(message, code=_REFUSED)

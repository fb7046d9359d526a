"""Roles: privileges, ``AddPrivilegesRole``, ``RetrieveRolePrivilegesRole`` and the N:N
relationships that give a role to a team, an app or a user.

Every table has its eight privileges (``prv<Right><Table>``: the table's schema name, or
``Activity`` for activity tables, ``User`` for ``systemuser``), also a table created later.
The relationships ``teamroles_association``, ``appmoduleroles_association`` and
``systemuserroles_association`` are served from the role side's point of view: associate
with ``POST <set>(<id>)/<relationship>/$ref``, list with ``GET <set>(<id>)/<relationship>``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.wrappers import Response

from plugins.core.schema import Table

from .. import errors
from ..http import empty_response, json_response
from ..store import Lookup, Row, Store
from .context import ApiContext
from .customization import parameter, refuse, row_or_404
from .metadata import schema_name_of
from .representation import RowWriter, collection_context
from .resource import Resource

RIGHTS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share")
DEPTHS: Mapping[str, int] = {"Basic": 1, "Local": 2, "Deep": 4, "Global": 8}
_PRIVILEGE_NAMESPACE = uuid.UUID("2c6c3c52-96a4-4d0c-8f43-0c4a3b0f6e11")
_REFUSED = "0x80040203"
FUNCTIONS = frozenset({"RetrieveRolePrivilegesRole"})


def handles(name: str) -> bool:
    """Whether ``name`` is a function served here."""
    return name in FUNCTIONS


def call(ctx: ApiContext, resource: Resource) -> Response:
    """``GET RetrieveRolePrivilegesRole(RoleId=<id>)``."""
    if ctx.request.method != "GET":
        raise errors.method_not_allowed(ctx.request.method, ctx.request.url)
    parts = resource.key.parts if resource.key is not None and resource.key.parts else {}
    return retrieve_role_privileges(ctx, {k: str(v).lower() for k, v in parts.items()})


def add_privileges(store: Store, tables: Iterable[Table]) -> None:
    """The eight privileges of each table (inside the caller's transaction)."""
    for table in tables:
        for right in RIGHTS:
            name = f"prv{right}{_privilege_table_name(store, table)}"
            row_id = str(uuid.uuid5(_PRIVILEGE_NAMESPACE, name))
            if store.get("privilege", row_id) is None:
                store.insert("privilege", {"name": name}, row_id=row_id)


def _privilege_table_name(store: Store, table: Table) -> str:
    if table.primary_id == "activityid":
        return "Activity"
    if table.logical_name == "systemuser":
        return "User"
    return schema_name_of(store.schema, table.logical_name)


def add_privileges_role(ctx: ApiContext, table: Table, role: Row) -> Response:
    """``AddPrivilegesRole`` (bound to a role): add or deepen each privilege."""
    body = ctx.json_body()
    privileges = body.get("Privileges") if isinstance(body, dict) else None
    if not isinstance(privileges, list):
        raise errors.malformed_json("'Privileges' (a collection of RolePrivilege) is required")
    for item in privileges:
        privilege = row_or_404(ctx, "privilege", item.get("PrivilegeId"))
        depth = DEPTHS.get(str(item.get("Depth")))
        if depth is None:
            refuse(f"'{item.get('Depth')}' is not a PrivilegeDepth")
        held = _held(ctx.store, role.id, privilege.id)
        if held is None:
            ctx.store.insert("roleprivileges", {
                "roleid": Lookup("role", role.id),
                "privilegeid": Lookup("privilege", privilege.id), "privilegedepthmask": depth,
            })
        elif held.values.get("privilegedepthmask", 0) < depth:
            ctx.store.update("roleprivileges", held.id, {"privilegedepthmask": depth})
    return empty_response()


def retrieve_role_privileges(ctx: ApiContext, parameters: Mapping[str, str]) -> Response:
    """``RetrieveRolePrivilegesRole``: the role's privileges with depth and name."""
    role = row_or_404(ctx, "role", parameter(parameters, "RoleId"))
    depth_names = {mask: name for name, mask in DEPTHS.items()}
    business_unit = role.values.get("businessunitid")
    result = []
    for held in ctx.store.rows("roleprivileges"):
        if held.values.get("roleid") != Lookup("role", role.id):
            continue
        privilege = ctx.store.get("privilege", held.values["privilegeid"].id)
        result.append({
            "PrivilegeId": held.values["privilegeid"].id,
            "PrivilegeName": privilege.values.get("name") if privilege else None,
            "Depth": depth_names.get(held.values.get("privilegedepthmask", 0)),
            "BusinessUnitId": business_unit.id if isinstance(business_unit, Lookup) else None,
        })
    return json_response({
        "@odata.context": f"{ctx.service_root}$metadata#Microsoft.Dynamics.CRM."
        "RetrieveRolePrivilegesRoleResponse",
        "RolePrivileges": result,
    })


ASSOCIATIONS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("team", "teamroles_association"): ("teamroles", "teamid"),
    ("appmodule", "appmoduleroles_association"): ("appmoduleroles", "appmoduleid"),
    ("systemuser", "systemuserroles_association"): ("systemuserroles", "systemuserid"),
}
"""The N:N relationships with roles: (table, navigation) -> (intersect table, its column)."""


def is_association(table: Table, navigation: str) -> bool:
    """Whether ``navigation`` is one of the role relationships served here."""
    return (table.logical_name, navigation) in ASSOCIATIONS


def associate(ctx: ApiContext, table: Table, key: Any, navigation: str) -> Response:
    """``POST <set>(<id>)/<relationship>/$ref`` with ``{"@odata.id": ".../roles(<id>)"}``."""
    intersect, column = ASSOCIATIONS[(table.logical_name, navigation)]
    body = ctx.json_body()
    target = body.get("@odata.id") if isinstance(body, dict) else None
    found = re.search(r"roles\(([0-9a-fA-F-]{36})\)$", str(target or ""))
    if found is None:
        raise errors.bad_request("'@odata.id' must be the URL of a role", code=_REFUSED)
    with ctx.store.transaction(ctx.caller):
        row = ctx.require(table, key)
        role = row_or_404(ctx, "role", found.group(1))
        if role.id not in _associated(ctx.store, intersect, column, row.id):
            mine = Lookup(table.logical_name, row.id) if column != "systemuserid" else row.id
            ctx.store.insert(intersect, {column: mine, "roleid": Lookup("role", role.id)})
    return empty_response(204)


def associated_roles(ctx: ApiContext, table: Table, key: Any, navigation: str) -> Response:
    """``GET <set>(<id>)/<relationship>``: the associated roles."""
    intersect, column = ASSOCIATIONS[(table.logical_name, navigation)]
    row = ctx.require(table, key)
    roles = ctx.store.table("role")
    select = ctx.request.args.get("$select")
    columns = tuple(select.split(",")) if select else None
    writer = RowWriter(ctx, roles, columns)
    rows = [ctx.store.get("role", role_id)
            for role_id in _associated(ctx.store, intersect, column, row.id)]
    return json_response({
        "@odata.context": collection_context(ctx, roles, columns),
        "value": [writer.write(r) for r in rows if r is not None],
    })


def _associated(store: Store, intersect: str, column: str, row_id: str) -> list[str]:
    found = []
    for link in store.rows(intersect):
        mine = link.values.get(column)
        if (mine.id if isinstance(mine, Lookup) else mine) == row_id:
            found.append(link.values["roleid"].id)
    return found


def _held(store: Store, role_id: str, privilege_id: str) -> Row | None:
    for row in store.rows("roleprivileges"):
        if row.values.get("roleid") == Lookup("role", role_id) and row.values.get(
            "privilegeid"
        ) == Lookup("privilege", privilege_id):
            return row
    return None



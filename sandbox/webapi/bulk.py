"""Bulk actions bound to an entity set: CreateMultiple, UpdateMultiple, UpsertMultiple.

``POST <set>/Microsoft.Dynamics.CRM.<Action>`` with ``{"Targets": [...]}``. Every target names
its table in ``@odata.type``; all targets are of the set's table. The whole request is one
transaction: any failing target rolls back every other one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from plugins.core.schema import Table

from .. import errors
from ..http import empty_response, json_response
from .context import ApiContext
from .resource import KeySpec
from .values import BodyReader, parse_reference
from .writes import insert_row, is_primary_key, object_body, update_row, upsert_row

TYPE_PREFIX = "Microsoft.Dynamics.CRM."

Action = Callable[[ApiContext, Table, list[dict[str, Any]]], Response]


def run_action(ctx: ApiContext, table: Table, action_name: str) -> Response:
    """Run one bulk action; unknown names are Dataverse's 404 for an unknown segment."""
    action = _ACTIONS.get(action_name)
    if action is None:
        raise errors.unknown_segment(TYPE_PREFIX + action_name)
    targets = _targets(ctx, table)
    with ctx.store.transaction(ctx.caller):
        return action(ctx, table, targets)


def create_multiple(ctx: ApiContext, table: Table, targets: list[dict[str, Any]]) -> Response:
    """Create every target; 200 with the new ids in order."""
    reader = BodyReader(ctx, table)
    ids = [insert_row(ctx, table, reader.read(target)).id for target in targets]
    return json_response(
        {
            "@odata.context": f"{ctx.service_root}$metadata#{TYPE_PREFIX}CreateMultipleResponse",
            "Ids": ids,
        }
    )


def update_multiple(ctx: ApiContext, table: Table, targets: list[dict[str, Any]]) -> Response:
    """Update every target, each naming its row by primary key; 204."""
    reader = BodyReader(ctx, table)
    for target in targets:
        row_id = target.get(table.primary_id)
        if not isinstance(row_id, str) or not row_id:
            raise _missing_key(table, "UpdateMultiple")
        row = ctx.require(table, KeySpec(guid=row_id.lower()))
        update_row(ctx, table, row, reader.read(target))
    return empty_response(204)


def upsert_multiple(ctx: ApiContext, table: Table, targets: list[dict[str, Any]]) -> Response:
    """Upsert every target, named by ``@odata.id`` (any key) or its primary key; 204."""
    for target in targets:
        key = _target_key(ctx, table, target)
        body = {k: v for k, v in target.items() if k != "@odata.id"}
        if not is_primary_key(table, key) and ctx.resolve(table, key) is None:
            _refuse_key_in_body(key, body)
        upsert_row(ctx, table, key, body)
    return empty_response(204)


_ACTIONS: dict[str, Action] = {
    "CreateMultiple": create_multiple,
    "UpdateMultiple": update_multiple,
    "UpsertMultiple": upsert_multiple,
}


def _targets(ctx: ApiContext, table: Table) -> list[dict[str, Any]]:
    """``Targets`` of the body, each an object of the set's table by ``@odata.type``."""
    targets = object_body(ctx).get("Targets")
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise errors.malformed_json("the body needs 'Targets', an array of entity objects")
    expected = TYPE_PREFIX + table.logical_name
    for target in targets:
        kind = target.get("@odata.type")
        if isinstance(kind, str):
            kind = kind.removeprefix("#")
        if not kind:
            # Status as observed for a missing type; the wording is the sandbox's own.
            raise errors.bad_request(
                "Every item of 'Targets' needs an '@odata.type' annotation naming its table, "
                f"e.g. '{expected}'.",
                code="0x80048d19",
            )
        if kind != expected:
            raise errors.bad_request(
                f"All items of 'Targets' must be of type '{expected}'; found '{kind}'.",
                code="0x80048d19",
            )
    return targets


def _target_key(ctx: ApiContext, table: Table, target: dict[str, Any]) -> KeySpec:
    odata_id = target.get("@odata.id")
    if isinstance(odata_id, str) and odata_id:
        referenced, key = parse_reference(ctx, odata_id)
        if referenced.logical_name != table.logical_name:
            raise errors.bad_request(
                f"'@odata.id' must name a row of '{table.entity_set}'.", code="0x80048d19"
            )
        return key
    row_id = target.get(table.primary_id)
    if not isinstance(row_id, str) or not row_id:
        raise _missing_key(table, "UpsertMultiple")
    return KeySpec(guid=row_id.lower())


def _refuse_key_in_body(key: KeySpec, body: dict[str, Any]) -> None:
    """Dataverse's observed quirk: on the create path of UpsertMultiple an alternate-key
    column present both in ``@odata.id`` and in the body fails (PowerPlatform-DataverseClient-
    Python PR #127); the update path tolerates it."""
    if any(column in body for column in key.parts):
        raise errors.bad_request("An unexpected error occurred.", code="0x80040216")


def _missing_key(table: Table, action: str) -> errors.ODataError:
    return errors.bad_request(
        f"Every item of 'Targets' of {action} needs its primary key '{table.primary_id}'"
        + (" or an '@odata.id'." if action == "UpsertMultiple" else "."),
        code="0x80040203",
    )

"""``GET <set>?fetchXml=<FetchXml>`` and ``GET <set>?savedQuery=<view id>``: a collection
chosen by FetchXml, the query a view stores (:mod:`sandbox.odata.fetchxml` evaluates it).

As in Dataverse, the FetchXml's entity must be the entity set's table, a ``savedQuery``
must name an existing view of that table, and the rows come back with the FetchXml's
attributes (a lookup as ``_<name>_value``), in its order.
"""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.wrappers import Response

from plugins.core.schema import Table

from .. import errors
from ..http import json_response
from ..odata import fetchxml
from .context import ApiContext
from .representation import RowWriter, collection_context

PARAMETERS = ("fetchXml", "savedQuery")
_REFUSED = "0x80040203"


def handles(ctx: ApiContext) -> bool:
    """Whether the request asks for a FetchXml query or a view."""
    return any(name in ctx.request.args for name in PARAMETERS)


def get_collection(ctx: ApiContext, table: Table) -> Response:
    """The rows the FetchXml (given, or the view's) returns."""
    text = ctx.request.args.get("fetchXml")
    view_id = ctx.request.args.get("savedQuery")
    if view_id is not None:
        view = ctx.store.get("savedquery", view_id.strip("{}").lower())
        if view is None:
            raise errors.row_not_found("savedquery", view_id)
        if view.values.get("returnedtypecode") != table.logical_name:
            raise errors.bad_request(
                f"The view {view_id} returns '{view.values.get('returnedtypecode')}', not "
                f"'{table.logical_name}'.", code=_REFUSED,
            )
        text = view.values.get("fetchxml")
    try:
        query = fetchxml.parse(text or "", lambda name: _table(ctx, name))
    except fetchxml.FetchXmlError as exc:
        raise errors.bad_request(f"fetchXml: {exc}", code=_REFUSED) from exc
    if query.entity != table.logical_name:
        raise errors.bad_request(
            f"The FetchXml queries '{query.entity}', not '{table.logical_name}'.", code=_REFUSED
        )
    rows = fetchxml.evaluate(query, ctx.store.rows(table.logical_name), datetime.now(UTC))
    select = None if query.columns is None else tuple(
        f"_{c}_value" if table.columns[c].type == "lookup" else c for c in query.columns
    )
    writer = RowWriter(ctx, table, select)
    return json_response({
        "@odata.context": collection_context(ctx, table, select),
        "value": [writer.write(row) for row in rows],
    })


def _table(ctx: ApiContext, name: str) -> Table | None:
    return next((t for t in ctx.store.schema.tables if t.logical_name == name), None)

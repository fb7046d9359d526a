"""The Dataverse Web API (OData v4) under ``/api/data/v9.2/``: routing to the handlers.

Handlers live by concern: ``reads`` (GET and query options), ``writes`` (create, update,
upsert, delete, references), ``bulk`` (CreateMultiple / UpdateMultiple / UpsertMultiple),
``batch`` (``$batch``), ``actions`` (actions bound to one row: SendEmail,
AddPrivilegesRole), ``functions`` (WhoAmI and the metadata the clients ask for) and
``customization`` (solutions, forms, views, apps: their checks, actions and functions),
``roles`` (privileges, role actions and the role relationships) and ``fetch`` (a view's
FetchXml as a query).
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from plugins.core.schema import Schema

from .. import errors
from ..config import SandboxConfig
from ..store import Caller, Store
from . import actions, batch, bulk, customization, fetch, functions, reads, roles, writes
from .context import API_PATH, ApiContext, Preferences
from .resource import PathError, parse_resource

ACTION_PREFIX = "Microsoft.Dynamics.CRM."


class WebApi:
    """Answers one Web API request for one authenticated caller."""

    def __init__(
        self, store: Store, organization_name: str = SandboxConfig.organization_name
    ) -> None:
        self.store = store
        self.organization_name = organization_name

    @property
    def schema(self) -> Schema:
        return self.store.schema

    def dispatch(self, request: Request, caller: Caller) -> Response:
        """Route ``request`` to its handler; errors surface as :class:`ODataError`."""
        path = request.path
        if not path.startswith(API_PATH):
            raise errors.unknown_segment(path)
        try:
            resource = parse_resource(path[len(API_PATH) :])
        except PathError as exc:
            raise errors.unknown_segment(exc.segment) from exc
        ctx = ApiContext(self, request, caller, Preferences.parse(request.headers.get("Prefer")))
        method = request.method
        name = resource.name

        if name == "$batch":
            if method != "POST":
                raise errors.method_not_allowed(method, request.url)
            return batch.run_batch(ctx)
        if functions.handles(name):
            return functions.call(ctx, resource)
        if customization.handles(name):
            return customization.call(ctx, resource)
        if roles.handles(name):
            return roles.call(ctx, resource)

        table = self.schema.by_entity_set(name)
        if table is None:
            raise errors.unknown_segment(name)

        if resource.key is None:
            if resource.segments:
                action = resource.segments[0]
                if len(resource.segments) == 1 and action.startswith(ACTION_PREFIX):
                    if method != "POST":
                        raise errors.method_not_allowed(method, request.url)
                    return bulk.run_action(ctx, table, action[len(ACTION_PREFIX) :])
                raise errors.unknown_segment(action)
            if method == "GET" and fetch.handles(ctx):
                return fetch.get_collection(ctx, table)
            if method == "GET":
                return reads.get_collection(ctx, table)
            if method == "POST":
                return writes.create(ctx, table)
            raise errors.method_not_allowed(method, request.url)

        key = resource.key
        if not resource.segments:
            if method == "GET":
                return reads.get_row(ctx, table, key)
            if method == "PATCH":
                return writes.patch(ctx, table, key)
            if method == "DELETE":
                return writes.delete_row(ctx, table, key)
            raise errors.method_not_allowed(method, request.url)

        if len(resource.segments) != 1:
            raise errors.unknown_segment(resource.segments[-1])
        prop = resource.segments[0]
        if roles.is_association(table, prop) and method in ("GET", "POST"):
            if method == "POST" and resource.ref:
                return roles.associate(ctx, table, key, prop)
            if method == "GET" and not resource.ref:
                return roles.associated_roles(ctx, table, key, prop)
        if prop.startswith(ACTION_PREFIX) and not resource.ref:
            if method != "POST":
                raise errors.method_not_allowed(method, request.url)
            return actions.run(ctx, table, key, prop[len(ACTION_PREFIX) :])
        if resource.ref:
            if method == "GET":
                return reads.get_refs(ctx, table, key, prop)
            if method == "POST":
                return writes.add_ref(ctx, table, key, prop)
            if method == "PUT":
                return writes.put_ref(ctx, table, key, prop)
            if method == "DELETE":
                return writes.delete_ref(ctx, table, key, prop, resource.nav_key)
            raise errors.method_not_allowed(method, request.url)
        if method == "GET":
            return reads.get_property(ctx, table, key, prop)
        if method == "PUT":
            return writes.put_property(ctx, table, key, prop)
        if method == "DELETE":
            return writes.delete_property(ctx, table, key, prop)
        raise errors.method_not_allowed(method, request.url)

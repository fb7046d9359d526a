"""Unbound functions and the metadata entity sets: ``WhoAmI`` and what clients read about
the schema (``EntityDefinitions``, ``RelationshipDefinitions``,
``GlobalOptionSetDefinitions``, see :mod:`.metadata`; POSTs that create definitions, see
:mod:`.metadata_writes`)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..errors import ODataError
from ..http import json_response
from ..steps.context import Organization
from . import metadata, metadata_writes
from .context import ApiContext
from .resource import Resource

METADATA_SETS = frozenset(
    {"EntityDefinitions", "RelationshipDefinitions", "GlobalOptionSetDefinitions"}
)
WHO_AM_I = "WhoAmI"


def handles(name: str) -> bool:
    """Whether ``name`` (the first path segment) is served here."""
    return name == WHO_AM_I or name in METADATA_SETS


def call(ctx: ApiContext, resource: Resource) -> Response:
    """Answer a request whose first segment :func:`handles` accepted."""
    if resource.name == WHO_AM_I:
        return who_am_i(ctx, resource)
    if ctx.request.method == "POST":
        return metadata_writes.create(ctx, resource)
    return metadata.serve(ctx, resource)


def who_am_i(ctx: ApiContext, resource: Resource) -> Response:
    """``GET WhoAmI()``: the caller's user id, business unit and organisation."""
    if ctx.request.method != "GET" or resource.key is not None or resource.segments:
        # Dataverse routes functions by method and shape; anything else matches no resource.
        raise ODataError(
            404, "", f"No HTTP resource was found that matches the request URI '{ctx.request.url}'."
        )
    organization = Organization.named(ctx.api.organization_name)
    return json_response(
        {
            "@odata.context": f"{ctx.service_root}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
            "BusinessUnitId": organization.business_unit_id,
            "UserId": ctx.caller.user_id,
            "OrganizationId": organization.id,
        }
    )

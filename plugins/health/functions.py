"""The health route: one HTTP trigger that reports :func:`service.check_health`.

The check (and the admin helpers it uses) is imported on the first probe
(:class:`plugins.core.lazy.LazyModule`), not when the Function App starts.
"""

from __future__ import annotations

import json

import azure.functions as func

from plugins.core.body_limits import HEALTH_MAX_BYTES, body_too_large
from plugins.core.lazy import LazyModule

service = LazyModule("plugins.health.service")

blueprint = func.Blueprint()


@blueprint.function_name("health")
@blueprint.route(route="health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """``GET /api/health``: 200 when every check passes, 503 naming the one that fails."""
    if body_too_large(req.headers, len(req.get_body()), HEALTH_MAX_BYTES):
        return func.HttpResponse("A health probe carries no body.", status_code=413)
    report = service.check_health()
    return func.HttpResponse(
        json.dumps(report.as_dict()),
        status_code=200 if report.ok else 503,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )

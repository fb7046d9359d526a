"""The health route: one HTTP trigger that reports :func:`service.check_health`."""

from __future__ import annotations

import json

import azure.functions as func

from .service import check_health

blueprint = func.Blueprint()


@blueprint.function_name("health")
@blueprint.route(route="health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """``GET /api/health``: 200 when every check passes, 503 naming the one that fails."""
    report = check_health()
    return func.HttpResponse(
        json.dumps(report.as_dict()),
        status_code=200 if report.ok else 503,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )

"""Small helpers to build the sandbox's HTTP responses the way Dataverse shapes them."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from .errors import ODataError

ODATA_JSON = "application/json; odata.metadata=minimal"


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON body with the OData headers every Web API answer carries."""
    response = Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status=status,
        content_type=ODATA_JSON,
    )
    response.headers["OData-Version"] = "4.0"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    response = Response(status=status)
    del response.headers["Content-Type"]
    response.headers["OData-Version"] = "4.0"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: ODataError) -> Response:
    response = json_response(error.envelope(), status=error.status, headers=error.headers)
    return response

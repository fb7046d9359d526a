"""Webhook delivery (``serviceendpoint`` contract 8), as Dataverse posts it (reference §1.1-1.3,
§1.7).

POST of the serialised ``RemoteExecutionContext`` with lower-case ``x-ms-dynamics-*`` headers,
authentication by ``authtype`` (4 WebhookKey ``?code=``, 5 HttpHeader, 6 HttpQueryString, the
latter two from ``<settings><setting name=".." value=".."/></settings>``), only the status
code read, a single retry on 502/503/504, and the four bulky members dropped above 256 KB.

Real Dataverse only calls ports 80 and 443; the sandbox also calls loopback ports so tests and
the local functions host can receive.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ElementTree

import requests

from . import encoding
from .context import without_bulky_members
from .delivery import Delivery, DeliveryFailedError
from .registrations import AUTH_HTTP_HEADER, AUTH_HTTP_QUERY_STRING, AUTH_WEBHOOK_KEY

SIZE_LIMIT = 256 * 1024
RETRIED_STATUSES = frozenset({502, 503, 504})


def post(delivery: Delivery, timeout: float) -> None:
    """Deliver to the webhook; raise :class:`DeliveryFailedError` unless it answers 2xx."""
    endpoint = delivery.endpoint
    if not endpoint.url:
        raise DeliveryFailedError(
            f"Webhook '{endpoint.name}' has no url.", "The webhook is not configured."
        )
    body = encoding.dumps(delivery.context).encode("utf-8")
    headers = {
        "x-ms-dynamics-organization": delivery.organization_host,
        "x-ms-dynamics-entity-name": delivery.entity_name,
        "x-ms-dynamics-request-name": delivery.message_name,
        "x-ms-correlation-request-id": delivery.correlation_id,
        "content-type": "application/json",
    }
    if len(body) > SIZE_LIMIT:
        body = encoding.dumps(without_bulky_members(delivery.context)).encode("utf-8")
        headers["x-ms-dynamics-msg-size-exceeded"] = "true"
    params: dict[str, str] = {}
    if endpoint.authtype == AUTH_WEBHOOK_KEY:
        params["code"] = endpoint.authvalue or ""
    elif endpoint.authtype == AUTH_HTTP_HEADER:
        headers.update(_settings(endpoint.authvalue, endpoint.name))
    elif endpoint.authtype == AUTH_HTTP_QUERY_STRING:
        params.update(_settings(endpoint.authvalue, endpoint.name))

    status = _attempt(endpoint.url, endpoint.name, body, headers, params, timeout)
    if status in RETRIED_STATUSES:
        status = _attempt(endpoint.url, endpoint.name, body, headers, params, timeout)
    if not 200 <= status < 300:
        raise DeliveryFailedError(
            f"Webhook '{endpoint.name}' answered HTTP {status}.",
            f"The webhook endpoint returned an error (HTTP {status}).",
        )


def _attempt(
    url: str,
    name: str,
    body: bytes,
    headers: dict[str, str],
    params: dict[str, str],
    timeout: float,
) -> int:
    try:
        response = requests.post(
            url,
            data=body,
            headers={**headers, "x-request-id": str(uuid.uuid4())},
            params=params,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise DeliveryFailedError(
            f"Webhook '{name}' did not answer within {timeout:g} seconds.",
            "The webhook endpoint timed out.",
        ) from exc
    except requests.RequestException as exc:
        raise DeliveryFailedError(
            f"Webhook '{name}' could not be reached ({exc.__class__.__name__}).",
            "The webhook endpoint could not be reached.",
        ) from exc
    response.close()
    return response.status_code


def _settings(authvalue: str | None, name: str) -> dict[str, str]:
    """Pairs from ``<settings><setting name="K" value="V"/></settings>``."""
    try:
        root = ElementTree.fromstring(authvalue or "<settings/>")
    except ElementTree.ParseError as exc:
        raise DeliveryFailedError(
            f"Webhook '{name}' has an authvalue that is not <settings> XML.",
            "The webhook's authentication settings are invalid.",
        ) from exc
    return {
        setting.get("name", ""): setting.get("value", "")
        for setting in root.iter("setting")
        if setting.get("name")
    }

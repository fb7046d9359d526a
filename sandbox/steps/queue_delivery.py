"""Service Bus delivery (``serviceendpoint`` contract 2 Queue, 5 Topic, 6 persistent Queue) to
the sandbox's namespace (reference §2.3-2.5).

The JSON body is the serialised ``RemoteExecutionContext`` with ``Content-Type``
``application/json``; the application properties are Dataverse's claims. Above 192 KB the
four bulky members are dropped and a ``MessageMaxSizeExceeded`` property is added; if the
message is still too big it is not sent. Topics go to the queue named by ``path`` (the
namespace has queues only). Binary XML and text XML formats are not produced.
"""

from __future__ import annotations

from typing import Any

from ..servicebus import Namespace
from . import encoding
from .context import without_bulky_members
from .delivery import Delivery, DeliveryFailedError
from .registrations import MESSAGE_FORMAT_JSON, SERVICE_BUS_CONTRACTS

SIZE_LIMIT = 192 * 1024
CLAIMS = "http://schemas.microsoft.com/xrm/2011/Claims/"
SIZE_EXCEEDED_PROPERTY = CLAIMS + "MessageMaxSizeExceeded"


def send(delivery: Delivery, namespace: Namespace) -> None:
    """Put the context on the endpoint's queue; raise :class:`DeliveryFailedError` if not."""
    endpoint = delivery.endpoint
    if endpoint.contract not in SERVICE_BUS_CONTRACTS:
        raise DeliveryFailedError(
            f"Service endpoint '{endpoint.name}' has contract {endpoint.contract}, which the "
            "sandbox does not support (webhook 8 and Service Bus queue/topic 2, 5, 6 only).",
            "The service endpoint type is not supported by the sandbox.",
        )
    if endpoint.messageformat not in (None, MESSAGE_FORMAT_JSON):
        raise DeliveryFailedError(
            f"Service endpoint '{endpoint.name}' uses message format {endpoint.messageformat} "
            "(binary or text XML), which is not supported by the sandbox; use 2 (Json).",
            "The message format is not supported by the sandbox.",
        )
    if not endpoint.path:
        raise DeliveryFailedError(
            f"Service endpoint '{endpoint.name}' has no path (queue name).",
            "The service endpoint is not configured.",
        )
    properties = claims(delivery)
    body = encoding.dumps(delivery.context).encode("utf-8")
    if len(body) > SIZE_LIMIT:
        body = encoding.dumps(without_bulky_members(delivery.context)).encode("utf-8")
        properties[SIZE_EXCEEDED_PROPERTY] = True
        if len(body) > SIZE_LIMIT:
            raise DeliveryFailedError(
                f"The execution context is {len(body)} bytes after trimming, over the "
                f"{SIZE_LIMIT}-byte Service Bus limit; no message was sent.",
                "The message is too large for Azure Service Bus.",
            )
    try:
        namespace.send(
            endpoint.path, body, content_type="application/json",
            application_properties=properties,
        )
    except ValueError as exc:
        raise DeliveryFailedError(
            f"Service endpoint '{endpoint.name}' names an invalid queue: {exc}.",
            "The service endpoint is not configured.",
        ) from exc


def claims(delivery: Delivery) -> dict[str, Any]:
    """The application properties Dataverse sets on every message (reference §2.4)."""
    return {
        CLAIMS + "Organization": delivery.organization_host,
        CLAIMS + "User": delivery.user_id,
        CLAIMS + "InitiatingUser": delivery.initiating_user_id,
        CLAIMS + "EntityLogicalName": delivery.entity_name,
        CLAIMS + "RequestName": delivery.message_name,
        CLAIMS + "InitiatingUserAgent": delivery.user_agent,
    }

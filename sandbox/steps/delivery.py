"""One context on its way to one endpoint, and how a delivery fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .registrations import Endpoint


class DeliveryFailedError(Exception):
    """The endpoint did not take the context.

    ``message`` is the technical detail (the system job's ``message``), ``friendly`` the
    short text for users (its ``friendlymessage``). Neither holds the endpoint's secrets.
    """

    def __init__(self, message: str, friendly: str) -> None:
        super().__init__(message)
        self.message = message
        self.friendly = friendly


@dataclass(frozen=True)
class Delivery:
    """A serialisable context plus the facts its transport headers/properties carry."""

    endpoint: Endpoint
    context: dict[str, Any]
    organization_host: str
    entity_name: str
    message_name: str
    correlation_id: str
    user_id: str
    initiating_user_id: str
    user_agent: str

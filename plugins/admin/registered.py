"""What is registered in Dataverse now: the product's endpoints, steps and images.

The product's rows are found by name prefix on the server and by the description marker on
this side (:func:`is_managed`); other rows are never returned as the product's, only
counted where they hang off a managed endpoint (deleting that endpoint would cascade them).
Message and filter ids are looked up the way reference §5.2 steps 2-3 do it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient

from .catalog import MARKER, NAME_PREFIX

ENDPOINTS = "serviceendpoints"
STEPS = "sdkmessageprocessingsteps"
IMAGES = "sdkmessageprocessingstepimages"
MESSAGES = "sdkmessages"
FILTERS = "sdkmessagefilters"

ENDPOINT_COLUMNS = (
    "serviceendpointid", "name", "description", "contract", "url", "authtype",
    "namespaceaddress", "namespaceformat", "solutionnamespace", "path", "saskeyname",
    "messageformat", "messagecharset", "userclaim", "connectionmode",
)
STEP_COLUMNS = (
    "sdkmessageprocessingstepid", "name", "description", "stage", "mode", "rank",
    "supporteddeployment", "filteringattributes", "asyncautodelete", "statecode",
    "_eventhandler_value", "_sdkmessageid_value", "_sdkmessagefilterid_value",
)
IMAGE_COLUMNS = (
    "sdkmessageprocessingstepimageid", "name", "entityalias", "imagetype",
    "messagepropertyname", "attributes", "_sdkmessageprocessingstepid_value",
)
STATE_ENABLED = 0


class MissingMessageError(LookupError):
    """Dataverse has no such message, or the message is not available on the table."""


@dataclass(frozen=True)
class Row:
    """A row as read: its id, name and every selected column."""

    id: str
    name: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class StepRow(Row):
    """A step with the message and table it is registered for."""

    message: str | None = None
    table: str | None = None

    @property
    def endpoint_id(self) -> str | None:
        """The endpoint the step delivers to."""
        return _lower(self.values.get("_eventhandler_value"))

    @property
    def enabled(self) -> bool:
        """Whether the step runs (``statecode`` 0)."""
        return self.values.get("statecode") == STATE_ENABLED


@dataclass(frozen=True)
class Registered:
    """The product's rows in Dataverse, and how many other steps use its endpoints."""

    endpoints: tuple[Row, ...]
    steps: tuple[StepRow, ...]
    images: tuple[Row, ...]
    foreign_steps: Mapping[str, int]

    def images_of(self, step_id: str) -> tuple[Row, ...]:
        """The images registered on one step."""
        return tuple(
            image for image in self.images
            if _lower(image.values.get("_sdkmessageprocessingstepid_value")) == step_id
        )


def is_managed(row: Mapping[str, Any]) -> bool:
    """Whether a row was registered by the product: prefixed name and marked description."""
    name = row.get("name") or ""
    description = (row.get("description") or "").rstrip()
    return name.startswith(NAME_PREFIX) and description.endswith(MARKER)


def read_registered(client: DataverseClient) -> Registered:
    """Read the product's endpoints, steps and images (GETs only)."""
    prefix = odata.startswith("name", NAME_PREFIX)
    endpoints = tuple(
        _row(values, "serviceendpointid")
        for values in client.query(ENDPOINTS, select=ENDPOINT_COLUMNS, filter=prefix)
        if is_managed(values)
    )
    steps = tuple(
        _step(values)
        for values in client.query(
            STEPS,
            select=STEP_COLUMNS,
            filter=prefix,
            expand=[
                odata.Expand("sdkmessageid", select=["name"]),
                odata.Expand("sdkmessagefilterid", select=["primaryobjecttypecode"]),
            ],
        )
        if is_managed(values)
    )
    return Registered(
        endpoints=endpoints,
        steps=steps,
        images=_images(client, [step.id for step in steps]),
        foreign_steps=_foreign_steps(client, [endpoint.id for endpoint in endpoints]),
    )


def message_id(client: DataverseClient, message: str) -> str:
    """``GET sdkmessages?$select=sdkmessageid,name&$filter=name eq '<message>'``."""
    rows = list(
        client.query(MESSAGES, select=["sdkmessageid", "name"], filter=odata.eq("name", message))
    )
    if not rows:
        raise MissingMessageError(f"Dataverse has no message named {message!r}")
    return str(rows[0]["sdkmessageid"]).lower()


def filter_id(client: DataverseClient, message: str, table: str) -> str:
    """The ``sdkmessagefilter`` of a message on a table, by message name and table name."""
    condition = odata.eq("primaryobjecttypecode", table) & odata.eq("sdkmessageid/name", message)
    rows = list(client.query(FILTERS, select=["sdkmessagefilterid"], filter=condition))
    if not rows:
        raise MissingMessageError(f"Dataverse has no {message} message for table {table!r}")
    return str(rows[0]["sdkmessagefilterid"]).lower()


def _images(client: DataverseClient, step_ids: list[str]) -> tuple[Row, ...]:
    if not step_ids:
        return ()
    condition = odata.in_(
        "_sdkmessageprocessingstepid_value", [uuid.UUID(step_id) for step_id in step_ids]
    )
    return tuple(
        _row(values, "sdkmessageprocessingstepimageid")
        for values in client.query(IMAGES, select=IMAGE_COLUMNS, filter=condition)
    )


def _foreign_steps(client: DataverseClient, endpoint_ids: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for endpoint_id in endpoint_ids:
        rows = client.query(
            STEPS,
            select=["sdkmessageprocessingstepid", "name", "description"],
            filter=odata.eq("_eventhandler_value", uuid.UUID(endpoint_id)),
        )
        foreign = sum(1 for values in rows if not is_managed(values))
        if foreign:
            counts[endpoint_id] = foreign
    return counts


def _row(values: Mapping[str, Any], id_column: str) -> Row:
    return Row(id=str(values[id_column]).lower(), name=values.get("name") or "", values=values)


def _step(values: Mapping[str, Any]) -> StepRow:
    message = values.get("sdkmessageid") or {}
    table = values.get("sdkmessagefilterid") or {}
    return StepRow(
        id=str(values["sdkmessageprocessingstepid"]).lower(),
        name=values.get("name") or "",
        values=values,
        message=message.get("name"),
        table=table.get("primaryobjecttypecode"),
    )


def _lower(value: Any) -> str | None:
    return str(value).lower() if value else None

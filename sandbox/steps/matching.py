"""Which registered steps fire for an event, read from the step tables of the store."""

from __future__ import annotations

from typing import Any

from ..store import ChangeEvent, Lookup, Row, Store
from .registrations import CONTRACT_WEBHOOK, Endpoint, Image, Step, column_list

STEP_TABLE = "sdkmessageprocessingstep"
IMAGE_TABLE = "sdkmessageprocessingstepimage"
ENABLED = 0


def matching_steps(store: Store, event: ChangeEvent) -> list[Step]:
    """Enabled steps for the event's message and table, by stage then rank.

    An Update step with filtering attributes fires only when one of them is in the update;
    a step without a message filter applies to every table.
    """
    if store.count(STEP_TABLE) == 0:
        return []
    matched: list[Step] = []
    changed = set(event.target) if event.message == "Update" else set()
    for row in store.rows(STEP_TABLE):
        values = row.values
        if values.get("statecode", ENABLED) != ENABLED:
            continue
        if _message_name(store, values.get("sdkmessageid")) != event.message:
            continue
        if not _applies_to_table(store, values.get("sdkmessagefilterid"), event.table):
            continue
        step = _step(store, row)
        if step is None:
            continue
        if event.message == "Update" and step.filtering_attributes and not (
            changed & set(step.filtering_attributes)
        ):
            continue
        matched.append(step)
    return sorted(matched, key=lambda s: (s.stage, s.rank))


def _message_name(store: Store, reference: Any) -> str | None:
    if not isinstance(reference, Lookup):
        return None
    message = store.get("sdkmessage", reference.id)
    return message.values.get("name") if message else None


def _applies_to_table(store: Store, reference: Any, table: str) -> bool:
    if not isinstance(reference, Lookup):
        return True
    message_filter = store.get("sdkmessagefilter", reference.id)
    return (
        message_filter is not None
        and message_filter.values.get("primaryobjecttypecode") == table
    )


def _step(store: Store, row: Row) -> Step | None:
    values = row.values
    endpoint = _endpoint(store, values.get("eventhandler"))
    if endpoint is None:
        return None
    return Step(
        id=row.id,
        name=values.get("name"),
        stage=int(values["stage"]),
        mode=int(values["mode"]),
        rank=int(values["rank"]) if values.get("rank") is not None else 1,
        endpoint=endpoint,
        images=_images(store, row.id),
        filtering_attributes=column_list(values.get("filteringattributes")),
        async_auto_delete=bool(values.get("asyncautodelete")),
    )


def _endpoint(store: Store, reference: Any) -> Endpoint | None:
    if not isinstance(reference, Lookup) or reference.table != "serviceendpoint":
        return None
    row = store.get("serviceendpoint", reference.id)
    if row is None:
        return None
    values = row.values
    return Endpoint(
        id=row.id,
        name=values.get("name") or "",
        contract=int(values.get("contract") or CONTRACT_WEBHOOK),
        url=values.get("url"),
        authtype=values.get("authtype"),
        authvalue=values.get("authvalue"),
        path=values.get("path"),
        messageformat=values.get("messageformat"),
    )


def _images(store: Store, step_id: str) -> tuple[Image, ...]:
    images: list[Image] = []
    for row in store.rows(IMAGE_TABLE):
        owner = row.values.get("sdkmessageprocessingstepid")
        if isinstance(owner, Lookup) and owner.id.lower() == step_id:
            images.append(
                Image(
                    alias=row.values.get("entityalias") or row.values.get("name") or "Image",
                    image_type=int(row.values.get("imagetype") or 0),
                    attributes=column_list(row.values.get("attributes")),
                )
            )
    return tuple(images)

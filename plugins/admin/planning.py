"""Compare what should be registered with what is, item by item (pure: no I/O).

Each endpoint, step and image is to be created, updated (only the columns and lookups that
differ), deleted (the product's rows that are no longer wanted, and duplicates) or left
unchanged. Steps are never enabled or disabled: an admin may have paused one on purpose, so
the plan only notes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from .catalog import DEPLOYMENT_SERVER, IMAGE_TYPE_NAMES, ImageSpec, StepSpec
from .endpoint import EndpointSpec
from .plan import Action, Kind, Link, Plan, PlanItem
from .registered import ENDPOINTS, FILTERS, MESSAGES, STEPS, Registered, Row, StepRow

_LIST_COLUMNS = frozenset({"filteringattributes", "attributes"})
_R = TypeVar("_R", bound=Row)


@dataclass(frozen=True)
class MessageIds:
    """The ids of the messages and message filters the steps need.

    ``messages`` maps a message name to its ``sdkmessageid``; ``filters`` maps
    ``(message, table)`` to its ``sdkmessagefilterid``.
    """

    messages: Mapping[str, str]
    filters: Mapping[tuple[str, str], str]


def registration_plan(
    endpoint: EndpointSpec,
    specs: Iterable[StepSpec],
    registered: Registered,
    ids: MessageIds,
) -> Plan:
    """The plan that makes Dataverse hold exactly this endpoint and these steps."""
    current_endpoint = _first(registered.endpoints, endpoint.name)
    endpoint_id = current_endpoint.id if current_endpoint else None
    items = [_endpoint_item(endpoint, current_endpoint)]
    kept: set[str] = set()
    for spec in specs:
        current = _first(registered.steps, spec.name)
        if current is not None:
            kept.add(current.id)
        items.append(_step_item(spec, current, endpoint.name, endpoint_id, ids))
        items += _image_items(spec, current, registered)
    for step in registered.steps:
        if step.id not in kept:
            items += _step_removal(step, registered)
    items += [
        _endpoint_removal(row, registered)
        for row in registered.endpoints
        if row is not current_endpoint
    ]
    return Plan(tuple(items))


def unregistration_plan(registered: Registered) -> Plan:
    """The plan that deletes every row the product registered."""
    items = [item for step in registered.steps for item in _step_removal(step, registered)]
    items += [_endpoint_removal(row, registered) for row in registered.endpoints]
    return Plan(tuple(items))


def _first(rows: Iterable[_R], name: str) -> _R | None:
    """The first row named ``name``; any later one is a duplicate the plan removes."""
    return next((row for row in rows if row.name == name), None)


def _endpoint_item(spec: EndpointSpec, current: Row | None) -> PlanItem:
    desired = {"name": spec.name, **spec.columns, "description": spec.description}
    if current is None:
        values = {**desired, spec.secret_column: spec.secret}
        return PlanItem(Kind.ENDPOINT, spec.name, Action.CREATE, spec.summary, values=values)
    changed = _changed(desired, current.values)
    values = {column: desired[column] for column in changed}
    if "description" in changed:
        # The description carries the key's fingerprint: a new one means a new key.
        values[spec.secret_column] = spec.secret
        changed = (*changed, spec.secret_column)
    return _update_or_unchanged(
        Kind.ENDPOINT, spec.name, spec.summary, current.id, changed, values
    )


def _step_item(
    spec: StepSpec,
    current: StepRow | None,
    endpoint_name: str,
    endpoint_id: str | None,
    ids: MessageIds,
) -> PlanItem:
    desired: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "stage": spec.stage,
        "mode": spec.mode,
        "rank": spec.rank,
        "supporteddeployment": DEPLOYMENT_SERVER,
        "filteringattributes": ",".join(spec.filtering_attributes) or None,
        "asyncautodelete": spec.async_auto_delete,
    }
    message = ids.messages[spec.message]
    message_filter = ids.filters[(spec.message, spec.table)]
    links = {
        "_eventhandler_value": (
            Link("eventhandler_serviceendpoint", ENDPOINTS, item=endpoint_name), endpoint_id
        ),
        "_sdkmessageid_value": (Link("sdkmessageid", MESSAGES, row_id=message), message),
        "_sdkmessagefilterid_value": (
            Link("sdkmessagefilterid", FILTERS, row_id=message_filter), message_filter
        ),
    }
    if current is None:
        return PlanItem(
            Kind.STEP, spec.name, Action.CREATE, spec.summary, values=desired,
            links=tuple(link for link, _ in links.values()),
        )
    changed = _changed(desired, current.values)
    changed_links = tuple(
        link for column, (link, wanted) in links.items()
        if wanted is None or str(current.values.get(column) or "").lower() != wanted
    )
    item = _update_or_unchanged(
        Kind.STEP, spec.name, spec.summary, current.id,
        (*changed, *(link.navigation for link in changed_links)),
        {column: desired[column] for column in changed},
        changed_links,
    )
    if not current.enabled:
        item = replace(item, note="disabled in Dataverse; left disabled")
    return item


def _image_items(
    spec: StepSpec, current: StepRow | None, registered: Registered
) -> Iterator[PlanItem]:
    existing = registered.images_of(current.id) if current else ()
    kept: set[str] = set()
    for image in spec.images:
        found = _first(existing, image.name)
        if found is not None:
            kept.add(found.id)
        yield _image_item(image, spec.name, found)
    for row in existing:
        if row.id not in kept:
            yield _image_removal(row, spec.name)


def _image_item(image: ImageSpec, step_name: str, current: Row | None) -> PlanItem:
    desired = {
        "name": image.name,
        "entityalias": image.name,
        "imagetype": image.image_type,
        "messagepropertyname": image.message_property,
        "attributes": ",".join(image.attributes) or None,
    }
    columns = ",".join(image.attributes) or "all columns"
    summary = f"{IMAGE_TYPE_NAMES[image.image_type]} of {columns}"
    if current is None:
        link = Link("sdkmessageprocessingstepid", STEPS, item=step_name)
        return PlanItem(
            Kind.IMAGE, image.name, Action.CREATE, summary, values=desired, links=(link,),
            parent=step_name,
        )
    changed = _changed(desired, current.values)
    item = _update_or_unchanged(
        Kind.IMAGE, image.name, summary, current.id, changed,
        {column: desired[column] for column in changed},
    )
    return replace(item, parent=step_name)


def _step_removal(step: StepRow, registered: Registered) -> list[PlanItem]:
    """Delete a step and, first, its images (explicitly, not by cascade)."""
    images = [_image_removal(image, step.name) for image in registered.images_of(step.id)]
    summary = f"{step.message or '?'} of {step.table or '?'}"
    return [*images, PlanItem(Kind.STEP, step.name, Action.DELETE, summary, row_id=step.id)]


def _image_removal(image: Row, step_name: str) -> PlanItem:
    return PlanItem(Kind.IMAGE, image.name, Action.DELETE, row_id=image.id, parent=step_name)


def _endpoint_removal(row: Row, registered: Registered) -> PlanItem:
    foreign = registered.foreign_steps.get(row.id, 0)
    if foreign:
        return PlanItem(
            Kind.ENDPOINT, row.name, Action.UNCHANGED, row_id=row.id,
            note=f"kept: {foreign} step(s) not registered by member-plugins use it "
            "(deleting it would delete them too)",
        )
    return PlanItem(Kind.ENDPOINT, row.name, Action.DELETE, row_id=row.id)


def _update_or_unchanged(
    kind: Kind,
    name: str,
    summary: str,
    row_id: str,
    changed: tuple[str, ...],
    values: Mapping[str, Any],
    links: tuple[Link, ...] = (),
) -> PlanItem:
    action = Action.UPDATE if changed else Action.UNCHANGED
    return PlanItem(kind, name, action, summary, row_id, changed, values, links)


def _changed(desired: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        column for column, value in desired.items()
        if _normal(column, value) != _normal(column, current.get(column))
    )


def _normal(column: str, value: Any) -> Any:
    """Compare like Dataverse means it: column lists as sets, unset flags as false."""
    if column in _LIST_COLUMNS:
        return frozenset(p.strip().lower() for p in str(value or "").split(",") if p.strip())
    if column == "asyncautodelete":
        return bool(value)
    return value

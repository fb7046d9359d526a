"""Register, update and remove the product's endpoint, steps and images through the Web API.

- :func:`plan_registration` reads what is registered (GETs only), looks up the message and
  filter ids, and lets :mod:`plugins.admin.planning` compare it with the catalog and the
  delivery options.
- :func:`apply` writes a plan in ONE ``$batch`` change set, so Dataverse applies all of it or
  none; new rows are bound to each other by Content-ID (``$1``). An empty plan sends nothing,
  which is what makes a second ``register`` a no-op.
- :func:`plan_unregistration` / :func:`unregister` remove exactly the product's rows (prefixed
  name and marked description, see :mod:`plugins.admin.registered`). An endpoint that other
  steps also use is kept, because deleting it would cascade-delete those steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.batch import BatchRequest, ContentRef, RowAddress
from plugins.dataverse.client import DataverseClient

from .catalog import StepSpec, product_steps
from .endpoint import Delivery
from .plan import Action, Kind, Link, Plan, PlanItem
from .planning import MessageIds, registration_plan, unregistration_plan
from .registered import (
    ENDPOINTS,
    IMAGES,
    STEPS,
    MissingMessageError,
    filter_id,
    message_id,
    read_registered,
)

ENTITY_SETS = {Kind.ENDPOINT: ENDPOINTS, Kind.STEP: STEPS, Kind.IMAGE: IMAGES}
# Parents are written before children and deleted after them, so every bind finds its row
# and no delete hits a row a cascade already removed.
_WRITE_ORDER = {
    (Kind.ENDPOINT, Action.CREATE): 0,
    (Kind.ENDPOINT, Action.UPDATE): 0,
    (Kind.STEP, Action.CREATE): 1,
    (Kind.STEP, Action.UPDATE): 1,
    (Kind.IMAGE, Action.CREATE): 2,
    (Kind.IMAGE, Action.UPDATE): 2,
    (Kind.IMAGE, Action.DELETE): 3,
    (Kind.STEP, Action.DELETE): 4,
    (Kind.ENDPOINT, Action.DELETE): 5,
}


class RegistrationError(Exception):
    """The environment cannot take the registration as it stands (a message is missing)."""


@dataclass(frozen=True)
class RegistrationOptions:
    """What to register: how events are delivered, and for which schema map.

    ``steps`` replaces the catalog (tests, a partial registration); None registers every step
    of :func:`plugins.admin.catalog.product_steps` for ``schema_map``.
    """

    delivery: Delivery
    schema_map: SchemaMap = field(default_factory=SchemaMap)
    steps: tuple[StepSpec, ...] | None = None

    def step_specs(self) -> tuple[StepSpec, ...]:
        """The steps to register."""
        return self.steps if self.steps is not None else product_steps(self.schema_map)


def plan_registration(client: DataverseClient, options: RegistrationOptions) -> Plan:
    """What ``register`` would do now (reads only; DeliveryError for unusable options)."""
    endpoint = options.delivery.endpoint()
    specs = options.step_specs()
    registered = read_registered(client)
    return registration_plan(endpoint, specs, registered, _message_ids(client, specs))


def plan_unregistration(client: DataverseClient) -> Plan:
    """What ``unregister`` would do now: delete every row the product registered."""
    return unregistration_plan(read_registered(client))


def apply(client: DataverseClient, plan: Plan) -> int:
    """Write the plan in one change set (all or nothing); the number of writes sent."""
    writes = sorted(plan.writes, key=lambda item: _WRITE_ORDER[(item.kind, item.action)])
    if not writes:
        return 0
    batch = BatchRequest()
    changes = batch.changeset()
    addresses: dict[tuple[str, str], RowAddress] = {
        (ENTITY_SETS[item.kind], item.name): odata.entity_path(ENTITY_SETS[item.kind], item.row_id)
        for item in plan.items
        if item.row_id and item.kind is not Kind.IMAGE and item.action is not Action.DELETE
    }
    for item in writes:
        entity_set = ENTITY_SETS[item.kind]
        if item.action is Action.CREATE:
            addresses[(entity_set, item.name)] = changes.create(
                entity_set, _body(item, addresses)
            )
        elif item.action is Action.UPDATE:
            changes.update(_path(item), _body(item, addresses))
        else:
            changes.delete(_path(item))
    client.execute_batch(batch)
    return len(writes)


def register(client: DataverseClient, options: RegistrationOptions) -> Plan:
    """Plan and apply the registration; the plan that was applied."""
    plan = plan_registration(client, options)
    apply(client, plan)
    return plan


def unregister(client: DataverseClient) -> Plan:
    """Remove what the product registered; the plan that was applied."""
    plan = plan_unregistration(client)
    apply(client, plan)
    return plan


def _message_ids(client: DataverseClient, specs: Iterable[StepSpec]) -> MessageIds:
    """Look up each message and message filter the steps use, once."""
    messages: dict[str, str] = {}
    filters: dict[tuple[str, str], str] = {}
    try:
        for spec in specs:
            if spec.message not in messages:
                messages[spec.message] = message_id(client, spec.message)
            key = (spec.message, spec.table)
            if key not in filters:
                filters[key] = filter_id(client, spec.message, spec.table)
    except MissingMessageError as exc:
        raise RegistrationError(
            f"{exc}: create the product's tables first, or map them to yours (SCHEMA_MAP)"
        ) from exc
    return MessageIds(messages, filters)


def _path(item: PlanItem) -> str:
    if item.row_id is None:
        raise ValueError(f"{item.kind} {item.label}: no row id to {item.action}")
    return odata.entity_path(ENTITY_SETS[item.kind], item.row_id)


def _body(item: PlanItem, addresses: Mapping[tuple[str, str], RowAddress]) -> dict[str, Any]:
    body = dict(item.values)
    for link in item.links:
        body[f"{link.navigation}@odata.bind"] = _bind(link, addresses)
    return body


def _bind(link: Link, addresses: Mapping[tuple[str, str], RowAddress]) -> str:
    if link.row_id is not None:
        return odata.bind(link.entity_set, link.row_id)
    address = addresses.get((link.entity_set, link.item or ""))
    if address is None:
        raise ValueError(f"plan links to {link.entity_set} {link.item!r}, which it does not hold")
    return address.bind if isinstance(address, ContentRef) else "/" + address

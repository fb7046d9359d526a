"""What the product has registered in Dataverse, step by step, and what is missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plugins.core.schema_map import SchemaMap
from plugins.dataverse.client import DataverseClient

from .catalog import MODE_NAMES, STAGE_NAMES, StepSpec, product_steps
from .endpoint import CONTRACT_WEBHOOK
from .registered import MissingMessageError, Row, StepRow, filter_id, read_registered


@dataclass(frozen=True)
class EndpointStatus:
    """A registered endpoint and where it delivers."""

    name: str
    id: str
    summary: str


@dataclass(frozen=True)
class StepStatus:
    """A step of the catalog or registered by the product.

    ``registered`` False means the catalog has the step but Dataverse does not (run
    ``register``, or first ``provision`` when ``missing_table`` names the table it is on,
    which the environment does not have); ``in_catalog`` False means the product registered
    it but no longer needs it.
    """

    name: str
    summary: str
    registered: bool
    enabled: bool = False
    endpoint: str | None = None
    images: tuple[str, ...] = ()
    in_catalog: bool = True
    missing_table: str | None = None


@dataclass(frozen=True)
class RegistrationStatus:
    """Every endpoint and step of the product."""

    endpoints: tuple[EndpointStatus, ...]
    steps: tuple[StepStatus, ...]

    @property
    def complete(self) -> bool:
        """Every catalog step is registered and enabled."""
        return all(step.registered and step.enabled for step in self.steps if step.in_catalog)


def status(
    client: DataverseClient,
    schema_map: SchemaMap | None = None,
    steps: Sequence[StepSpec] | None = None,
) -> RegistrationStatus:
    """Read the product's registration (GETs only) and set it against the catalog."""
    specs = tuple(steps) if steps is not None else product_steps(schema_map or SchemaMap())
    registered = read_registered(client)
    endpoint_names = {row.id: row.name for row in registered.endpoints}
    by_name = {step.name: step for step in reversed(registered.steps)}
    catalog = {spec.name for spec in specs}
    rows: list[StepStatus] = []
    tables: dict[tuple[str, str], bool] = {}
    for spec in specs:
        found = by_name.get(spec.name)
        if found is None:
            key = (spec.message, spec.table)
            if key not in tables:
                tables[key] = _has_table(client, *key)
            missing = None if tables[key] else spec.table
            rows.append(StepStatus(spec.name, spec.summary, registered=False,
                                   missing_table=missing))
        else:
            images = tuple(image.name for image in registered.images_of(found.id))
            rows.append(_registered(found, endpoint_names, images, in_catalog=True))
    for step in registered.steps:
        if step.name not in catalog:
            images = tuple(image.name for image in registered.images_of(step.id))
            rows.append(_registered(step, endpoint_names, images, in_catalog=False))
    endpoints = tuple(
        EndpointStatus(row.name, row.id, _endpoint_summary(row)) for row in registered.endpoints
    )
    return RegistrationStatus(endpoints, tuple(rows))


def _has_table(client: DataverseClient, message: str, table: str) -> bool:
    """Whether the environment has the table (a table Dataverse lacks has no message filter)."""
    try:
        filter_id(client, message, table)
    except MissingMessageError:
        return False
    return True


def _registered(
    step: StepRow, endpoint_names: dict[str, str], images: tuple[str, ...], *, in_catalog: bool
) -> StepStatus:
    values = step.values
    summary = (
        f"{step.message or '?'} of {step.table or '?'}, "
        f"{STAGE_NAMES.get(values.get('stage'), values.get('stage'))}, "
        f"{MODE_NAMES.get(values.get('mode'), values.get('mode'))}"
    )
    if values.get("filteringattributes"):
        summary += f", on {values['filteringattributes']}"
    endpoint = endpoint_names.get(step.endpoint_id or "", step.endpoint_id)
    return StepStatus(
        step.name, summary, registered=True, enabled=step.enabled, endpoint=endpoint,
        images=images, in_catalog=in_catalog,
    )


def _endpoint_summary(row: Row) -> str:
    values = row.values
    if values.get("contract") == CONTRACT_WEBHOOK:
        return f"webhook {values.get('url')}"
    return f"queue {values.get('path')} in {values.get('namespaceaddress')}"

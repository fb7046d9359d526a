"""``member-plugins provision``: read what the environment has, plan, create what is missing.

Reads one ``EntityDefinitions(LogicalName=...)`` per table of the schema (with its columns,
keys and many-to-one relationships expanded) and one ``GlobalOptionSetDefinitions(Name=...)``
per global choice a column uses, plans with :mod:`plugins.admin.provision_plan` and POSTs
the steps in order through the Dataverse client.

Dataverse applies metadata one definition at a time, not in a transaction: a run that stops
part-way (throttling, a lost connection) leaves what it created so far. That is safe because
planning reads first and creates only what is missing, so running again finishes the job;
:class:`ProvisioningError` says how far a run got.
"""

from __future__ import annotations

from collections.abc import Callable

from plugins.core.schema import Schema, product_schema
from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import DataverseError, NotFoundError
from plugins.dataverse.odata import Expand

from . import metadata
from .provision_plan import (
    Environment,
    MetadataStep,
    ProvisionPlan,
    StepKind,
    choices_needed,
    mapped_schema,
    plan_provisioning,
)

NOT_TRANSACTIONAL = (
    "Dataverse applies metadata one definition at a time, not in a transaction: if a run "
    "stops part-way, run it again; it creates only what is still missing"
)
_TABLE_EXPAND = (
    Expand("Attributes", select=metadata.ATTRIBUTE_SELECT),
    Expand("Keys", select=metadata.KEY_SELECT),
    Expand("ManyToOneRelationships", select=metadata.RELATIONSHIP_SELECT),
)


class ProvisioningError(Exception):
    """A run failed part-way: ``created`` of ``planned`` steps were applied before ``cause``."""

    def __init__(self, step: MetadataStep, created: int, planned: int, cause: Exception) -> None:
        super().__init__(f"creating {step.kind} {step.name} failed after {created} of {planned}")
        self.step = step
        self.created = created
        self.planned = planned
        self.cause = cause


def plan(
    client: DataverseClient, schema_map: SchemaMap, schema: Schema | None = None
) -> ProvisionPlan:
    """What provisioning would create in the client's environment (reads only)."""
    mapped = mapped_schema(schema or product_schema(), schema_map)
    return plan_provisioning(mapped, read_environment(client, mapped))


def read_environment(client: DataverseClient, schema: Schema) -> Environment:
    """The environment's definitions of the schema's tables and global choices."""
    tables = {}
    for table in schema.tables:
        path = odata.entity_path("EntityDefinitions", {"LogicalName": table.logical_name})
        entity = _read(client, path, metadata.TABLE_SELECT, _TABLE_EXPAND)
        if entity is not None:
            tables[table.logical_name] = metadata.read_table(entity)
    choices = {}
    for name in choices_needed(schema):
        path = odata.entity_path("GlobalOptionSetDefinitions", {"Name": name})
        body = _read(client, path)
        if body is not None:
            choices[name] = metadata.read_choice(body)
    return Environment(tables, choices)


def apply(
    client: DataverseClient,
    provision_plan: ProvisionPlan,
    *,
    solution: str | None = None,
    on_created: Callable[[MetadataStep], None] | None = None,
) -> None:
    """Create every step of the plan, in order; a plan with conflicts is refused."""
    if provision_plan.conflicts:
        raise ValueError("a plan with conflicts cannot be applied")
    created_choices: dict[str, str] = {}
    steps = provision_plan.steps
    for done, step in enumerate(steps):
        try:
            body = step.body
            if step.choice is not None:
                body = metadata.bind_choice(body, created_choices[step.choice])
            metadata_id = client.create_metadata(step.collection, body, solution=solution)
            if step.kind is StepKind.CHOICE:
                created_choices[step.name] = metadata_id or _choice_id(client, step.name)
        except DataverseError as exc:
            raise ProvisioningError(step, done, len(steps), exc) from exc
        if on_created is not None:
            on_created(step)


def _read(
    client: DataverseClient,
    path: str,
    select: tuple[str, ...] = (),
    expand: tuple[Expand, ...] = (),
) -> dict[str, object] | None:
    try:
        return client.read_metadata(path, select=select, expand=expand)
    except NotFoundError:
        return None


def _choice_id(client: DataverseClient, name: str) -> str:
    """A new global choice's MetadataId, read back when the answer did not carry it."""
    path = odata.entity_path("GlobalOptionSetDefinitions", {"Name": name})
    return metadata.read_choice(client.read_metadata(path, select=("MetadataId",))).metadata_id

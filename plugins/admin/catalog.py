"""The steps (and their images) the product needs registered in Dataverse.

Table and column names come from the schema map, so an organisation that mapped the product
onto its own tables gets steps on those. To add steps, write a function that takes the
schema map and returns :class:`StepSpec` values, and add it to :data:`CATALOG`. The steps of
the event-started lifecycle messages (:func:`follow_up_steps`) depend on their settings
(``SYNC__FOLLOW_UPS__...``) as well, and are there only when those are enabled.

Every step goes to the one endpoint; :mod:`plugins.dispatch` routes the events by table.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from plugins.core.schema_map import SchemaMap
from plugins.sync.triggers import FollowUpRules

# sdkmessageprocessingstep and sdkmessageprocessingstepimage option values (reference §5.2).
STAGE_PRE_VALIDATION = 10
STAGE_PRE_OPERATION = 20
STAGE_POST_OPERATION = 40
MODE_SYNCHRONOUS = 0
MODE_ASYNCHRONOUS = 1
DEPLOYMENT_SERVER = 0
IMAGE_PRE = 0
IMAGE_POST = 1
IMAGE_BOTH = 2

STAGE_NAMES = {
    STAGE_PRE_VALIDATION: "PreValidation",
    STAGE_PRE_OPERATION: "PreOperation",
    STAGE_POST_OPERATION: "PostOperation",
}
MODE_NAMES = {MODE_SYNCHRONOUS: "sync", MODE_ASYNCHRONOUS: "async"}
IMAGE_TYPE_NAMES = {IMAGE_PRE: "pre-image", IMAGE_POST: "post-image", IMAGE_BOTH: "pre+post"}

# The product's endpoints and steps are named with this prefix and their descriptions end
# with this tag: only rows with both are ever updated or deleted by the product.
NAME_PREFIX = "member-plugins: "
MARKER = "[managed by member-plugins]"
DESCRIPTION_LENGTH = 256


@dataclass(frozen=True)
class ImageSpec:
    """An entity image sent with the step's context (``name`` is also the alias)."""

    name: str
    image_type: int
    attributes: tuple[str, ...]
    message_property: str = "Target"


@dataclass(frozen=True)
class StepSpec:
    """One step: which message on which table reaches the product's endpoint, and how."""

    key: str
    message: str
    table: str
    purpose: str
    stage: int = STAGE_POST_OPERATION
    mode: int = MODE_ASYNCHRONOUS
    rank: int = 1
    filtering_attributes: tuple[str, ...] = ()
    images: tuple[ImageSpec, ...] = ()
    async_auto_delete: bool = True

    def __post_init__(self) -> None:
        if self.mode == MODE_ASYNCHRONOUS and self.stage != STAGE_POST_OPERATION:
            # Dataverse registers asynchronous steps in PostOperation only.
            raise ValueError(f"step {self.key}: an asynchronous step must be PostOperation")
        if len(self.description) > DESCRIPTION_LENGTH:
            raise ValueError(f"step {self.key}: description longer than {DESCRIPTION_LENGTH}")
        if len({image.name for image in self.images}) != len(self.images):
            raise ValueError(f"step {self.key}: image names must be unique")

    @property
    def name(self) -> str:
        """The step's name in Dataverse (stable: the table may be remapped, the key not)."""
        return NAME_PREFIX + self.key

    @property
    def description(self) -> str:
        """The step's description in Dataverse, ending with :data:`MARKER`."""
        return f"{self.purpose} {MARKER}"

    @property
    def summary(self) -> str:
        """``Update of mp_registration, PostOperation, async`` (for plans and status)."""
        text = f"{self.message} of {self.table}, {STAGE_NAMES[self.stage]}, {MODE_NAMES[self.mode]}"
        if self.filtering_attributes:
            text += f", on {','.join(self.filtering_attributes)}"
        return text


def registration_steps(schema: SchemaMap) -> tuple[StepSpec, ...]:
    """A new registration starts the automatic check; an admin's status change is a decision.

    No image on Create: the service re-reads the row. The Update step carries the status
    before the change, so the service can tell an admin decision from its own writes.
    """
    registration = schema.registration
    return (
        StepSpec(
            key="registration created",
            message="Create",
            table=registration.table,
            purpose="A new registration: run the automatic check.",
        ),
        StepSpec(
            key="registration status changed",
            message="Update",
            table=registration.table,
            purpose="A registration's status or the office's decision changed: apply the "
            "admin's decision.",
            filtering_attributes=(registration.status, registration.office_decision),
            images=(ImageSpec("PreImage", IMAGE_PRE, (registration.status,)),),
        ),
    )


def follow_up_steps(schema: SchemaMap, rules: FollowUpRules) -> tuple[StepSpec, ...]:
    """The events that start lifecycle messages at once, when ``rules`` are enabled.

    An approval needs no step of its own: the registration status step brings it. A renewal
    is told from the end date before the update, so that step carries it as a pre-image.
    """
    if not rules.enabled:
        return ()
    steps: list[StepSpec] = []
    if rules.memberships:
        membership = schema.membership
        steps += [
            StepSpec(
                key="membership created",
                message="Create",
                table=membership.table,
                purpose="A new membership: start its onboarding series.",
            ),
            StepSpec(
                key="membership renewed",
                message="Update",
                table=membership.table,
                purpose="A membership's end date changed: a later one is a renewal.",
                filtering_attributes=(membership.end,),
                images=(ImageSpec("PreImage", IMAGE_PRE, (membership.end,)),),
            ),
        ]
    for trigger in rules.triggers:
        purpose = f"Send the follow-up '{trigger.name}' when {trigger.column} is set."
        steps += [
            StepSpec(
                key=f"follow-up {trigger.name} created",
                message="Create",
                table=trigger.table,
                purpose=purpose,
            ),
            StepSpec(
                key=f"follow-up {trigger.name} changed",
                message="Update",
                table=trigger.table,
                purpose=purpose,
                filtering_attributes=(trigger.column,),
            ),
        ]
    return tuple(steps)


def erasure_steps(schema: SchemaMap, enabled: bool) -> tuple[StepSpec, ...]:
    """A new erasure request is carried out at once (when erasure is enabled; the timer
    catches any the step missed)."""
    if not enabled:
        return ()
    return (
        StepSpec(
            key="erasure request created",
            message="Create",
            table=schema.erasure_request.table,
            purpose="A new erasure request: erase the person.",
        ),
    )


CATALOG: tuple[Callable[[SchemaMap], tuple[StepSpec, ...]], ...] = (registration_steps,)
"""Every group of steps the product registers whatever its settings."""


def product_steps(
    schema: SchemaMap, follow_ups: FollowUpRules | None = None, erasure: bool = False
) -> tuple[StepSpec, ...]:
    """All steps of :data:`CATALOG` for this schema map, those of the event-started
    messages for ``follow_ups`` and the erasure requests' when ``erasure``; ValueError on a
    duplicate key."""
    steps = tuple(step for group in CATALOG for step in group(schema))
    steps += follow_up_steps(schema, follow_ups or FollowUpRules())
    steps += erasure_steps(schema, erasure)
    keys = [step.key for step in steps]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"step keys registered twice: {duplicates}")
    return steps

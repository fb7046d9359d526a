"""The ``RemoteExecutionContext`` Dataverse posts for one step and one event (pure: no I/O).

Shape and member order follow the published payloads (reference §1.4-1.6): members in
ordinal order as ``DataContractJsonSerializer`` writes them, a ``ParentContext`` for the main
operation (stage 30) holding the client's original ``Target``, the automatic
``AsynchronousStepPrimaryName`` image for asynchronous steps (post image, or pre image on
Delete), and ``OutputParameters`` ``id`` after a Create.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from plugins.core.schema import Table

from ..store import ChangeEvent
from . import encoding
from .registrations import STAGE_MAIN_OPERATION, STAGE_POST_OPERATION, Step

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
ASYNC_PRIMARY_NAME_IMAGE = "AsynchronousStepPrimaryName"
TRIMMED_MEMBERS = ("ParentContext", "InputParameters", "PreEntityImages", "PostEntityImages")
_IMAGE_MESSAGES = frozenset({"Create", "Update", "Delete"})


@dataclass(frozen=True)
class Organization:
    """The environment a context comes from."""

    id: str
    name: str
    business_unit_id: str

    @classmethod
    def named(cls, name: str) -> Organization:
        """Stable ids derived from the organisation's unique name."""
        return cls(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:{name}:organization")),
            name=name,
            business_unit_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:{name}:businessunit")),
        )


@dataclass(frozen=True)
class Invocation:
    """One step firing for one event: everything the context is built from."""

    event: ChangeEvent
    table: Table
    step: Step
    organization: Organization
    operation_id: str
    user_aad_object_id: str = EMPTY_GUID


def build_context(invocation: Invocation) -> dict[str, Any]:
    """The context of the step, with its parent (main operation) context."""
    event, table, step = invocation.event, invocation.table, invocation.step
    parent = _context(
        invocation,
        stage=STAGE_MAIN_OPERATION,
        input_parameters=[("Target", _target(event, table, request_only=True))],
        output_parameters=[],
        pre_images=[],
        post_images=[],
        parent=None,
    )
    output = (
        [("id", event.row_id)]
        if event.message == "Create" and step.stage == STAGE_POST_OPERATION
        else []
    )
    pre_images, post_images = _images(event, table, step)
    return _context(
        invocation,
        stage=step.stage,
        input_parameters=[("Target", _target(event, table, request_only=False))],
        output_parameters=output,
        pre_images=pre_images,
        post_images=post_images,
        parent=parent,
    )


def without_bulky_members(context: dict[str, Any]) -> dict[str, Any]:
    """The context as Dataverse sends it when it is over the size limit (reference §1.7)."""
    return {k: v for k, v in context.items() if k not in TRIMMED_MEMBERS}


def _context(
    invocation: Invocation,
    *,
    stage: int,
    input_parameters: list[tuple[str, Any]],
    output_parameters: list[tuple[str, Any]],
    pre_images: list[tuple[str, Any]],
    post_images: list[tuple[str, Any]],
    parent: dict[str, Any] | None,
) -> dict[str, Any]:
    event, step, org = invocation.event, invocation.step, invocation.organization
    caller = event.caller
    return {
        "BusinessUnitId": org.business_unit_id,
        "CorrelationId": caller.correlation_id,
        "Depth": caller.depth,
        "InitiatingUserAgent": caller.user_agent,
        "InitiatingUserAzureActiveDirectoryObjectId": invocation.user_aad_object_id,
        "InitiatingUserId": caller.user_id,
        "InputParameters": encoding.key_values(input_parameters),
        "IsExecutingOffline": False,
        "IsInTransaction": not step.is_async,
        "IsOfflinePlayback": False,
        "IsolationMode": 1,
        "MessageName": event.message,
        "Mode": step.mode,
        "OperationCreatedOn": encoding.date_literal(event.created_on),
        "OperationId": invocation.operation_id,
        "OrganizationId": org.id,
        "OrganizationName": org.name,
        "OutputParameters": encoding.key_values(output_parameters),
        "OwningExtension": encoding.entity_reference(
            "sdkmessageprocessingstep", step.id, step.name, typed=False
        ),
        "ParentContext": parent,
        "PostEntityImages": encoding.key_values(post_images),
        "PreEntityImages": encoding.key_values(pre_images),
        "PrimaryEntityId": event.row_id,
        "PrimaryEntityName": event.table,
        "RequestId": caller.request_id,
        "SecondaryEntityName": "none",
        "SharedVariables": encoding.key_values(_shared_variables(event)),
        "Stage": stage,
        "UserAzureActiveDirectoryObjectId": invocation.user_aad_object_id,
        "UserId": caller.user_id,
    }


def _target(event: ChangeEvent, table: Table, *, request_only: bool) -> dict[str, Any]:
    if event.message == "Delete":
        return encoding.entity_reference(event.table, event.row_id)
    values = event.target
    if request_only:
        # The client's request did not hold what the platform added (modifiedon, fullname).
        values = {
            name: value
            for name, value in values.items()
            if name not in table.columns or not table.columns[name].readonly
        }
    return encoding.entity(table, event.row_id, values, typed=True)


def _shared_variables(event: ChangeEvent) -> list[tuple[str, Any]]:
    variables: list[tuple[str, Any]] = [("IsAutoTransact", True), ("AcceptLang", "")]
    if event.message == "Create":
        variables.append(("DefaultsAddedFlag", True))
    if event.caller.tag is not None:
        variables.append(("tag", event.caller.tag))
    return variables


def _images(
    event: ChangeEvent, table: Table, step: Step
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    pre: list[tuple[str, Any]] = []
    post: list[tuple[str, Any]] = []
    row_id = event.row_id
    if event.message not in _IMAGE_MESSAGES:
        return pre, post
    # Images as registered: no pre-image on Create, post-images only after the operation
    # and never on Delete.
    pre_state = event.pre if event.message != "Create" else None
    post_state = (
        event.post
        if event.message != "Delete" and step.stage == STAGE_POST_OPERATION
        else None
    )
    for image in step.images:
        if image.wants_pre and pre_state is not None:
            pre.append((image.alias, _image_entity(table, row_id, pre_state, image.attributes)))
        if image.wants_post and post_state is not None:
            post.append((image.alias, _image_entity(table, row_id, post_state, image.attributes)))
    if step.is_async:
        # Dataverse adds this image (primary name and id) to every asynchronous step.
        on_delete = event.message == "Delete"
        source = event.pre if on_delete else event.post
        if source is not None:
            names = (table.primary_name, table.primary_id)
            primary = (ASYNC_PRIMARY_NAME_IMAGE, _image_entity(table, row_id, source, names))
            (pre if on_delete else post).append(primary)
    return pre, post


def _image_entity(
    table: Table, row_id: str, values: dict[str, Any], attributes: tuple[str, ...]
) -> dict[str, Any]:
    # An image is a retrieved row: columns without a value are absent, the key is present.
    names = attributes or tuple(values)
    selected = {name: values[name] for name in names if values.get(name) is not None}
    selected.setdefault(table.primary_id, row_id)
    return encoding.entity(table, row_id, selected, typed=False)

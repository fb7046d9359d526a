"""What Dataverse sent: a webhook request or a Service Bus message, as one typed event.

Both transports carry the same serialized ``RemoteExecutionContext`` (reference §1.4, §2.3);
they differ in the envelope. A webhook adds lower-case ``x-ms-dynamics-*`` headers and
``x-ms-correlation-request-id``; a Service Bus message carries claim-URI application
properties (``http://schemas.microsoft.com/xrm/2011/Claims/...``), whose keys and values may
arrive as bytes.

When the context is too large (webhook 256 KB, Service Bus 192 KB) Dataverse drops
``InputParameters``, ``ParentContext``, ``PreEntityImages`` and ``PostEntityImages`` and marks
it (``x-ms-dynamics-msg-size-exceeded`` header / a ``MessageMaxSizeExceeded`` property). The
event then says ``trimmed=True`` and a handler must re-read the row by ``table`` and
``record_id``.

Bad input raises :class:`EventParseError` with a message naming what is wrong; the HTTP
trigger answers it with 400.

Pure: standard library, pydantic and :mod:`plugins.core.remote_context` only.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .remote_context import (
    Entity,
    EntityReference,
    MalformedContextError,
    RawValue,
    decode_entity,
    decode_pairs,
    decode_reference,
    parse_date,
)

CLAIMS = "http://schemas.microsoft.com/xrm/2011/Claims/"
SIZE_EXCEEDED_HEADER = "x-ms-dynamics-msg-size-exceeded"
SIZE_EXCEEDED_PROPERTY = "MessageMaxSizeExceeded"
TRIMMABLE_MEMBERS = ("InputParameters", "ParentContext", "PreEntityImages", "PostEntityImages")
REQUIRED_MEMBERS = ("MessageName", "PrimaryEntityName", "PrimaryEntityId", "Stage", "Mode")
MAX_NAME_LENGTH = 256
# Python's recursion limit is the bound: real contexts are a few levels deep.
NESTED_TOO_DEEPLY = "the body is nested too deeply to be a RemoteExecutionContext"
# Failures of reading a value from untrusted JSON (a number beyond what int() converts,
# arithmetic on an absurd Decimal, a member of an unexpected type): refused, never raised.
_VALUE_FAILURES = (ValueError, ArithmeticError, TypeError)
# Stage, Mode and Depth are Int32 in the RemoteExecutionContext contract.
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


class EventParseError(ValueError):
    """The request or message is not a usable Dataverse event; the message says why."""


class ParentContext(BaseModel):
    """The context of the operation that triggered this one (often the Stage 30 main one)."""

    model_config = ConfigDict(frozen=True)

    message: str | None = None
    table: str | None = None
    record_id: str | None = None
    stage: int | None = None
    depth: int | None = None
    input_parameters: dict[str, Any] = {}
    shared_variables: dict[str, Any] = {}
    parent: ParentContext | None = None


class DataverseEvent(BaseModel):
    """One Dataverse pipeline event, whichever transport brought it.

    ``target`` is the ``Target`` input parameter: an :class:`Entity` for Create/Update, an
    :class:`EntityReference` for Delete, None when absent (or trimmed). Values inside are
    decoded by :mod:`plugins.core.remote_context`.
    """

    model_config = ConfigDict(frozen=True)

    source: Literal["webhook", "servicebus"]
    message: str
    table: str
    record_id: str
    stage: int
    mode: int
    depth: int = 1
    correlation_id: str | None = None
    operation_id: str | None = None
    request_id: str | None = None
    operation_created_on: datetime | None = None
    initiating_user_id: str | None = None
    user_id: str | None = None
    business_unit_id: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    organization_host: str | None = None
    owning_step_id: str | None = None
    target: Entity | EntityReference | RawValue | None = None
    input_parameters: dict[str, Any] = {}
    output_parameters: dict[str, Any] = {}
    pre_images: dict[str, Entity | RawValue] = {}
    post_images: dict[str, Entity | RawValue] = {}
    shared_variables: dict[str, Any] = {}
    parent: ParentContext | None = None
    trimmed: bool = False

    @property
    def attributes(self) -> dict[str, Any]:
        """The columns of the ``Target`` entity (empty when the target is not an entity)."""
        return self.target.attributes if isinstance(self.target, Entity) else {}

    @property
    def created_id(self) -> str | None:
        """The id of the row a Create made (``OutputParameters["id"]``, PostOperation only)."""
        value = self.output_parameters.get("id")
        return value.lower() if isinstance(value, str) else None

    @property
    def tag(self) -> str | None:
        """The ``?tag=`` the writer passed, searched here and up the parent contexts."""
        variables: list[dict[str, Any]] = [self.shared_variables]
        parent = self.parent
        while parent is not None:
            variables.append(parent.shared_variables)
            parent = parent.parent
        for shared in variables:
            value = shared.get("tag")
            if isinstance(value, str):
                return value
        return None

    @property
    def is_synchronous(self) -> bool:
        """Mode 0: the caller's transaction waits for (and fails with) this handler."""
        return self.mode == 0


def parse_webhook(body: bytes | str, headers: Mapping[str, str]) -> DataverseEvent:
    """The event in a webhook POST (body as received, headers in any case)."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    context = _load_context(body)
    return _build(
        context,
        source="webhook",
        trimmed=SIZE_EXCEEDED_HEADER in lowered or _members_trimmed(context),
        correlation_header=_header_guid(lowered.get("x-ms-correlation-request-id")),
        request_header=_header_guid(lowered.get("x-request-id")),
        organization_host=lowered.get("x-ms-dynamics-organization"),
    )


def parse_servicebus(
    body: bytes | str, properties: Mapping[str | bytes, Any] | None
) -> DataverseEvent:
    """The event in a Service Bus message (body bytes and its application properties)."""
    props = {_text(k): _text(v) for k, v in (properties or {}).items()}
    context = _load_context(body)
    size_marked = any(SIZE_EXCEEDED_PROPERTY in key for key in props)
    return _build(
        context,
        source="servicebus",
        trimmed=size_marked or _members_trimmed(context),
        correlation_header=None,
        request_header=None,
        organization_host=_host(props.get(CLAIMS + "Organization")),
    )


def decode_body(body: bytes | str) -> str:
    """The body's text: UTF-8 with or without BOM, UTF-16/32 with BOM, UTF-16 without BOM."""
    if isinstance(body, str):
        return body.removeprefix("\ufeff")
    if not body:
        raise EventParseError("the body is empty; expected a RemoteExecutionContext JSON object")
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return _decode(body[len(bom) :], encoding)
    if len(body) >= 2 and body[0] != 0 and body[1] == 0:
        return _decode(body, "utf-16-le")
    if len(body) >= 2 and body[0] == 0 and body[1] != 0:
        return _decode(body, "utf-16-be")
    return _decode(body, "utf-8")


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise EventParseError(f"the body is not valid {encoding} text: {exc.reason}") from exc


def _load_context(body: bytes | str) -> dict[str, Any]:
    text = decode_body(body)
    try:
        context = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise EventParseError(
            f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise EventParseError(NESTED_TOO_DEEPLY) from exc
    except EventParseError:
        raise
    except ValueError as exc:
        # Python refuses integers of more than 4,300 digits (int-string conversion limit).
        raise EventParseError(f"the body has a number that cannot be read: {exc}") from exc
    if not isinstance(context, dict):
        raise EventParseError(
            f"the body is a JSON {type(context).__name__}, not a RemoteExecutionContext object"
        )
    missing = [name for name in REQUIRED_MEMBERS if context.get(name) is None]
    if len(missing) == len(REQUIRED_MEMBERS):
        raise EventParseError(
            "the body is not a RemoteExecutionContext: it has none of "
            + ", ".join(REQUIRED_MEMBERS)
        )
    if missing:
        raise EventParseError("the RemoteExecutionContext is missing " + ", ".join(missing))
    return context


def _members_trimmed(context: Mapping[str, Any]) -> bool:
    return all(name not in context for name in TRIMMABLE_MEMBERS)


def _build(
    context: dict[str, Any],
    *,
    source: Literal["webhook", "servicebus"],
    trimmed: bool,
    correlation_header: str | None,
    request_header: str | None,
    organization_host: str | None,
) -> DataverseEvent:
    try:
        inputs = decode_pairs(context.get("InputParameters"), "InputParameters")
        event = DataverseEvent(
            source=source,
            message=_required_text(context, "MessageName"),
            table=_required_text(context, "PrimaryEntityName"),
            record_id=_guid(context, "PrimaryEntityId"),
            stage=_integer(context, "Stage"),
            mode=_integer(context, "Mode"),
            depth=_integer(context, "Depth", default=1),
            correlation_id=_optional_guid(context, "CorrelationId") or correlation_header,
            operation_id=_optional_guid(context, "OperationId"),
            request_id=_optional_guid(context, "RequestId") or request_header,
            operation_created_on=_date(context, "OperationCreatedOn"),
            initiating_user_id=_optional_guid(context, "InitiatingUserId"),
            user_id=_optional_guid(context, "UserId"),
            business_unit_id=_optional_guid(context, "BusinessUnitId"),
            organization_id=_optional_guid(context, "OrganizationId"),
            organization_name=_optional_text(context, "OrganizationName"),
            organization_host=organization_host,
            owning_step_id=_owning_step(context.get("OwningExtension")),
            target=_target(inputs.get("Target")),
            input_parameters=inputs,
            output_parameters=decode_pairs(context.get("OutputParameters"), "OutputParameters"),
            pre_images=_images(context.get("PreEntityImages"), "PreEntityImages"),
            post_images=_images(context.get("PostEntityImages"), "PostEntityImages"),
            shared_variables=decode_pairs(context.get("SharedVariables"), "SharedVariables"),
            parent=_parent(context.get("ParentContext"), "ParentContext"),
            trimmed=trimmed,
        )
    except MalformedContextError as exc:
        raise EventParseError(f"the RemoteExecutionContext is malformed: {exc}") from exc
    except RecursionError as exc:
        raise EventParseError(NESTED_TOO_DEEPLY) from exc
    except EventParseError:
        raise
    except _VALUE_FAILURES as exc:
        raise EventParseError(
            f"the RemoteExecutionContext has a value that cannot be read ({type(exc).__name__})"
        ) from exc
    return event


def _no_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (Python's parser accepts them)."""
    raise EventParseError(f"the body is not JSON ({name} is not a JSON value)")


def _target(value: Any) -> Entity | EntityReference | RawValue | None:
    """Entities and references stay typed; an absent target is None; the rest stays raw."""
    if value is None or isinstance(value, Entity | EntityReference | RawValue):
        return value
    return RawValue(type_name=None, data=value)


def _images(raw: Any, where: str) -> dict[str, Entity | RawValue]:
    """Image alias -> :class:`Entity` (entities in image lists come without ``__type``)."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise MalformedContextError(f"{where} must be a list of key/value pairs")
    images: dict[str, Entity | RawValue] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "key" not in item:
            raise MalformedContextError(f"{where}[{index}] is not a {{key, value}} pair")
        images[str(item["key"])] = decode_entity(item.get("value"))
    return images


def _parent(raw: Any, where: str) -> ParentContext | None:
    """The parent context, read leniently: it only informs (tag, original request)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MalformedContextError(f"{where} must be an object or null")
    record = raw.get("PrimaryEntityId")
    return ParentContext(
        message=_lenient_text(raw.get("MessageName")),
        table=_lenient_text(raw.get("PrimaryEntityName")),
        record_id=record.lower() if isinstance(record, str) and _GUID.match(record) else None,
        stage=_lenient_int(raw.get("Stage")),
        depth=_lenient_int(raw.get("Depth")),
        input_parameters=decode_pairs(raw.get("InputParameters"), f"{where}.InputParameters"),
        shared_variables=decode_pairs(raw.get("SharedVariables"), f"{where}.SharedVariables"),
        parent=_parent(raw.get("ParentContext"), f"{where}.ParentContext"),
    )


def _owning_step(raw: Any) -> str | None:
    reference = decode_reference(raw) if raw is not None else None
    return reference.id if isinstance(reference, EntityReference) else None


def _required_text(context: Mapping[str, Any], name: str) -> str:
    value = context.get(name)
    if not isinstance(value, str) or not value.strip():
        raise EventParseError(f"{name} must be a non-empty string, got {_shown(value)}")
    if len(value) > MAX_NAME_LENGTH:
        # Message and table names are Dataverse identifiers (sdkmessage.name: 256 characters);
        # a longer one is not an event, and would flood every log line that names it.
        raise EventParseError(f"{name} is {len(value)} characters long, more than a name can be")
    return value


def _shown(value: Any) -> str:
    """``repr`` of a bad value, cut short: it goes into an error message and a log line."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _optional_text(context: Mapping[str, Any], name: str) -> str | None:
    value = context.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventParseError(f"{name} must be a string, got {value!r}")
    return value


def _guid(context: Mapping[str, Any], name: str) -> str:
    value = context.get(name)
    if not isinstance(value, str) or not _GUID.match(value):
        raise EventParseError(f"{name} must be a GUID, got {value!r}")
    return value.lower()


def _header_guid(value: str | None) -> str | None:
    """A GUID header (Dataverse sends nothing else), lower-case; anything else is ignored,
    since it would be sent on to Dataverse as the correlation of the handler's requests."""
    return value.lower() if value is not None and _GUID.match(value) else None


def _optional_guid(context: Mapping[str, Any], name: str) -> str | None:
    return None if context.get(name) is None else _guid(context, name)


def _integer(context: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = context.get(name)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventParseError(f"{name} must be an integer, got {_shown(value)}")
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise EventParseError(f"{name} must be a 32-bit integer, got {_shown(value)}")
    return value


def _date(context: Mapping[str, Any], name: str) -> datetime | None:
    value = context.get(name)
    if value is None:
        return None
    moment = parse_date(value) if isinstance(value, str) else None
    if moment is None:
        raise EventParseError(f"{name} must be a /Date(ms)/ string, got {value!r}")
    return moment


def _lenient_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _lenient_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    """A property key or value as text (Service Bus hands over bytes for AMQP binary)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _host(organization: str | None) -> str | None:
    """``org.crm4.dynamics.com`` from an organization claim (a URI or a bare host)."""
    if not organization:
        return None
    return re.sub(r"^[a-z][a-z0-9+.-]*://", "", organization.strip(), flags=re.I).split("/")[0]


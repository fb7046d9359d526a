"""``POST $batch``: many requests in one ``multipart/mixed`` body, change sets atomic.

The whole body is read and checked first (well-formed, at most 1000 requests, no GET in a
change set, no ``$n`` used before its ``Content-ID``); any problem fails the batch with 400
and nothing runs. Then each request runs through :meth:`WebApi.dispatch`, so everything the
Web API does works inside a batch. A change set runs in one store transaction: the first
failure rolls back all of it. Without ``Prefer: odata.continue-on-error`` the batch stops at
the first failing request and takes its status; with it, the batch answers 200 and every
request has its own status.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from .. import errors
from ..http import error_response
from ..store import Caller
from .context import API_PATH, ApiContext
from .multipart import (
    BodyPart,
    Headers,
    HttpRequestMessage,
    MultipartError,
    boundary_of,
    format_multipart,
    format_response,
    parse_request,
    split_parts,
)
from .resource import PathError, parse_resource

MAX_REQUESTS = 1000
# Part headers that describe the part, not the request; the body length is the part's own.
_NOT_FORWARDED = {"content-id", "content-length"}
_REFERENCE = re.compile(r"^\$([A-Za-z0-9_.\-]+)")


@dataclass(frozen=True)
class Operation:
    """One request of the batch, with the ``Content-ID`` it declares."""

    message: HttpRequestMessage
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """Requests that succeed or fail together."""

    operations: list[Operation] = field(default_factory=list)


Item = Operation | ChangeSet


class _ChangeSetFailed(Exception):
    def __init__(self, response: Response, content_id: str | None) -> None:
        super().__init__(response.status)
        self.response = response
        self.content_id = content_id


def run_batch(ctx: ApiContext) -> Response:
    """Answer ``POST $batch`` with a ``multipart/mixed`` body of responses."""
    items = read_batch(ctx.request)
    runner = _Runner(ctx)
    parts: list[tuple[Headers, bytes]] = []
    status = 200
    for item in items:
        part, failed_status = runner.run(item)
        parts.append(part)
        if failed_status is not None and not ctx.prefer.continue_on_error:
            status = failed_status
            break
    boundary = f"batchresponse_{uuid.uuid4()}"
    response = Response(
        format_multipart(boundary, parts),
        status=status,
        content_type=f"multipart/mixed; boundary={boundary}",
    )
    response.headers["OData-Version"] = "4.0"
    if ctx.prefer.continue_on_error:
        response.headers["Preference-Applied"] = "odata.continue-on-error"
    return response


def read_batch(request: Request) -> list[Item]:
    """The batch's requests and change sets, checked before anything runs."""
    boundary = boundary_of(request.headers.get("Content-Type"))
    if boundary is None:
        raise _batch_error(
            "The batch request must have a 'Content-Type: multipart/mixed; boundary=...' header."
        )
    try:
        items = [_read_item(part) for part in split_parts(request.get_data(), boundary)]
    except MultipartError as exc:
        raise _batch_error(f"The batch request body is malformed: {exc}") from exc
    count = sum(len(i.operations) if isinstance(i, ChangeSet) else 1 for i in items)
    if count > MAX_REQUESTS:
        raise _batch_error(
            "The current batch message contains too many parts. Only batch messages with a "
            f"maximum number of '{MAX_REQUESTS}' query operations, including changeset "
            "operations, are allowed."
        )
    for item in items:
        _check_references(item)
    return items


def _read_item(part: BodyPart) -> Item:
    nested = boundary_of(part.headers.get("content-type"))
    if nested is None:
        return _read_operation(part)
    operations: list[Operation] = []
    for inner in split_parts(part.content, nested):
        if boundary_of(inner.headers.get("content-type")) is not None:
            raise MultipartError("a change set cannot contain another change set")
        operation = _read_operation(inner)
        if operation.message.method == "GET":
            raise _batch_error(
                "An invalid HTTP method 'GET' was detected for a request in a change set. "
                "Requests in change sets only support the HTTP methods 'POST', 'PUT', "
                "'DELETE', and 'PATCH'."
            )
        operations.append(operation)
    return ChangeSet(operations)


def _read_operation(part: BodyPart) -> Operation:
    content_type = part.headers.get("content-type", "")
    if not content_type.lower().startswith("application/http"):
        raise MultipartError(
            f"a part has Content-Type '{content_type}' where 'application/http' is expected"
        )
    message = parse_request(part.content)
    if urlsplit(message.target).path.rstrip("/").endswith("$batch"):
        raise MultipartError("a batch cannot contain another batch")
    content_id = part.headers.get("content-id") or _header(message.headers, "Content-ID")
    return Operation(message, content_id)


def _check_references(item: Item) -> None:
    """``$n`` may only name a ``Content-ID`` declared earlier in the same change set."""
    declared: set[str] = set()
    operations = item.operations if isinstance(item, ChangeSet) else [item]
    for operation in operations:
        resolve = _Resolver(declared, {}, checking=True)
        resolve.target(operation.message.target)
        resolve.body(operation.message.body)
        if operation.content_id and isinstance(item, ChangeSet):
            declared.add(operation.content_id)


@dataclass
class _Resolver:
    """Replaces ``$n`` references by the URL of the row request ``n`` created."""

    declared: set[str]
    urls: dict[str, str]
    checking: bool = False

    def name(self, text: str) -> str | None:
        match = _REFERENCE.match(text)
        if match is None:
            return None
        name = match.group(1)
        if name in self.declared or name.isdigit():
            return name
        return None

    def url(self, name: str) -> str:
        if self.checking and name in self.declared:
            return "$" + name
        if name not in self.urls:
            raise _batch_error(
                f"Content-ID Reference: '${name}' does not exist in the batch context."
            )
        return self.urls[name]

    def target(self, target: str) -> str:
        name = self.name(target)
        if name is None:
            return target
        rest = target[len(name) + 1 :]
        if rest and rest[0] not in "/?":
            return target
        return self.url(name) + rest

    def body(self, body: bytes) -> bytes:
        if b"$" not in body:
            return body
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return body
        return json.dumps(_map_references(data, self.reference), ensure_ascii=False).encode()

    def reference(self, text: str) -> str:
        name = self.name(text)
        if name is None or len(text) != len(name) + 1:
            return text
        return self.url(name)


def _map_references(node: Any, resolve: Callable[[str], str]) -> Any:
    """Apply ``resolve`` to every ``@odata.bind`` and ``@odata.id`` value in a JSON body."""
    if isinstance(node, list):
        return [_map_references(value, resolve) for value in node]
    if not isinstance(node, dict):
        return node
    mapped: dict[str, Any] = {}
    for key, value in node.items():
        if key == "@odata.id" or key.endswith("@odata.bind"):
            if isinstance(value, str):
                value = resolve(value)
            elif isinstance(value, list):
                value = [resolve(v) if isinstance(v, str) else v for v in value]
        else:
            value = _map_references(value, resolve)
        mapped[key] = value
    return mapped


class _Runner:
    """Runs the items of one batch for one caller."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    def run(self, item: Item) -> tuple[tuple[Headers, bytes], int | None]:
        """The response part for ``item`` and, when it failed, its status."""
        if isinstance(item, ChangeSet):
            return self._change_set(item)
        response = self._dispatch(item, _Resolver(set(), {}))
        failed = response.status_code if response.status_code >= 400 else None
        return _http_part(response, None), failed

    def _change_set(self, change_set: ChangeSet) -> tuple[tuple[Headers, bytes], int | None]:
        resolver = _Resolver({op.content_id for op in change_set.operations if op.content_id}, {})
        parts: list[tuple[Headers, bytes]] = []
        try:
            with self.ctx.store.transaction(self.ctx.caller):
                for operation in change_set.operations:
                    response = self._dispatch(operation, resolver)
                    if response.status_code >= 400:
                        raise _ChangeSetFailed(response, operation.content_id)
                    entity_url = self._entity_url(operation, response)
                    if operation.content_id and entity_url:
                        resolver.urls[operation.content_id] = entity_url
                    parts.append(_http_part(response, operation.content_id))
        except _ChangeSetFailed as failure:
            return _http_part(failure.response, failure.content_id), failure.response.status_code
        except errors.ODataError as exc:
            # Raised at commit, e.g. by a synchronous step: the whole change set fails.
            return _http_part(_error_response(exc), None), exc.status
        boundary = f"changesetresponse_{uuid.uuid4()}"
        headers = [("Content-Type", f"multipart/mixed; boundary={boundary}")]
        return (headers, format_multipart(boundary, parts)), None

    def _dispatch(self, operation: Operation, resolver: _Resolver) -> Response:
        try:
            request, caller = self._sub_request(operation.message, resolver)
            response = self.ctx.api.dispatch(request, caller)
        except errors.ODataError as exc:
            response = _error_response(exc)
        if operation.message.method == "GET":
            _mark_streaming(response)
        return response

    def _sub_request(
        self, message: HttpRequestMessage, resolver: _Resolver
    ) -> tuple[Request, Caller]:
        target = urlsplit(resolver.target(message.target))
        path = target.path
        if not target.scheme and not path.startswith("/"):
            path = API_PATH + path
        headers = [(k, v) for k, v in message.headers if k.lower() not in _NOT_FORWARDED]
        builder = EnvironBuilder(
            path=path,
            base_url=self.ctx.request.host_url,
            query_string=target.query,
            method=message.method,
            headers=headers,
            data=resolver.body(message.body),
        )
        try:
            request = Request(builder.get_environ())
        finally:
            builder.close()
        tag = parse_qs(target.query).get("tag")
        caller = replace(self.ctx.caller, tag=tag[0]) if tag else self.ctx.caller
        return request, caller

    def _entity_url(self, operation: Operation, response: Response) -> str | None:
        """The created or addressed row's URL, for later ``$n`` references."""
        entity_id = response.headers.get("OData-EntityId")
        if entity_id or response.status_code != 201 or not response.is_json:
            return entity_id
        path = urlsplit(operation.message.target).path
        try:
            name = parse_resource(path.split(API_PATH, 1)[-1].lstrip("/")).name
        except PathError:
            return None
        table = self.ctx.store.schema.by_entity_set(name)
        body = response.get_json(silent=True)
        if table is None or not isinstance(body, dict) or not body.get(table.primary_id):
            return None
        return self.ctx.entity_url(table, body[table.primary_id])


def _http_part(response: Response, content_id: str | None) -> tuple[Headers, bytes]:
    headers: Headers = [
        ("Content-Type", "application/http"),
        ("Content-Transfer-Encoding", "binary"),
    ]
    if content_id:
        headers.append(("Content-ID", content_id))
    inner = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    entity_id = response.headers.get("OData-EntityId")
    if entity_id and "Location" not in response.headers:
        inner.append(("Location", entity_id))
    return headers, format_response(response.status_code, inner, response.get_data())


def _error_response(exc: errors.ODataError) -> Response:
    response = error_response(exc)
    response.headers["REQ_ID"] = str(uuid.uuid4())
    return response


def _mark_streaming(response: Response) -> None:
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("application/json") and "odata.streaming" not in content_type:
        response.headers["Content-Type"] = f"{content_type}; odata.streaming=true"


def _header(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def _batch_error(message: str) -> errors.ODataError:
    # The OData batch reader's failures; Dataverse reports them with code 0x0 like the
    # reader's other payload errors (UNVERIFIED for the batch cases).
    return errors.bad_request(message, code="0x0")

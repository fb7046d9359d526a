"""``$batch`` on the client side: a small builder, the multipart body, the parsed answer.

Build::

    batch = BatchRequest()
    changes = batch.changeset()                      # atomic: all or nothing
    person = changes.create("contacts", {"firstname": "Ada"})
    changes.create("tasks", {"subject": "Call", "regardingobjectid_contact_task@odata.bind":
                             person.bind})           # "$1": the row created above
    changes.update(person, {"lastname": "Lovelace"})
    batch.get(odata.entity_path("accounts", account_id), select=["name"])

Content-IDs are numbered across the whole batch; a :class:`ContentRef` may only be used
inside the change set that declared it (Dataverse answers 400 otherwise). Requests outside a
change set run one by one; Dataverse stops at the first failure unless the client asks for
``odata.continue-on-error``. At most 1000 requests per batch.

The answer (``multipart/mixed`` with nested ``changesetresponse_`` parts) is parsed into one
:class:`BatchPartResult` per HTTP response, in order.

Pure: no I/O.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import odata

MAX_REQUESTS = 1000
ACTION_PREFIX = "Microsoft.Dynamics.CRM."
CRLF = "\r\n"
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_STATUS_LINE = re.compile(r"^HTTP/\d(?:\.\d)?\s+(\d{3})\s*(.*)$")


@dataclass(frozen=True)
class ContentRef:
    """A row created (or addressed) earlier in the same change set: ``$<content id>``."""

    content_id: int

    @property
    def url(self) -> str:
        """``$n``: usable as a request URL or as an ``@odata.bind``/``@odata.id`` value."""
        return f"${self.content_id}"

    @property
    def bind(self) -> str:
        """The ``<nav>@odata.bind`` value pointing at this row."""
        return self.url


RowAddress = ContentRef | str
"""A row: a :class:`ContentRef`, or a relative path from :func:`odata.entity_path`."""


@dataclass(frozen=True)
class BatchOperation:
    """One HTTP request inside the batch."""

    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_id: int | None = None

    @property
    def is_write(self) -> bool:
        """True for anything but GET (writes carry the loop-prevention tag)."""
        return self.method != "GET"


class ChangeSet:
    """Operations that succeed or fail together; each gets a Content-ID."""

    def __init__(self, batch: BatchRequest) -> None:
        self._batch = batch
        self.operations: list[BatchOperation] = []

    def create(self, entity_set: str, record: Mapping[str, Any]) -> ContentRef:
        """POST a new row; the returned reference addresses it later in this change set."""
        return self._add("POST", odata.encode_path(odata.identifier(entity_set)), record)

    def update(
        self, row: RowAddress, record: Mapping[str, Any], *, if_match: str | None = "*"
    ) -> ContentRef:
        """PATCH ``row``; ``if_match="*"`` (default) makes it update-only, an ETag makes it
        conditional, None lets it upsert."""
        headers = {"If-Match": if_match} if if_match else {}
        return self._add("PATCH", _url(row), record, headers)

    def upsert(
        self, row: RowAddress, record: Mapping[str, Any], *, create_only: bool = False
    ) -> ContentRef:
        """PATCH ``row`` (often an alternate-key address) creating or updating it;
        ``create_only`` sends ``If-None-Match: *``, so it fails with 412 when the row exists."""
        headers = {"If-None-Match": "*"} if create_only else {}
        return self._add("PATCH", _url(row), record, headers)

    def delete(self, row: RowAddress, *, if_match: str | None = None) -> ContentRef:
        """DELETE ``row`` (conditional on ``if_match`` when given)."""
        headers = {"If-Match": if_match} if if_match else {}
        return self._add("DELETE", _url(row), None, headers)

    def associate(self, row: RowAddress, navigation: str, related: RowAddress) -> ContentRef:
        """Add ``related`` to the collection navigation ``navigation`` of ``row``."""
        target = related.url if isinstance(related, ContentRef) else related
        url = f"{_url(row)}/{odata.identifier(navigation)}/$ref"
        return self._add("POST", url, {"@odata.id": target})

    def action(
        self, row: RowAddress, name: str, parameters: Mapping[str, Any] | None = None
    ) -> ContentRef:
        """POST the action ``name`` bound to ``row`` (``Microsoft.Dynamics.CRM.<name>``)."""
        url = f"{_url(row)}/{ACTION_PREFIX}{odata.identifier(name)}"
        return self._add("POST", url, dict(parameters or {}))

    def _add(
        self,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str] | None = None,
    ) -> ContentRef:
        content_id = self._batch._reserve()
        self.operations.append(BatchOperation(method, url, body, headers or {}, content_id))
        return ContentRef(content_id)


class BatchRequest:
    """A ``$batch``: reads and change sets, in the order they were added."""

    def __init__(self) -> None:
        self.items: list[BatchOperation | ChangeSet] = []
        self._next_content_id = 1
        self._count = 0

    def get(self, path: str, *, select: Sequence[str] = ()) -> None:
        """Read one row (``path`` from :func:`odata.entity_path`) or a collection."""
        self._reserve()
        url = odata.with_query(path, odata.query_string(select=select))
        self.items.append(BatchOperation("GET", url, headers={"Accept": "application/json"}))

    def changeset(self) -> ChangeSet:
        """A new change set, placed after what was added so far."""
        changes = ChangeSet(self)
        self.items.append(changes)
        return changes

    def __len__(self) -> int:
        return self._count

    def _reserve(self) -> int:
        if self._count >= MAX_REQUESTS:
            raise ValueError(f"a batch holds at most {MAX_REQUESTS} requests")
        self._count += 1
        content_id = self._next_content_id
        self._next_content_id += 1
        return content_id


def _url(row: RowAddress) -> str:
    return row.url if isinstance(row, ContentRef) else row


@dataclass(frozen=True)
class BatchPartResult:
    """One HTTP response inside the batch answer."""

    index: int
    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    content_id: str | None = None
    changeset: int | None = None

    @property
    def ok(self) -> bool:
        """A 2xx (or 304) status."""
        return 200 <= self.status < 300 or self.status == 304

    def json(self) -> Any:
        """The body as JSON (None when empty)."""
        return json.loads(self.body) if self.body.strip() else None

    @property
    def entity_id(self) -> str | None:
        """The GUID from ``OData-EntityId``/``Location`` (creates and upserts)."""
        url = self.headers.get("odata-entityid") or self.headers.get("location")
        return odata.entity_id_from_url(url) if url else None


def encode(
    batch: BatchRequest, api_path: str, tag: str | None = None
) -> tuple[str, bytes]:
    """``(Content-Type, body)`` of the ``$batch`` request.

    ``api_path`` is the service root path (``/api/data/v9.2/``) request lines are relative
    to; ``tag`` is added to every write that addresses a URL (not a ``$n`` reference).
    """
    boundary = f"batch_{uuid.uuid4()}"
    lines: list[str] = []
    for item in batch.items:
        lines.append(f"--{boundary}")
        if isinstance(item, ChangeSet):
            inner = f"changeset_{uuid.uuid4()}"
            lines += [f"Content-Type: multipart/mixed; boundary={inner}", ""]
            for operation in item.operations:
                lines.append(f"--{inner}")
                lines += _encode_operation(operation, api_path, tag)
            lines.append(f"--{inner}--")
        else:
            lines += _encode_operation(item, api_path, tag)
    lines.append(f"--{boundary}--")
    lines.append("")
    return f"multipart/mixed; boundary={boundary}", CRLF.join(lines).encode("utf-8")


def _encode_operation(operation: BatchOperation, api_path: str, tag: str | None) -> list[str]:
    url = operation.url
    if not url.startswith("$"):
        if tag and operation.is_write:
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}{odata.query_string(extra={'tag': tag})}"
        url = api_path + url
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if operation.content_id is not None:
        lines.append(f"Content-ID: {operation.content_id}")
    lines += ["", f"{operation.method} {url} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in operation.headers.items()]
    if operation.body is not None:
        lines += ["Content-Type: application/json; type=entry", ""]
        lines.append(
            json.dumps(operation.body, separators=(",", ":"), default=odata.json_default)
        )
    else:
        lines.append("")
    lines.append("")
    return lines


def parse_response(content_type: str, body: bytes) -> list[BatchPartResult]:
    """Every HTTP response in a ``$batch`` answer, change-set responses flattened in order."""
    boundary = boundary_of(content_type)
    if boundary is None:
        raise ValueError(f"not a multipart batch response: {content_type!r}")
    results: list[BatchPartResult] = []
    _collect(body, boundary, None, results, changesets=[0])
    return results


def results_by_item(
    batch: BatchRequest, results: Sequence[BatchPartResult]
) -> list[list[BatchPartResult]]:
    """The answer split per item of ``batch``, in order: a read's one response; a change
    set's responses, or the one response that failed it (Dataverse answers a failed change
    set with that response alone). An item the batch never got to has no responses."""
    groups: list[list[BatchPartResult]] = []
    index = 0
    for item in batch.items:
        first = results[index] if index < len(results) else None
        if first is None:
            groups.append([])
            continue
        end = index + 1
        if isinstance(item, ChangeSet) and first.changeset is not None:
            while end < len(results) and results[end].changeset == first.changeset:
                end += 1
        groups.append(list(results[index:end]))
        index = end
    if index != len(results):
        raise ValueError(f"the batch answer has {len(results)} responses; {index} were expected")
    return groups


def boundary_of(content_type: str) -> str | None:
    """The ``boundary`` parameter of a ``multipart/*`` Content-Type."""
    if not content_type.lower().startswith("multipart/"):
        return None
    match = _BOUNDARY.search(content_type)
    return match.group(1) if match else None


def _collect(
    body: bytes,
    boundary: str,
    changeset: int | None,
    results: list[BatchPartResult],
    changesets: list[int],
) -> None:
    for part in _split(body, boundary):
        mime_lines, content = _split_head(part)
        mime_headers = _headers(mime_lines)
        inner = boundary_of(mime_headers.get("content-type", ""))
        if inner is not None:
            number = changesets[0]
            changesets[0] += 1
            _collect(content, inner, number, results, changesets)
            continue
        results.append(
            _parse_http(content, len(results), mime_headers.get("content-id"), changeset)
        )


def _split(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode("ascii")
    parts: list[bytes] = []
    for section in body.split(delimiter)[1:]:
        if section.startswith(b"--"):
            break
        parts.append(_strip_line_breaks(section))
    return parts


def _strip_line_breaks(section: bytes) -> bytes:
    """Drop the line break after a delimiter and the one that belongs to the next one."""
    for prefix in (b"\r\n", b"\n"):
        if section.startswith(prefix):
            section = section[len(prefix) :]
            break
    for suffix in (b"\r\n", b"\n"):
        if section.endswith(suffix):
            return section[: -len(suffix)]
    return section


def _split_head(content: bytes) -> tuple[list[str], bytes]:
    """The header lines and the content after the first blank line."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = content.partition(separator)
        if found:
            return head.decode("utf-8", "replace").splitlines(), rest
    return content.decode("utf-8", "replace").splitlines(), b""


def _headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _parse_http(
    content: bytes, index: int, content_id: str | None, changeset: int | None
) -> BatchPartResult:
    head, body = _split_head(content)
    status_line = head[0] if head else ""
    match = _STATUS_LINE.match(status_line)
    if match is None:
        raise ValueError(f"batch part {index} has no HTTP status line: {status_line!r}")
    headers = _headers(head[1:])
    return BatchPartResult(
        index=index,
        status=int(match.group(1)),
        reason=match.group(2).strip(),
        headers=headers,
        body=body,
        content_id=content_id or headers.get("content-id"),
        changeset=changeset,
    )


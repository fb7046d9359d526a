"""The errors the Dataverse client raises, and how an error response becomes one.

Exception tree::

    DataverseError                     anything this package raises
    ├── AuthenticationError            no token: msal's error, AADSTS codes, description
    ├── TransportError                 connection refused/dropped or timed out, retries spent
    ├── BatchError                     a $batch part failed; .part and .error say which and why
    └── ResponseError                  Dataverse answered with an error status
        ├── ValidationError            400  bad payload, unknown column, value too long
        ├── UnauthorizedError          401  even with a freshly acquired token
        ├── AuthorizationError         403  the application user lacks a privilege
        ├── NotFoundError              404  no such row, key, table or function
        ├── ConflictError              409
        ├── PreconditionFailedError    412  stale ETag (If-Match) ...
        │   └── DuplicateRecordError   412  ... or the row/key already exists (If-None-Match: *)
        ├── ThrottledError             429  service protection, still throttled past the budget
        └── TransientError             502/503/504, still failing past the budget

Every :class:`ResponseError` carries ``status``, Dataverse's ``code`` (the hex code from the
error envelope, often empty), ``message`` and ``request_id`` (from ``REQ_ID`` or
``x-ms-service-request-id``) so a log line can be matched with Microsoft support. The mapping
(:func:`error_from_response`) is pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .batch import BatchPartResult

REQUEST_ID_HEADERS = ("req_id", "x-ms-service-request-id", "x-ms-request-id")
DUPLICATE_CODES = frozenset({"0x80040237", "0x80040333"})
_AADSTS = re.compile(r"AADSTS\d+")


class DataverseError(Exception):
    """Base of every error the Dataverse client raises."""


class AuthenticationError(DataverseError):
    """A token could not be acquired; ``error``/``description``/``codes`` come from msal."""

    def __init__(
        self, error: str, description: str = "", codes: tuple[int, ...] = ()
    ) -> None:
        self.error = error
        self.description = description
        self.codes = codes or tuple(int(c[6:]) for c in _AADSTS.findall(description))
        detail = f": {description}" if description else ""
        super().__init__(f"token request failed ({error}){detail}")

    @classmethod
    def from_msal(cls, result: Mapping[str, Any]) -> AuthenticationError:
        """Build from an msal result dict that has ``error`` instead of ``access_token``."""
        codes = tuple(int(c) for c in result.get("error_codes") or () if str(c).isdigit())
        return cls(
            str(result.get("error") or "unknown_error"),
            str(result.get("error_description") or ""),
            codes,
        )


class TransportError(DataverseError):
    """No answer: the connection failed or timed out on every attempt within the budget."""


class ResponseError(DataverseError):
    """Dataverse answered with an error status and (usually) its error envelope."""

    def __init__(
        self, status: int, code: str, message: str, request_id: str | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        code_text = f" {code}" if code else ""
        super().__init__(f"HTTP {status}{code_text}: {message}")


class ValidationError(ResponseError):
    """400: the request or its payload is not acceptable."""


class UnauthorizedError(ResponseError):
    """401: the bearer token was refused even after acquiring a new one."""


class AuthorizationError(ResponseError):
    """403: the caller is authenticated but not allowed to do this."""


class NotFoundError(ResponseError):
    """404: the row, key, table or function does not exist."""


class ConflictError(ResponseError):
    """409: the request conflicts with the row's current state."""


class PreconditionFailedError(ResponseError):
    """412: a condition (``If-Match`` ETag, ``If-None-Match: *``) did not hold."""


class DuplicateRecordError(PreconditionFailedError):
    """412: a row with the same key exists (create-only upsert, duplicate detection)."""


class ThrottledError(ResponseError):
    """429: service protection limits; ``retry_after`` is Dataverse's ``Retry-After`` (s)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, request_id)
        self.retry_after = retry_after


class TransientError(ResponseError):
    """502/503/504: the service was unavailable on every attempt within the budget."""


class BatchError(DataverseError):
    """A ``$batch`` part failed; ``part`` is its result and ``error`` the typed error."""

    def __init__(self, part: BatchPartResult, error: ResponseError) -> None:
        self.part = part
        self.error = error
        where = f"Content-ID {part.content_id}" if part.content_id else f"part {part.index}"
        super().__init__(f"batch {where} failed: {error}")


_BY_STATUS: dict[int, type[ResponseError]] = {
    400: ValidationError,
    401: UnauthorizedError,
    403: AuthorizationError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    429: ThrottledError,
    502: TransientError,
    503: TransientError,
    504: TransientError,
}


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds (Dataverse sends an integer), if usable."""
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """Dataverse's id of the request (``REQ_ID``, ``x-ms-service-request-id``...)."""
    for name in REQUEST_ID_HEADERS:
        value = _header(headers, name)
        if value:
            return value
    return None


def parse_envelope(body: bytes | str | None) -> tuple[str, str]:
    """``(code, message)`` from ``{"error": {"code": ..., "message": ...}}``.

    A body that is not the envelope (an HTML error page from a gateway, empty) gives an empty
    code and a short excerpt of the body as the message.
    """
    if not body:
        return "", ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload = json.loads(text)
    except ValueError:
        return "", text.strip()[:200]
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return "", text.strip()[:200]
    return str(error.get("code") or ""), str(error.get("message") or "")


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes | str | None
) -> ResponseError:
    """The typed error for an error response (pure: status, headers and body in)."""
    code, message = parse_envelope(body)
    message = message or f"HTTP {status}"
    request_id = request_id_of(headers)
    if status == 429:
        return ThrottledError(status, code, message, request_id, retry_after_seconds(headers))
    if status == 412 and code.lower() in DUPLICATE_CODES:
        return DuplicateRecordError(status, code, message, request_id)
    kind = _BY_STATUS.get(status, ResponseError)
    return kind(status, code, message, request_id)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for any mapping."""
    value = headers.get(name)
    if value is not None:
        return value
    for key, item in headers.items():
        if key.lower() == name:
            return item
    return None

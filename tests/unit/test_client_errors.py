"""Error responses map to the typed exception tree (pure: status, headers, body in)."""

from __future__ import annotations

import json

import pytest

from plugins.dataverse import errors
from plugins.dataverse.errors import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    DataverseError,
    DuplicateRecordError,
    NotFoundError,
    PreconditionFailedError,
    ResponseError,
    ThrottledError,
    TransientError,
    UnauthorizedError,
    ValidationError,
    error_from_response,
)


def envelope(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "0x0", ValidationError),
        (400, "0x80048d19", ValidationError),
        (401, "0x80072560", UnauthorizedError),
        (403, "", AuthorizationError),
        (404, "0x80040217", NotFoundError),
        (404, "0x8006088a", NotFoundError),
        (405, "0x80060888", ResponseError),
        (409, "", ConflictError),
        (412, "0x80060882", PreconditionFailedError),
        (412, "", PreconditionFailedError),
        (412, "0x80040237", DuplicateRecordError),
        (412, "0x80040333", DuplicateRecordError),
        (413, "", ResponseError),
        (429, "0x80072322", ThrottledError),
        (500, "0x80040216", ResponseError),
        (502, "", TransientError),
        (503, "", TransientError),
        (504, "", TransientError),
    ],
)
def test_status_and_code_pick_the_type(status: int, code: str, kind: type) -> None:
    error = error_from_response(status, {}, envelope(code, "boom"))
    assert type(error) is kind
    assert (error.status, error.code, error.message) == (status, code, "boom")
    assert isinstance(error, DataverseError)


def test_duplicate_is_a_precondition_failure() -> None:
    error = error_from_response(412, {}, envelope("0x80040237", "exists"))
    assert isinstance(error, PreconditionFailedError)


def test_not_found_message_and_str() -> None:
    error = error_from_response(
        404, {}, envelope("0x80040217", f"contact With Id = {'1' * 8} Does Not Exist")
    )
    assert str(error) == "HTTP 404 0x80040217: contact With Id = 11111111 Does Not Exist"


@pytest.mark.parametrize(
    "headers",
    [
        {"REQ_ID": "abc"},
        {"req_id": "abc"},
        {"x-ms-service-request-id": "abc"},
        {"X-MS-Service-Request-Id": "abc"},
        {"x-ms-request-id": "abc"},
    ],
)
def test_request_id_from_headers(headers: dict[str, str]) -> None:
    assert error_from_response(400, headers, envelope("", "x")).request_id == "abc"


def test_request_id_absent() -> None:
    assert error_from_response(400, {}, envelope("", "x")).request_id is None


@pytest.mark.parametrize(
    ("value", "seconds"), [("7", 7.0), ("0", 0.0), ("2.5", 2.5), ("soon", None), ("-1", None)]
)
def test_throttled_carries_retry_after(value: str, seconds: float | None) -> None:
    error = error_from_response(429, {"Retry-After": value}, envelope("0x80072322", "limit"))
    assert isinstance(error, ThrottledError)
    assert error.retry_after == seconds


def test_throttled_without_retry_after() -> None:
    error = error_from_response(429, {}, b"")
    assert isinstance(error, ThrottledError) and error.retry_after is None


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (None, "", "HTTP 503"),
        (b"", "", "HTTP 503"),
        (b"<html>Service Unavailable</html>", "", "<html>Service Unavailable</html>"),
        (b'{"unexpected": true}', "", '{"unexpected": true}'),
        (b'{"error": "flat"}', "", '{"error": "flat"}'),
        (b'{"error": {"code": null, "message": null}}', "", "HTTP 503"),
        ('{"error": {"code": "0x1", "message": "text body"}}', "0x1", "text body"),
    ],
)
def test_bodies_that_are_not_the_envelope(body: bytes | None, code: str, message: str) -> None:
    error = error_from_response(503, {}, body)
    assert isinstance(error, TransientError)
    assert (error.code, error.message) == (code, message)


def test_long_non_envelope_body_is_cut() -> None:
    error = error_from_response(502, {}, b"x" * 5000)
    assert len(error.message) == 200


def test_authentication_error_from_msal_result() -> None:
    error = AuthenticationError.from_msal(
        {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
            "error_codes": [7000215],
        }
    )
    assert error.error == "invalid_client"
    assert error.codes == (7000215,)
    assert "AADSTS7000215" in str(error) and "invalid_client" in str(error)


def test_authentication_error_codes_from_description() -> None:
    error = AuthenticationError.from_msal(
        {"error": "unauthorized_client", "error_description": "AADSTS700016: app not found"}
    )
    assert error.codes == (700016,)


def test_authentication_error_without_details() -> None:
    error = AuthenticationError.from_msal({})
    assert error.error == "unknown_error" and error.codes == ()


def test_tree() -> None:
    for kind in (
        errors.ValidationError,
        errors.UnauthorizedError,
        errors.AuthorizationError,
        errors.NotFoundError,
        errors.ConflictError,
        errors.PreconditionFailedError,
        errors.ThrottledError,
        errors.TransientError,
    ):
        assert issubclass(kind, ResponseError)
    for kind in (errors.AuthenticationError, errors.TransportError, errors.BatchError):
        assert issubclass(kind, DataverseError) and not issubclass(kind, ResponseError)

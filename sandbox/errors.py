"""Dataverse's error envelope and the status/code pairs the sandbox answers with.

Every failure the sandbox reports is an :class:`ODataError`; the WSGI layer turns it into
``{"error": {"code": ..., "message": ...}}`` with the HTTP status, as Dataverse does.
"""

from __future__ import annotations


class ODataError(Exception):
    """An error answered with Dataverse's envelope."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def envelope(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def unknown_segment(segment: str) -> ODataError:
    return ODataError(404, "0x8006088a", f"Resource not found for the segment '{segment}'.")


def unknown_property(name: str, logical_name: str) -> ODataError:
    return ODataError(
        400,
        "0x0",
        f"Could not find a property named '{name}' on type "
        f"'Microsoft.Dynamics.CRM.{logical_name}'.",
    )


def row_not_found(logical_name: str, row_id: str) -> ODataError:
    return ODataError(404, "0x80040217", f"{logical_name} With Id = {row_id} Does Not Exist")


def key_not_found(logical_name: str) -> ODataError:
    return ODataError(
        404,
        "0x80060891",
        f"A record with the specified key values does not exist in {logical_name} entity",
    )


def etag_mismatch() -> ODataError:
    return ODataError(
        412,
        "0x80060882",
        "The version of the existing record doesn't match the RowVersion property provided.",
    )


def already_exists() -> ODataError:
    return ODataError(412, "0x80040237", "A record with matching key values already exists.")


def duplicate_key(logical_name: str, key_name: str) -> ODataError:
    return ODataError(
        412,
        "0x80040237",
        f"A record that has the attribute values of key '{key_name}' already exists "
        f"in {logical_name}.",
    )


def bad_request(message: str, code: str = "0x80040216") -> ODataError:
    return ODataError(400, code, message)


def bad_bind(name: str) -> ODataError:
    return ODataError(
        400,
        "0x80048d19",
        f"An undeclared property '{name}' which only has property annotations in the payload "
        "but no property value was found in the payload.",
    )


def validation(message: str) -> ODataError:
    return ODataError(400, "0x80044331", message)


def malformed_json(detail: str) -> ODataError:
    return ODataError(
        400, "0x80048d19", f"Error identified in Payload provided by the user: {detail}"
    )


def invalid_key(logical_name: str) -> ODataError:
    return ODataError(
        400,
        "0x80060888",
        f"The key in the request URI is not valid for resource "
        f"'Microsoft.Dynamics.CRM.{logical_name}'. Ensure that the names and number of key "
        "properties match the declared key properties for the resource.",
    )


def method_not_allowed(method: str, url: str) -> ODataError:
    return ODataError(405, "0x80060888", f"The HTTP method '{method}' is not allowed for '{url}'.")


def unauthorized(message: str = "Authorization failed for the request.") -> ODataError:
    return ODataError(
        401,
        "0x80072560",
        message,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )

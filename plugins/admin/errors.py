"""What went wrong, in one line an admin can act on: the problem and how to fix it."""

from __future__ import annotations

import re

from plugins.core.settings import DataverseSettings
from plugins.dataverse.errors import (
    AuthenticationError,
    AuthorizationError,
    BatchError,
    DataverseError,
    ResponseError,
    ThrottledError,
    TransientError,
    TransportError,
    UnauthorizedError,
)

from .endpoint import DeliveryError
from .steps import RegistrationError

MAX_LINE = 400
EXIT_FAILED = 1
EXIT_USAGE = 2
# Entra answers these when the scope names no resource the tenant knows.
UNKNOWN_RESOURCE_CODES = frozenset({500011, 70011})
NOT_A_MEMBER_CODE = "0x80072560"
_CONNECTION_REASONS = (
    ("certificate verify failed", "its TLS certificate is not trusted (DATAVERSE__CA_BUNDLE)"),
    ("connection refused", "connection refused"),
    ("name or service not known", "no such host"),
    ("nodename nor servname", "no such host"),
    ("temporary failure in name resolution", "the host name cannot be resolved"),
    ("timed out", "the connection timed out"),
    ("remotedisconnected", "the server closed the connection"),
    ("connection aborted", "the server closed the connection"),
)


class AdminError(Exception):
    """A problem the admin must fix; ``str()`` is the line to print."""

    exit_code = EXIT_FAILED


class UsageError(AdminError):
    """The command line or a settings file is wrong."""

    exit_code = EXIT_USAGE


class NotDataverseError(AdminError):
    """The environment URL answers, or not, but not as Dataverse does."""


def explain(exc: BaseException, settings: DataverseSettings) -> str:
    """The one line to print for ``exc``."""
    return one_line(_explanation(exc, settings))


def exit_code(exc: BaseException) -> int:
    """The process exit code for ``exc`` (2 for bad input, 1 otherwise)."""
    if isinstance(exc, AdminError):
        return exc.exit_code
    return EXIT_USAGE if isinstance(exc, DeliveryError) else EXIT_FAILED


def one_line(text: str) -> str:
    """``text`` on one line, at most :data:`MAX_LINE` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 3] + "..."


def auth_reason(exc: AuthenticationError) -> str:
    """msal's error and the first sentence of its description (no trace ids, no secrets)."""
    sentence = exc.description.split(". ", 1)[0].strip().rstrip(".")
    return f"{exc.error}: {sentence}" if sentence else exc.error


def connection_reason(exc: TransportError) -> str:
    """Why a connection failed, in a few words."""
    text = str(exc).lower()
    for needle, reason in _CONNECTION_REASONS:
        if needle in text:
            return reason
    return "no answer"


def _explanation(exc: BaseException, settings: DataverseSettings) -> str:
    if isinstance(exc, AdminError | DeliveryError | RegistrationError):
        return str(exc)
    if isinstance(exc, AuthenticationError):
        return _sign_in(exc, settings)
    if isinstance(exc, BatchError):
        return _response(exc.error, " (nothing was registered: the change set rolled back)")
    if isinstance(exc, ResponseError):
        return _response(exc)
    if isinstance(exc, TransportError):
        return (
            f"cannot reach Dataverse at {settings.url} ({connection_reason(exc)}): check "
            "DATAVERSE__URL and the network"
        )
    if isinstance(exc, DataverseError):
        return f"Dataverse client error: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"


def _sign_in(exc: AuthenticationError, settings: DataverseSettings) -> str:
    reason = auth_reason(exc)
    if UNKNOWN_RESOURCE_CODES & set(exc.codes):
        return (
            f"DATAVERSE__URL {settings.url} is not a Dataverse environment this tenant knows "
            f"({reason}): use the environment URL from the Power Platform admin center, "
            "e.g. https://<org>.crm4.dynamics.com"
        )
    if exc.error == "invalid_configuration":
        return (
            f"the Dataverse settings are incomplete ({exc.description}): set DATAVERSE__URL, "
            "DATAVERSE__TENANT_ID, DATAVERSE__CLIENT_ID and a credential"
        )
    return (
        f"cannot sign in to Dataverse ({reason}): check DATAVERSE__TENANT_ID, "
        "DATAVERSE__CLIENT_ID and DATAVERSE__CLIENT_SECRET (or the certificate settings)"
    )


def _response(exc: ResponseError, suffix: str = "") -> str:
    code = f" {exc.code}" if exc.code else ""
    answer = f"HTTP {exc.status}{code}: {exc.message}"
    if isinstance(exc, AuthorizationError) and exc.code.lower() == NOT_A_MEMBER_CODE:
        return (
            f"the app registration is not an application user of this environment ({answer}): "
            "add it under Power Platform admin center > Application users, with a security role"
        )
    if isinstance(exc, AuthorizationError):
        return (
            f"the application user lacks a privilege ({answer}){suffix}: give it a security "
            "role that may manage service endpoints and SDK message processing steps "
            "(e.g. System Administrator), then run again"
        )
    if isinstance(exc, UnauthorizedError):
        return (
            f"Dataverse refused the token ({answer}): check that DATAVERSE__URL is the "
            "environment the app registration has an application user in"
        )
    if isinstance(exc, ThrottledError):
        wait = f" {exc.retry_after:g} s" if exc.retry_after is not None else ""
        return f"Dataverse is throttling this application user ({answer}): wait{wait} and run again"
    if isinstance(exc, TransientError):
        return f"Dataverse is unavailable ({answer}): run again in a few minutes"
    return f"Dataverse refused the request ({answer}){suffix}"

"""The CLI's connection to Dataverse: the product's own settings, and a quick check that
they lead to a Dataverse environment before anything is planned or written."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from plugins.core.settings import DataverseSettings, Settings
from plugins.core.settings_groups import SettingsError, read_groups
from plugins.dataverse.auth import TokenProvider, token_provider_for
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import ResponseError, TransportError

from .errors import NotDataverseError, UsageError, connection_reason

# The check must fail fast: a wrong URL should not wait out the product's retry budget.
PROBE_LIMITS = {"max_attempts": 2, "retry_budget_seconds": 5.0, "request_timeout_seconds": 15.0}
# What the commands read: the connection, the names, the queue, the follow-up steps.
ADMIN_GROUPS = ("dataverse", "schema_map", "registration", "sync")
# What a web server that is not Dataverse answers when asked for the Web API's WhoAmI.
NOT_AN_API_STATUSES = frozenset({400, 404, 405})


def load_settings(settings_file: Path | None = None) -> Settings:
    """The settings groups the admin commands use (:data:`ADMIN_GROUPS`): the environment,
    plus the ``Values`` of a ``local.settings.json`` for the names the environment does not
    set (as Core Tools does). A bad value in another group (the pages', say) is not theirs to
    refuse: the health check names it.
    """
    values = read_settings_file(settings_file) if settings_file else {}
    with _environment(values):
        try:
            return read_groups(*ADMIN_GROUPS)
        except SettingsError as exc:
            raise UsageError(f"invalid settings: {exc}: fix it and run again") from exc


def read_settings_file(path: Path) -> dict[str, str]:
    """The ``Values`` of a ``local.settings.json``; UsageError when it is unusable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read --settings {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(f"--settings {path} is not JSON: {exc}") from exc
    values = document.get("Values") if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise UsageError(f"--settings {path} has no \"Values\" object")
    return {str(name): "" if value is None else str(value) for name, value in values.items()}


def connect(settings: DataverseSettings) -> DataverseClient:
    """A client for the environment, after :func:`check_connection` passed."""
    if not settings.url:
        raise UsageError("DATAVERSE__URL is not set: set it to the environment URL")
    tokens = token_provider_for(settings)
    check_connection(settings, tokens)
    return DataverseClient(settings, token_provider=tokens)


def check_connection(settings: DataverseSettings, tokens: TokenProvider) -> None:
    """Get a token, then ask ``WhoAmI``: every failure is raised with what it means.

    A sign-in failure stays an :class:`AuthenticationError`; a URL that does not answer, or
    answers without Dataverse's Web API, is a :class:`NotDataverseError`.
    """
    try:
        tokens.token()
    except TransportError as exc:
        raise NotDataverseError(
            f"cannot reach the sign-in service {settings.authority_host} "
            f"({connection_reason(exc)}): check DATAVERSE__AUTHORITY_HOST and the network"
        ) from exc
    probe = settings.model_copy(update=PROBE_LIMITS)
    with DataverseClient(probe, token_provider=tokens) as client:
        try:
            answer = client.call_function("WhoAmI")
        except ResponseError as exc:
            if exc.status not in NOT_AN_API_STATUSES:
                raise
            raise NotDataverseError(_not_dataverse(settings, "has no Dataverse Web API")) from exc
        except TransportError as exc:
            raise NotDataverseError(
                f"cannot reach Dataverse at {settings.url} ({connection_reason(exc)}): check "
                "DATAVERSE__URL and the network"
            ) from exc
        except ValueError as exc:
            raise NotDataverseError(_not_dataverse(settings, "does not answer JSON")) from exc
    if not isinstance(answer, dict) or "UserId" not in answer:
        raise NotDataverseError(_not_dataverse(settings, "does not answer WhoAmI"))


def _not_dataverse(settings: DataverseSettings, finding: str) -> str:
    return (
        f"DATAVERSE__URL {settings.url} is not a Dataverse environment (it {finding}): use "
        "the environment URL from the Power Platform admin center, e.g. "
        "https://<org>.crm4.dynamics.com"
    )


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    added = [name for name in values if name not in os.environ]
    for name in added:
        os.environ[name] = values[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)

"""App settings and ``host.json``, read the way Azure Functions Core Tools reads them."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import HostError

log = logging.getLogger(__name__)

DEFAULT_ROUTE_PREFIX = "api"
DEFAULT_MAX_CONCURRENT_CALLS = 16
# Service Bus extension 5.x: messages handed to one call of a cardinality-many trigger.
DEFAULT_MAX_MESSAGE_BATCH_SIZE = 1000
SETTING_EXPRESSION = re.compile(r"%([^%]+)%")


def read_local_settings(path: Path) -> dict[str, str]:
    """The ``Values`` of a ``local.settings.json`` (``{"IsEncrypted": false, "Values": {}}``)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise HostError(f"{path}: expected a JSON object")
    if document.get("IsEncrypted"):
        raise HostError(f"{path}: encrypted settings are not supported; set IsEncrypted false")
    values = document.get("Values", {})
    if not isinstance(values, dict):
        raise HostError(f"{path}: 'Values' must be an object of setting names to strings")
    return {str(name): "" if value is None else str(value) for name, value in values.items()}


def resolve_setting_expression(text: str) -> str:
    """Replace each ``%Name%`` with the app setting ``Name``, as binding expressions do."""

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise HostError(f"app setting '{name}' used in '{text}' is not set")
        return os.environ[name]

    return SETTING_EXPRESSION.sub(setting, text)


class EnvironmentOverlay:
    """App settings put into ``os.environ`` for the app and taken out again.

    As in Core Tools, a variable already set in the environment wins over the settings file.
    """

    def __init__(self, settings: Mapping[str, str]) -> None:
        self._settings = dict(settings)
        self._added: list[str] = []

    def apply(self) -> None:
        """Set every setting the environment does not already define."""
        for name, value in self._settings.items():
            if name in os.environ:
                log.info("app setting '%s' is already set in the environment; keeping that", name)
                continue
            os.environ[name] = value
            self._added.append(name)

    def restore(self) -> None:
        """Remove the variables :meth:`apply` added."""
        for name in self._added:
            os.environ.pop(name, None)
        self._added.clear()


@dataclass(frozen=True)
class HostConfig:
    """The parts of ``host.json`` the local host honours."""

    route_prefix: str = DEFAULT_ROUTE_PREFIX
    max_concurrent_calls: int = DEFAULT_MAX_CONCURRENT_CALLS
    max_message_batch_size: int = DEFAULT_MAX_MESSAGE_BATCH_SIZE
    auto_complete_messages: bool = True

    @classmethod
    def from_folder(cls, folder: Path) -> HostConfig:
        """Read ``host.json`` in ``folder``; the defaults when there is none."""
        path = folder / "host.json"
        if not path.exists():
            return cls()
        document = json.loads(path.read_text(encoding="utf-8"))
        extensions: dict[str, Any] = document.get("extensions") or {}
        http: dict[str, Any] = extensions.get("http") or {}
        servicebus: dict[str, Any] = extensions.get("serviceBus") or {}
        # Extension 5.x puts the setting at the top; 2.x-4.x under messageHandlerOptions.
        legacy: dict[str, Any] = servicebus.get("messageHandlerOptions") or {}
        calls = servicebus.get("maxConcurrentCalls", legacy.get("maxConcurrentCalls"))
        max_calls = DEFAULT_MAX_CONCURRENT_CALLS if calls is None else int(calls)
        if max_calls < 1:
            raise HostError(f"{path}: maxConcurrentCalls must be at least 1")
        batch = int(servicebus.get("maxMessageBatchSize", DEFAULT_MAX_MESSAGE_BATCH_SIZE))
        if batch < 1:
            raise HostError(f"{path}: maxMessageBatchSize must be at least 1")
        return cls(
            route_prefix=str(http.get("routePrefix", DEFAULT_ROUTE_PREFIX)).strip("/"),
            max_concurrent_calls=max_calls,
            max_message_batch_size=batch,
            auto_complete_messages=bool(
                servicebus.get("autoCompleteMessages", legacy.get("autoComplete", True))
            ),
        )

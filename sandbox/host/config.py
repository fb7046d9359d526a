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


def read_local_http_port(path: Path) -> int | None:
    """``Host.LocalHttpPort`` of a ``local.settings.json`` (Core Tools listens there), if set."""
    document = json.loads(path.read_text(encoding="utf-8"))
    port = (document.get("Host") or {}).get("LocalHttpPort") if isinstance(document, dict) else None
    if port is None:
        return None
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise HostError(f"{path}: Host.LocalHttpPort must be a port number, not {port!r}")
    return port


class UnresolvedSetting(HostError):
    """A binding expression names an app setting the configuration does not hold."""


def configuration_key(name: str) -> str:
    """The .NET configuration key of an environment variable: ``__`` is the ``:`` separator,
    and keys compare without regard to case."""
    return name.replace("__", ":").lower()


def app_configuration(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The app settings as the host's .NET configuration holds them, key -> value.

    The environment-variables provider stores ``A__B`` under ``A:B``; the name resolver then
    looks a ``%NAME%`` up as the key ``NAME`` as written. So ``%A:B%`` finds ``A__B`` while
    ``%A__B%`` finds nothing (the platform behaviour the binding settings' names avoid).
    """
    source = os.environ if environ is None else environ
    return {configuration_key(name): value for name, value in source.items()}


def resolve_setting_expression(text: str, configuration: Mapping[str, str] | None = None) -> str:
    """Replace each ``%Name%`` with the app setting ``Name``, as the host's name resolver does.

    An unresolved name raises :class:`UnresolvedSetting` with the host's own wording.
    """
    values = app_configuration() if configuration is None else configuration

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name.lower())
        if value is None:
            hint = (
                f" (an app setting named '{name}' is the configuration key "
                f"'{name.replace('__', ':')}': use a name without '__')"
                if "__" in name else ""
            )
            raise UnresolvedSetting(f"'%{name}%' does not resolve to a value{hint}")
        return value

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
        """Read ``host.json`` in ``folder`` (the defaults when there is none), with the app
        settings that override it, as the host applies them:
        ``AzureFunctionsJobHost__extensions__serviceBus__maxMessageBatchSize=1``."""
        path = folder / "host.json"
        document = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        document = _with_overrides(document, os.environ)
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


HOST_OVERRIDE_PREFIX = "AzureFunctionsJobHost__"


def _with_overrides(document: dict[str, Any], environment: Mapping[str, str]) -> dict[str, Any]:
    """``document`` with each ``AzureFunctionsJobHost__a__b`` setting put at ``a.b`` (keys
    matched without regard to case, as .NET configuration does; values are text, read as
    JSON when they are JSON)."""
    merged = json.loads(json.dumps(document))
    for name, raw in environment.items():
        if not name.lower().startswith(HOST_OVERRIDE_PREFIX.lower()):
            continue
        path = [part for part in name[len(HOST_OVERRIDE_PREFIX):].split("__") if part]
        if not path:
            continue
        node = merged
        for part in path[:-1]:
            key = next((k for k in node if k.lower() == part.lower()), part)
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        key = next((k for k in node if k.lower() == path[-1].lower()), path[-1])
        try:
            node[key] = json.loads(raw)
        except ValueError:
            node[key] = raw
    return merged

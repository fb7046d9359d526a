"""Every binding expression of function_app.py resolves the way the Functions host resolves it.

The functions are indexed by ``azure.functions``' own ``FunctionApp.get_functions()`` (what
the Python worker's indexing calls); every ``%NAME%`` in their bindings is resolved with the
local host's resolver, which follows .NET configuration (``A__B`` is the key ``A:B``), once
with the settings of ``local.settings.example.json`` and once with the app settings
``infra/main.bicep`` deploys. The real worker cannot be installed on Python 3.11 (PyPI's
``azure-functions-worker`` stops at 1.1.9, which needs grpcio 1.33 without cp311 wheels;
``azure-functions-runtime`` needs Python 3.13), so the library's indexing is the one driven.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import function_app
from sandbox.host import LocalHost
from sandbox.host.config import (
    SETTING_EXPRESSION,
    UnresolvedSetting,
    app_configuration,
    read_local_settings,
    resolve_setting_expression,
)
from sandbox.host.loader import indexed_functions
from sandbox.host.ncrontab import parse_schedule

ROOT = Path(__file__).resolve().parents[2]
BICEP_EXPRESSION = "<set by the deployment>"


def bindings() -> Iterator[tuple[str, dict[str, Any]]]:
    """(function name, binding) for every binding of every indexed function."""
    for function in indexed_functions(function_app.app):
        for binding in json.loads(function.get_function_json())["bindings"]:
            yield function.get_function_name(), binding


def expressions() -> list[tuple[str, str, str]]:
    """(function, binding property, value) of every property holding a ``%NAME%``."""
    return [
        (name, key, value)
        for name, binding in bindings()
        for key, value in binding.items()
        if isinstance(value, str) and SETTING_EXPRESSION.search(value)
    ]


def bicep_app_settings() -> dict[str, str]:
    """The ``baseSettings`` of infra/main.bicep: literals as written, expressions marked."""
    text = (ROOT / "infra" / "main.bicep").read_text(encoding="utf-8")
    block = text.split("var baseSettings = {", 1)[1].split("\n}", 1)[0]
    found: dict[str, str] = {}
    for line in block.splitlines():
        match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*):\s*(.+?)\s*$", line)
        if match:
            literal = re.fullmatch(r"'([^']*)'", match.group(2))
            found[match.group(1)] = literal.group(1) if literal else BICEP_EXPRESSION
    return found


def example_settings() -> dict[str, str]:
    return read_local_settings(ROOT / "local.settings.example.json")


def test_the_app_indexes_every_function_with_its_trigger() -> None:
    triggers = {
        name: binding["type"] for name, binding in bindings() if binding.get("direction") == "IN"
        and str(binding["type"]).endswith("Trigger")
    }
    assert triggers["registration_queue"] == "serviceBusTrigger"
    assert triggers["registration_sweep"] == "timerTrigger"
    assert triggers["registration_webhook"] == "httpTrigger"
    assert len(triggers) == len(indexed_functions(function_app.app))


def test_binding_expressions_name_settings_without_double_underscores() -> None:
    found = expressions()
    assert {(name, key) for name, key, _ in found} == {
        ("registration_queue", "queueName"), ("registration_sweep", "schedule")
    }
    for _, _, value in found:
        assert all("__" not in name for name in SETTING_EXPRESSION.findall(value))


@pytest.mark.parametrize("source", ["local.settings.example.json", "infra/main.bicep"])
def test_every_expression_resolves_with_the_shipped_settings(source: str) -> None:
    settings = example_settings() if source.endswith(".json") else bicep_app_settings()
    configuration = app_configuration(settings)
    for name, key, value in expressions():
        resolved = resolve_setting_expression(value, configuration)
        assert resolved, (name, key)
        if key == "schedule" and resolved != BICEP_EXPRESSION:
            parse_schedule(resolved)


def test_the_settings_model_reads_the_values_the_bindings_resolve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from plugins.core.settings import Settings

    settings = example_settings()
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    registration = Settings().registration
    assert registration.queue == settings["REGISTRATION_QUEUE"]
    assert registration.sweep_schedule == settings["REGISTRATION_SWEEP_SCHEDULE"]


def test_the_old_spelling_would_leave_the_functions_in_error() -> None:
    configuration = app_configuration({"REGISTRATION__QUEUE": "mp-registration-events"})
    with pytest.raises(UnresolvedSetting, match="does not resolve to a value"):
        resolve_setting_expression("%REGISTRATION__QUEUE%", configuration)


def test_an_unresolved_expression_stops_only_its_function() -> None:
    settings = {
        name: value for name, value in example_settings().items()
        if name != "REGISTRATION_SWEEP_SCHEDULE"
    }
    settings["REGISTRATION_QUEUE"] = "unused-queue"
    settings["ServiceBusConnection"] = (
        "Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=x;SharedAccessKey=y"
    )
    with LocalHost(str(ROOT / "function_app.py"), settings=settings) as host:
        assert list(host.function_errors) == ["registration_sweep"]
        assert "'%REGISTRATION_SWEEP_SCHEDULE%' does not resolve to a value" in (
            host.function_errors["registration_sweep"]
        )
        assert host.keys is not None
        status = host.base_url + "/admin/functions/registration_sweep/status"
        answer = requests.get(status, params={"code": host.keys.master_key}, timeout=10)
        assert answer.json()["errors"] == [host.function_errors["registration_sweep"]]

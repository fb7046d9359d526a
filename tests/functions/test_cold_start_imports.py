"""What a cold start imports: the triggers, not the services behind them.

The Functions worker imports ``function_app`` on every cold start. The trigger modules name
their services with :class:`plugins.core.lazy.LazyModule`, so the PDF library, the pages'
templates, JWT and cryptography, the bank-file readers, the registry clients, the settings
models and the Dataverse client are imported by the first invocation that needs them.

Checked in fresh interpreters by what ``sys.modules`` holds, not by timing, so a fast or
slow machine cannot pass or fail it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Third-party packages no function needs to start (the Service Bus SDK and the sandbox are
# for the admin CLI and local runs only). werkzeug is checked apart: azure.functions
# imports it itself.
NOT_AT_START = (
    "fpdf", "numpy", "fontTools", "jinja2", "jwt", "cryptography", "netsgiro",
    "azure.servicebus", "sandbox", "msal", "requests", "pydantic_settings",
)
# The product's modules a start may load: the composition root's, the trigger modules and
# the small pieces they use to refuse a request before any service exists.
START_MODULES = {
    "function_app",
    "plugins.core.body_limits",
    "plugins.core.lazy",
    "plugins.core.logging",
    "plugins.core.metrics",
    "plugins.registration.errors",
}
TRIGGER_MODULES = ("functions", "account_functions")
# Loaded by the first registration event, never by it: the invoice PDF and the pages.
NOT_FOR_A_REGISTRATION = ("fpdf", "numpy", "jinja2", "jwt", "plugins.dues.pdf",
                          "plugins.dues.service", "plugins.selfservice.pages",
                          "plugins.selfservice.rendering",
                          # The timer jobs: a registration builds its follow-ups only.
                          "plugins.sync.jobs", "plugins.sync.upkeep", "plugins.sync.degree_feed",
                          "plugins.registries.ladok_feed")


def _modules_after(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; it prints a JSON object of module lists."""
    environment = {name: value for name, value in os.environ.items()
                   if name != "APPLICATIONINSIGHTS_CONNECTION_STRING"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def start() -> dict[str, list[str]]:
    return _modules_after(
        "import json, sys\n"
        "import azure.functions\n"
        "floor = sorted(sys.modules)\n"
        "import function_app\n"
        "app = sorted(sys.modules)\n"
        "functions = [f.get_function_name() for f in function_app.app.get_functions()]\n"
        "print(json.dumps({'floor': floor, 'app': app, 'functions': functions}))\n"
    )


def _under(modules: list[str], package: str) -> list[str]:
    return [name for name in modules if name == package or name.startswith(f"{package}.")]


def test_the_start_indexes_every_function(start: dict[str, list[str]]) -> None:
    assert {"registration_webhook", "registration_queue", "health", "mypage_home",
            "mypage_account_invoice", "dues_run", "sync_lifecycle"} <= set(start["functions"])


@pytest.mark.parametrize("package", NOT_AT_START)
def test_the_start_does_not_import(start: dict[str, list[str]], package: str) -> None:
    assert _under(start["app"], package) == []


def test_the_start_imports_no_werkzeug_beyond_azure_functions(
    start: dict[str, list[str]],
) -> None:
    assert _under(start["floor"], "werkzeug")  # else this test checks nothing
    assert _under(start["app"], "werkzeug") == _under(start["floor"], "werkzeug")


def test_the_start_imports_only_the_triggers_of_the_product(
    start: dict[str, list[str]],
) -> None:
    product = [name for name in start["app"] if name == "function_app" or name.startswith(
        "plugins.")]
    others = [
        name for name in product
        if name not in START_MODULES
        and name.rsplit(".", 1)[-1] not in TRIGGER_MODULES
        and name.count(".") > 1  # a plugin package's own __init__ holds its docstring only
    ]
    assert others == []
    for page in ("pages", "account", "frame", "rendering", "forms", "oidc", "runtime"):
        assert f"plugins.selfservice.{page}" not in start["app"]
    for part in ("plugins.dues.service", "plugins.dues.runtime", "plugins.sync.jobs",
                 "plugins.registration.runtime", "plugins.core.settings",
                 "plugins.core.schema_map", "plugins.dataverse.client", "plugins.identity"):
        assert part not in start["app"]


def test_every_lazy_module_imports_and_a_registration_loads_no_pdf_or_pages() -> None:
    found = _modules_after(
        "import importlib, json, sys\n"
        "import function_app\n"
        "from plugins.core.lazy import LazyModule\n"
        "from plugins.registration import functions\n"
        "def lazy(module):\n"
        "    return [v.__name__ for v in vars(module).values() if isinstance(v, LazyModule)]\n"
        "for name in lazy(functions):\n"
        "    importlib.import_module(name)\n"
        "registration = sorted(sys.modules)\n"
        "named = set()\n"
        "while unseen := {n for m in list(sys.modules.values()) for n in lazy(m)} - named:\n"
        "    for name in unseen:\n"
        "        importlib.import_module(name)\n"
        "    named |= unseen\n"
        "print(json.dumps({'registration': registration, 'named': sorted(named)}))\n"
    )
    assert "plugins.registration.runtime" in found["registration"]
    assert {"plugins.dues.pdf", "plugins.selfservice.runtime", "plugins.sync.jobs",
            "plugins.health.service"} <= set(found["named"])
    for package in NOT_FOR_A_REGISTRATION:
        assert _under(found["registration"], package) == []

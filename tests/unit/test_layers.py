"""The layer rules of ARCHITECTURE.md, enforced.

The pure core must import nothing that does I/O (no HTTP client, no Azure SDK, no msal), so
every rule can be tested in microseconds with plain values; and no module outside the
Dataverse adapter may talk HTTP to Dataverse.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PURE_MODULES = [
    "plugins.registration.model",
    "plugins.registration.matching",
    "plugins.registration.decision",
    "plugins.registration.eligibility",
    "plugins.identity",
    "plugins.registries.models",
    "plugins.sync.enrichment",
    "plugins.sync.lifecycle",
    "plugins.sync.policy",
    "plugins.sync.templates",
    "plugins.sync.tombstone",
    "plugins.sync.lookups",
    "plugins.sync.outreach",
    "plugins.sync.plans",
    "plugins.sync.graduation",
    "plugins.sync.degree_changes",
    "plugins.registration.study",
    "plugins.registries.degree_events",
    "plugins.degrees.records",
    "plugins.sync.triggers",
    "plugins.selfservice.signing",
    "plugins.selfservice.csrf",
    "plugins.selfservice.forms",
    "plugins.selfservice.i18n",
    "plugins.selfservice.contrast",
    "plugins.selfservice.ratelimit",
    "plugins.selfservice.headers",
    "plugins.selfservice.web",
    "plugins.core.events",
    "plugins.core.body_limits",
    "plugins.core.schema_map",
    "plugins.dataverse.odata",
    "plugins.registration.review_text",
    "plugins.admin.workspace.texts",
    "plugins.admin.workspace.formxml",
    "plugins.admin.workspace.views",
    "plugins.admin.workspace.sitemap",
    "plugins.admin.workspace.roles",
    "plugins.admin.workspace.components",
    "plugins.admin.workspace.plan",
    "plugins.dues.bankfile",
    "plugins.dues.bgmax",
    "plugins.dues.channels",
    "plugins.dues.document",
    "plugins.dues.invoicing",
    "plugins.dues.matching",
    "plugins.dues.references",
    "plugins.dues.reminders",
    "plugins.dues.terms",
    "plugins.dues.texts",
    "plugins.dues.webhook",
    "plugins.selfservice.account_session",
    "plugins.selfservice.account_texts",
]
HTTP_IMPORT = re.compile(r"^\s*(import|from) (requests|urllib3|httpx)\b", re.M)
IMPURE_PACKAGES = {"requests", "urllib3", "msal", "azure", "tenacity", "werkzeug", "jwt"}


def test_pure_core_imports_no_io_library() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {PURE_MODULES!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert not loaded & IMPURE_PACKAGES, f"pure core pulled in {sorted(loaded & IMPURE_PACKAGES)}"


def _product_modules() -> list[Path]:
    return [*sorted((ROOT / "plugins").rglob("*.py")), ROOT / "function_app.py"]


def test_only_the_dataverse_adapter_speaks_to_the_web_api() -> None:
    adapter = ROOT / "plugins" / "dataverse"
    offenders = [
        str(path.relative_to(ROOT))
        for path in _product_modules()
        if path.exists()
        and not path.is_relative_to(adapter)
        and re.search(r"api/data/v9\.\d", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_only_adapters_import_an_http_client() -> None:
    adapters = (
        ROOT / "plugins" / "dataverse",
        ROOT / "plugins" / "registries",
        ROOT / "plugins" / "servicebus",
        ROOT / "plugins" / "selfservice" / "oidc.py",
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in _product_modules()
        if path.exists()
        and not any(path.is_relative_to(a) for a in adapters)
        and HTTP_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []

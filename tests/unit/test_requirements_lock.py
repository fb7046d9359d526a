"""requirements.txt is the lock of pyproject.toml's runtime dependencies (``make lock``), and
those are exactly what the functions import.

No network: the lock's direct entries (uv marks them ``via member-plugins``) must be the
runtime dependencies, each pinned exactly, within its specifier, with hashes; and the
third-party modules plugins/ and function_app.py import must come from those distributions.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
# Modules only the admin command line imports (never loaded by function_app.py).
CLI_ONLY = {ROOT / "plugins" / "cli.py", ROOT / "plugins" / "admin" / "deadletters.py"}
CLI_ONLY_DISTRIBUTIONS = {"azure-servicebus"}


def runtime() -> dict[str, Requirement]:
    requirements = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


def locked() -> dict[str, tuple[str, bool, bool]]:
    """name -> (pinned version, has hashes, direct) for every entry of the lock."""
    text = (ROOT / "requirements.txt").read_text("utf-8")
    entries: dict[str, tuple[str, bool, bool]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1] if text else ""):
        head = re.match(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s\\]+)", block)
        if head is None:
            continue
        direct = bool(re.search(r"#\s+(via\s+)?member-plugins\b", block))
        entries[canonicalize_name(head.group(1))] = (head.group(3), "--hash=sha256:" in block,
                                                     direct)
    return entries


def test_every_lock_entry_is_pinned_with_hashes() -> None:
    entries = locked()
    assert entries, "requirements.txt has no pinned entries: run make lock"
    assert all(hashes for _, hashes, _ in entries.values())


def test_the_lock_matches_the_runtime_dependencies() -> None:
    entries = locked()
    direct = {name for name, (_, _, is_direct) in entries.items() if is_direct}
    wanted = runtime()
    assert direct == set(wanted), "requirements.txt is out of date: run make lock"
    for name, requirement in wanted.items():
        version = entries[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)


def module_names(path: Path) -> set[str]:
    """The absolute module names a source file imports (``from a import b``: ``a.b`` too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def distribution_of(module: str, owners: dict[Path, str]) -> str | None:
    """The installed distribution whose files hold ``module`` (None: not a module)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return owners.get(Path(spec.origin).resolve())


def imported_distributions() -> set[str]:
    """Distributions of the third-party modules plugins/ and function_app.py import.

    Found by the file each module is loaded from, since namespace packages (``azure``,
    ``opentelemetry``) are shared by many distributions.
    """
    owners = {
        Path(str(dist.locate_file(file))).resolve(): canonicalize_name(dist.metadata["Name"])
        for dist in distributions() for file in dist.files or () if file.suffix == ".py"
    }
    sources = [ROOT / "function_app.py", *sorted((ROOT / "plugins").rglob("*.py"))]
    found: set[str] = set()
    for path in sources:
        if path in CLI_ONLY:
            continue
        for module in module_names(path):
            if module.split(".")[0] in (*sys.stdlib_module_names, "plugins", "sandbox"):
                continue
            owner = distribution_of(module, owners)
            if owner is not None:
                found.add(owner)
    return found


def test_runtime_dependencies_are_exactly_what_the_functions_import() -> None:
    imported = imported_distributions()
    declared = set(runtime())
    assert imported - declared == set(), "imported but not a runtime dependency"
    assert declared - imported == set(), "a runtime dependency nothing imports"


def test_the_function_app_does_not_load_the_cli_only_dependencies() -> None:
    probe = (
        "import sys, function_app; "
        "print(','.join(sorted(m for m in ('azure.servicebus', 'proton', 'sandbox') "
        "if m in sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
        timeout=120,
    ).stdout.strip()
    assert loaded == ""
    assert CLI_ONLY_DISTRIBUTIONS.isdisjoint(runtime())

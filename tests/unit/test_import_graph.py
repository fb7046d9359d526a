"""The import graph of ``plugins/`` and ``sandbox/``: no runtime circles, no part on the root.

A circle of imports that run when a module loads works only while the modules happen to be
imported in a lucky order, and it ties every module in the circle to all the others. The
sandbox's parts (emulators, token service, Service Bus namespace, step dispatcher) plug into
:mod:`sandbox.core`; only code that builds a whole environment (the demo, the CLI, tests,
benchmarks) imports the composition root :mod:`sandbox.app`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("plugins", "sandbox")
# Use a whole composed environment, as the CLI and the tests do; not parts of the sandbox:
# the demo builds one, local_settings describes one for the local host.
ROOT_CONSUMERS = ("sandbox.demo", "sandbox.local_settings")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _load_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module loads: not in functions, not for type checkers."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _load_time_imports(block)
            for handler in node.handlers:
                yield from _load_time_imports(handler.body)
        elif isinstance(node, ast.ClassDef | ast.With):
            yield from _load_time_imports(node.body)


def _all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _targets(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]
) -> set[str]:
    """The project modules an import statement loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join([*base, *([node.module] if node.module else [])])
        else:
            prefix = node.module or ""
        names = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
    return {name for name in names if name in known}


def _graph(load_time_only: bool) -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        nodes = _load_time_imports(tree.body) if load_time_only else _all_imports(tree)
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in nodes:
            for target in _targets(name, is_package, node, known):
                # Loading a.b.c first loads the packages a and a.b; the packages this module
                # is inside are loading already, so they are no edge.
                parts = target.split(".")
                for depth in range(1, len(parts) + 1):
                    loaded = ".".join(parts[:depth])
                    if loaded in known and not name.startswith(loaded + "."):
                        edges.add(loaded)
        graph[name] = edges - {name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_runtime_import_circle() -> None:
    assert _circles(_graph(load_time_only=True)) == []


def test_finder_sees_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_part_of_the_sandbox_imports_the_composition_root() -> None:
    offenders = sorted(
        name
        for name, edges in _graph(load_time_only=False).items()
        if "sandbox.app" in edges
        and name.startswith("sandbox.")
        and name != "sandbox.app"
        and not name.startswith(ROOT_CONSUMERS)
    )
    assert offenders == []


def test_type_checking_imports_are_seen_by_the_root_rule() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .app import X\n"
    tree = ast.parse(source)
    targets = [
        _targets("sandbox.part", False, node, {"sandbox.app"}) for node in _all_imports(tree)
    ]
    assert {"sandbox.app"} in targets
    assert list(_load_time_imports(tree.body))[-1].module == "typing"


def test_graph_follows_relative_imports() -> None:
    graph = _graph(load_time_only=True)
    assert {"sandbox.auth", "sandbox.core", "sandbox.servicebus"} <= graph["sandbox.app"]
    assert "plugins.core.schema" in graph["sandbox.core"]

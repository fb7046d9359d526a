"""Load a v2-model function app and index its functions by name and trigger.

The app module is imported the way the Python worker imports ``function_app.py``: its folder
goes on ``sys.path`` first, so it can import its sibling modules, and exactly one
``FunctionApp`` (any ``FunctionRegister``) must be defined at module level.
``app.get_functions()`` may be called only once per app instance, so its result is kept per
app and every host over the same module shares it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from azure.functions.decorators.function_app import Function, FunctionRegister

from .errors import HostError

HTTP_TRIGGER = "httpTrigger"
TIMER_TRIGGER = "timerTrigger"
SERVICEBUS_TRIGGER = "serviceBusTrigger"
SUPPORTED_TRIGGERS = (HTTP_TRIGGER, TIMER_TRIGGER, SERVICEBUS_TRIGGER)
CONTEXT_PARAMETER = "context"

_indexes: weakref.WeakKeyDictionary[FunctionRegister, list[Function]] = (
    weakref.WeakKeyDictionary()
)
_index_lock = threading.Lock()


@dataclass(frozen=True)
class FunctionEntry:
    """One function of the app: its trigger binding (as in function.json) and its code."""

    name: str
    trigger: str
    binding: dict[str, Any]
    user_function: Callable[..., Any]
    wants_context: bool

    @property
    def arg_name(self) -> str:
        """The parameter the trigger value is passed as (``req``, ``msg``, ``timer``...)."""
        return str(self.binding["name"])


@dataclass(frozen=True)
class LoadedApp:
    """The imported app module, its folder and its functions by name."""

    module: ModuleType
    folder: Path
    functions: dict[str, FunctionEntry]

    def with_trigger(self, trigger: str) -> list[FunctionEntry]:
        """The functions with the given trigger type, in definition order."""
        return [entry for entry in self.functions.values() if entry.trigger == trigger]

    def find(self, name: str) -> FunctionEntry | None:
        """A function by name; like Azure, names are matched without regard to case."""
        wanted = name.lower()
        return next((e for e in self.functions.values() if e.name.lower() == wanted), None)


def load_app(app_module: str) -> LoadedApp:
    """Import ``app_module`` (a module name or a ``.py`` path) and index its functions."""
    module = _import(app_module)
    app = _find_function_app(module)
    functions = {fn.get_function_name(): _entry(fn) for fn in indexed_functions(app)}
    folder = Path(module.__file__ or ".").resolve().parent
    return LoadedApp(module=module, folder=folder, functions=functions)


def indexed_functions(app: FunctionRegister) -> list[Function]:
    """``app.get_functions()``, called once per app instance."""
    with _index_lock:
        if app not in _indexes:
            _indexes[app] = list(app.get_functions())
        return _indexes[app]


def _import(app_module: str) -> ModuleType:
    if app_module.endswith(".py"):
        path = Path(app_module).resolve()
        if not path.is_file():
            raise HostError(f"function app file '{path}' does not exist")
        folder = str(path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        app_module = path.stem
    return importlib.import_module(app_module)


def _find_function_app(module: ModuleType) -> FunctionRegister:
    apps = [value for value in vars(module).values() if isinstance(value, FunctionRegister)]
    if len(apps) != 1:
        raise HostError(
            f"{module.__name__} must define exactly one FunctionApp at module level, "
            f"found {len(apps)}"
        )
    return apps[0]


def _entry(fn: Function) -> FunctionEntry:
    name = fn.get_function_name()
    bindings: list[dict[str, Any]] = json.loads(fn.get_function_json())["bindings"]
    triggers = [b for b in bindings if str(b["type"]).endswith("Trigger")]
    if len(triggers) != 1 or triggers[0]["type"] not in SUPPORTED_TRIGGERS:
        kinds = ", ".join(str(b["type"]) for b in triggers) or "none"
        raise HostError(
            f"function '{name}': the local host runs HTTP, timer and Service Bus queue "
            f"triggers only (trigger: {kinds})"
        )
    extra = [
        b["name"] for b in bindings
        if b is not triggers[0] and not (b["type"] == "http" and b["name"] == "$return")
    ]
    if extra:
        raise HostError(
            f"function '{name}': bindings {extra} are not supported by the local host"
        )
    user_function = fn.get_user_function()
    parameters = inspect.signature(user_function).parameters
    return FunctionEntry(
        name=name,
        trigger=str(triggers[0]["type"]),
        binding=triggers[0],
        user_function=user_function,
        wants_context=CONTEXT_PARAMETER in parameters,
    )

"""Modules a trigger imports on its first invocation, not when the Function App starts.

The Functions worker imports ``function_app.py``, and with it every plugin's trigger module,
on each cold start, before it handles the first event. A trigger module that imported its
service at the top would make every start pay for every plugin (the dues' PDF library and
numpy, the pages' templates, the registry clients), whichever function the event is for.
So a trigger module imports ``azure.functions`` and pure constants only, and names the rest
with :class:`LazyModule`:

    runtime = LazyModule("plugins.registration.runtime")

    def registration_sweep(timer):
        runtime.dispatcher().registration.sweep()  # imported here, the first time

An attribute read imports the module (Python's import lock makes that safe from several
worker threads at once) and is then a dictionary look-up. ``except module.SomeError`` is
lazy too: Python evaluates an ``except`` clause only when an exception reaches it.
``tests/functions/test_cold_start_imports.py`` checks what a start imports.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __getattr__(self, attribute: str) -> Any:
        # Every read goes to the module itself, so a test's monkeypatch of it is seen.
        return getattr(importlib.import_module(self.__name__), attribute)

    def __repr__(self) -> str:
        return f"<LazyModule {self.__name__}>"

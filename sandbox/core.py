"""The small core every part of the sandbox plugs into.

The parts (token service, service protection, Service Bus namespace, step dispatcher,
registry emulators, OpenID provider, outbox, TLS) each need a little of the environment they
run in: its configuration, its store, its address, and a way to serve a path or wrap the Web
API. :class:`Host` names exactly that, so a part depends on this module and never on the
composition root (:mod:`sandbox.app`), and can be read, built and tested on its own with any
object that has these members.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from werkzeug.wrappers import Request, Response

from plugins.core.schema import Schema

from .config import SandboxConfig
from .store import Caller, Store

Handler = Callable[[Request], Response]
"""Answers one HTTP request."""

Middleware = Callable[[Request, Handler], Response]
"""Answers a request itself or hands it on to the next handler."""


class Host(Protocol):
    """What a part may use of the sandbox environment it is installed on."""

    config: SandboxConfig
    store: Store
    system_caller: Caller
    base_url: str
    """``scheme://host:port`` once the server listens; empty before."""
    ca_file: str | None
    """The CA certificate clients trust, once TLS is set up."""

    @property
    def schema(self) -> Schema:
        """The environment's schema now (metadata writes add to it while it runs)."""
        ...

    def mount(self, prefix: str, handler: Handler) -> None:
        """Serve every path under ``prefix``; the longest prefix wins."""
        ...

    def add_api_middleware(self, middleware: Middleware) -> None:
        """Wrap the Web API; the first added is the outermost."""
        ...

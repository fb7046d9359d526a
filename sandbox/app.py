"""The sandbox as one WSGI application: routing, middleware, request log and the server.

Components install themselves on a :class:`Sandbox`: each may mount a path prefix (the token
endpoint, the Service Bus namespace, the registry emulators) or wrap the Web API in a
middleware (authentication, service protection, injected latency and faults). The Web API
itself is :class:`sandbox.webapi.WebApi`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from werkzeug.wrappers import Request, Response

from plugins.core.schema import Schema, product_schema

from . import auth, oidc, outbox, protection, registries, servicebus, sms, steps, tls
from .config import SandboxConfig
from .core import Handler, Middleware
from .errors import ODataError
from .http import error_response, json_response
from .requestlog import RequestLog
from .store import Caller, Store
from .unprovisioned import unprovisioned
from .webapi import WebApi, customization, roles
from .webapi.context import API_PATH
from .wsgiserver import ServerThread

log = logging.getLogger(__name__)

ADMIN_PATH = "/_sandbox/"
SYSTEM_USER_ID = "00000000-0000-4000-8000-000000005157"


def system_schema() -> Schema:
    """Dataverse's own tables the sandbox serves besides the product's: steps and endpoints
    (``system_tables.json``); solutions, forms, views, apps, roles and teams
    (``customization_tables.json``)."""
    files = resources.files(__package__)
    steps, customization = (
        Schema.model_validate(json.loads(files.joinpath(name).read_text("utf-8")))
        for name in ("system_tables.json", "customization_tables.json")
    )
    return steps.merged(customization)


class Sandbox:
    """One Dataverse environment (plus registry emulators) on a loopback port."""

    def __init__(self, config: SandboxConfig | None = None, seed: dict[str, Any] | None = None):
        self.config = config or SandboxConfig()
        product = product_schema() if self.config.provisioned else unprovisioned(product_schema())
        self.store = Store(product.merged(system_schema()))
        self.request_log = RequestLog()
        self.webapi = WebApi(self.store, self.config.organization_name)
        self.base_url = ""
        self.ca_file: str | None = None
        self._mounts: list[tuple[str, Handler]] = []
        self._api_middleware: list[Middleware] = []
        self._server: ServerThread | None = None
        self.system_caller = Caller(user_id=SYSTEM_USER_ID)
        customization.install(self.store, self.config.organization_name, self.system_caller)
        with self.store.transaction(self.system_caller):
            roles.add_privileges(self.store, self.store.schema.tables)

        # Service protection must wrap authentication: throttling is decided before the token.
        self.protection = protection.Protection(self)
        self.auth = auth.TokenService(self)
        self.servicebus = servicebus.Namespace(self)
        self.steps = steps.StepDispatcher(self, self.servicebus)
        self.registries = registries.Emulators(self)
        self.oidc = oidc.OpenIdProvider(self)
        self.outbox = outbox.Outbox(self)
        self.sms = sms.SmsEmulator(self)
        if seed:
            self.load_seed(seed)

    @property
    def schema(self) -> Schema:
        """The environment's schema now (metadata writes add to it while it runs)."""
        return self.store.schema

    # ------------------------------------------------------------ composition

    def mount(self, prefix: str, handler: Handler) -> None:
        """Serve every path under ``prefix`` (e.g. ``/servicebus/``); the longest prefix wins."""
        self._mounts.append((prefix, handler))

    def add_api_middleware(self, middleware: Middleware) -> None:
        """Wrap the Web API; the first added is the outermost."""
        self._api_middleware.append(middleware)

    def load_seed(self, seed: dict[str, Any]) -> None:
        """Load rows (``{"rows": {"contact": [...]}}``) and hand other sections to components."""
        rows: dict[str, list[dict[str, Any]]] = seed.get("rows", {})
        with self.store.transaction(self.system_caller):
            for table, items in rows.items():
                for item in items:
                    self.store.insert(table, dict(item))
        self.registries.load_seed(seed.get("registries", {}))

    # ------------------------------------------------------------------- WSGI

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        started = time.perf_counter()
        try:
            response = self._route(request)
        except ODataError as exc:
            response = error_response(exc)
        except Exception:
            log.exception("sandbox: unexpected error on %s %s", request.method, request.path)
            response = error_response(
                ODataError(500, "0x80040216", "An unexpected error occurred.")
            )
        self.request_log.add(
            request.method, request.path, response.status_code,
            (time.perf_counter() - started) * 1000,
            request.headers.get("x-ms-correlation-request-id"),
        )
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        if path.startswith(API_PATH):
            return self._call_api(request)
        if path.startswith(ADMIN_PATH):
            return self._admin(request)
        for prefix, handler in sorted(self._mounts, key=lambda m: len(m[0]), reverse=True):
            if path.startswith(prefix):
                return handler(request)
        raise ODataError(
            404, "", f"No HTTP resource was found that matches the request URI '{request.url}'."
        )

    def _call_api(self, request: Request) -> Response:
        def innermost(req: Request) -> Response:
            return self.webapi.dispatch(req, req.environ["sandbox.caller"])

        handler: Handler = innermost
        for middleware in reversed(self._api_middleware):
            handler = _bind(middleware, handler)
        return handler(request)

    def _admin(self, request: Request) -> Response:
        name = request.path[len(ADMIN_PATH) :].strip("/")
        if name == "requests" and request.method == "GET":
            return json_response(self.request_log.as_json())
        if name == "requests" and request.method == "DELETE":
            self.request_log.clear()
            return Response(status=204)
        if name == "health":
            return json_response({"status": "ok", "environment": self.base_url})
        raise ODataError(404, "", f"unknown sandbox admin resource '{name}'")

    # ----------------------------------------------------------------- server

    def start(self) -> Sandbox:
        """Listen on the configured loopback port (0 = a free one) in a background thread."""
        ssl_context = tls.server_context(self) if self.config.https else None
        self._server = ServerThread(
            self.wsgi, self.config.host, self.config.port, ssl_context, name="sandbox"
        ).start()
        scheme = "https" if self.config.https else "http"
        self.base_url = f"{scheme}://{self.config.host}:{self._server.port}"
        return self

    def stop(self) -> None:
        """Stop listening and stop every background worker of the components."""
        self.steps.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(middleware: Middleware, nxt: Handler) -> Handler:
    return lambda request: middleware(request, nxt)

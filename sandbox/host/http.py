"""HTTP triggers and the admin endpoint, served over WSGI like the Functions host serves them.

Every ``httpTrigger`` function answers under ``/<routePrefix>/<route>`` (``/api/`` unless
host.json says otherwise; the route defaults to the function name). The request reaches the
function as the ``azure.functions.HttpRequest`` the worker's ``HttpRequestConverter`` builds
(body as raw bytes, repeated query values and headers joined with commas), and its return
value goes back through ``HttpResponseConverter`` as the worker sends it: an HttpResponse or
a str; anything else, or an exception, is a 500 with an empty body. A missing or wrong key
is a 401 with an empty body; a path no function serves (or a method it does not accept) 404.
Like App Service's front end, the host appends the address the request came from to
``X-Forwarded-For`` (the functions never see the socket; that header is how they learn it).

``POST /admin/functions/<name>`` (master key, body ``{"input": ""}`` or empty) runs a timer
function in the background and answers 202, as Core Tools does; ``GET
/admin/functions/<name>/status`` (master key) answers ``{"errors": [...]}``, the reasons a
function is in error (empty when it runs). A function in error is not served.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from azure.functions import meta
from azure.functions.http import HttpRequest, HttpRequestConverter, HttpResponseConverter
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from .invoker import Invoker
from .keys import KeyRing, presented_key
from .loader import HTTP_TRIGGER, TIMER_TRIGGER, FunctionEntry, LoadedApp
from .routes import RouteTemplate, parse_route
from .timers import Timers

FORWARDED_FOR = "X-Forwarded-For"

ADMIN_FUNCTIONS = ("admin", "functions")


class HttpRoute:
    """One HTTP trigger function: its route, its methods and its auth level."""

    def __init__(self, entry: FunctionEntry) -> None:
        self.entry = entry
        self.route: RouteTemplate = parse_route(str(entry.binding.get("route") or entry.name))
        methods = entry.binding.get("methods")
        self.methods = {str(m).upper() for m in methods} if methods else None
        self.auth_level = str(entry.binding.get("authLevel") or "function")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Route values when this function serves ``method path``, else None."""
        if self.methods is not None and method.upper() not in self.methods:
            return None
        return self.route.match(path)


class FunctionsHttp:
    """The WSGI application of the local host."""

    def __init__(
        self,
        app: LoadedApp,
        invoker: Invoker,
        keys: KeyRing,
        timers: Timers,
        route_prefix: str,
        errors: Mapping[str, str] | None = None,
    ) -> None:
        self._app = app
        self._errors = errors if errors is not None else {}
        self._invoker = invoker
        self._keys = keys
        self._timers = timers
        self._prefix = f"/{route_prefix.lower()}" if route_prefix else ""
        routes = [
            HttpRoute(entry) for entry in app.with_trigger(HTTP_TRIGGER)
            if entry.name not in self._errors
        ]
        # sorted() is stable, so equally specific routes keep their definition order.
        self._routes = sorted(routes, key=lambda r: r.route.precedence)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        segments = request.path.strip("/").split("/")
        if [s.lower() for s in segments[:2]] == list(ADMIN_FUNCTIONS):
            if len(segments) == 3:
                return self._admin_invoke(request, segments[2])
            if len(segments) == 4 and segments[3].lower() == "status":
                return self._admin_status(request, segments[2])
        relative = self._relative_path(request.path)
        if relative is None:
            return _empty(404)
        for route in self._routes:
            values = route.match(request.method, relative)
            if values is not None:
                return self._invoke(route, request, values)
        return _empty(404)

    def _relative_path(self, path: str) -> str | None:
        if not self._prefix:
            return path.lstrip("/")
        if path.lower() in (self._prefix, f"{self._prefix}/"):
            return ""
        if path.lower().startswith(f"{self._prefix}/"):
            return path[len(self._prefix) + 1:]
        return None

    def _invoke(self, route: HttpRoute, request: Request, values: dict[str, str]) -> Response:
        key = presented_key(request.headers, request.args)
        if not self._keys.allows(route.auth_level, route.entry.name, key):
            return _empty(401)
        try:
            datum = self._invoker.invoke(
                route.entry, to_http_request(request, values), encode_response,
                trace_parent=request.headers.get("traceparent"),
                trace_state=request.headers.get("tracestate", ""),
            )
        except Exception:
            return _empty(500)
        return to_wsgi_response(datum)

    def _admin_invoke(self, request: Request, name: str) -> Response:
        if request.method != "POST":
            return _empty(404)
        if not self._keys.allows_admin(presented_key(request.headers, request.args)):
            return _empty(401)
        entry = self._app.find(name)
        if entry is None or entry.name in self._errors:
            return _empty(404)
        if entry.trigger != TIMER_TRIGGER or not _valid_admin_body(request.get_data()):
            return _empty(400)
        self._timers.submit(entry.name)
        return _empty(202)

    def _admin_status(self, request: Request, name: str) -> Response:
        if request.method != "GET":
            return _empty(404)
        if not self._keys.allows_admin(presented_key(request.headers, request.args)):
            return _empty(401)
        entry = self._app.find(name)
        if entry is None:
            return _empty(404)
        error = self._errors.get(entry.name)
        body = json.dumps({"name": entry.name, "errors": [error] if error else []})
        return Response(body, status=200, content_type="application/json; charset=utf-8")


def to_http_request(request: Request, route_values: dict[str, str]) -> HttpRequest:
    """The ``func.HttpRequest`` the worker builds for ``request`` (behind the platform's
    front end, which appends the client's address to ``X-Forwarded-For``)."""
    headers = Headers(request.headers)
    if request.remote_addr:
        forwarded = [*request.headers.getlist(FORWARDED_FOR), request.remote_addr]
        headers[FORWARDED_FOR] = ", ".join(forwarded)
    datum = meta.Datum(
        type="http",
        value={
            "method": meta.Datum(request.method, "string"),
            "url": meta.Datum(request.url, "string"),
            "headers": _joined(headers.keys(), headers.getlist),
            "query": _joined(request.args.keys(), request.args.getlist),
            "params": {k: meta.Datum(v, "string") for k, v in route_values.items()},
            "body": meta.Datum(request.get_data(), "bytes"),
        },
    )
    built: HttpRequest = HttpRequestConverter.decode(datum, trigger_metadata={})
    return built


def encode_response(result: Any) -> meta.Datum:
    """The function's return value as the worker encodes it for the ``$return`` binding."""
    try:
        return HttpResponseConverter.encode(result, expected_type=None)
    except NotImplementedError:
        raise TypeError(
            f"an HTTP function must return func.HttpResponse or str, not "
            f"{type(result).__name__}"
        ) from None


def to_wsgi_response(datum: meta.Datum) -> Response:
    """What the host sends the client for an encoded return value."""
    if datum.type == "string":
        return Response(datum.value, status=200, content_type="text/plain; charset=utf-8")
    value = datum.value
    response = Response(value["body"].value, status=int(value["status_code"].value))
    response.headers.clear()
    for name, header in value["headers"].items():
        response.headers.add(name, header.value)
    for cookie in value["cookies"] or []:
        for morsel in cookie.values():
            response.headers.add("Set-Cookie", morsel.OutputString())
    return response


def _joined(names: Iterable[str], values: Callable[[str], list[str]]) -> dict[str, meta.Datum]:
    return {name: meta.Datum(",".join(values(name)), "string") for name in dict.fromkeys(names)}


def _valid_admin_body(body: bytes) -> bool:
    if not body.strip():
        return True
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


def _empty(status: int) -> Response:
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response

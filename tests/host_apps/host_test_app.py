"""A function app for the local host's tests (not the product's function_app.py).

It has an HTTP function per auth level, a route with parameters, failing HTTP functions,
timers and Service Bus queue triggers. What the functions saw is kept in ``seen`` so tests
can look; ``reset()`` clears it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from typing import Any

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

QUEUE = "host-test-orders"
SLOW_QUEUE = "host-test-slow"
CONNECTION = "SandboxServiceBus"

seen: dict[str, list[Any]] = defaultdict(list)
_lock = threading.Lock()
_running = {"now": 0, "max": 0}


def reset() -> None:
    """Forget every recorded call."""
    with _lock:
        seen.clear()
        _running.update(now=0, max=0)


def record(kind: str, value: Any) -> None:
    """Remember one call of kind ``kind``."""
    with _lock:
        seen[kind].append(value)


def max_concurrent() -> int:
    """The most slow-queue invocations that ran at the same time."""
    return _running["max"]


def _json(body: Any, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


@app.route(route="hello/{name?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def anonymous_hello(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"name": req.route_params.get("name"), "lang": req.params.get("lang")})


@app.route(route="echo", methods=["POST"])
def function_echo(req: func.HttpRequest) -> func.HttpResponse:
    response = func.HttpResponse(
        req.get_body(), status_code=201, mimetype="application/octet-stream",
        headers={"X-Echo-Method": req.method, "X-Echo-Tag": req.headers.get("x-tag", "")},
    )
    response.headers["Set-Cookie"] = "session=abc; Path=/"
    return response


@app.route(route="ops/status", auth_level=func.AuthLevel.ADMIN)
def admin_status(req: func.HttpRequest) -> str:
    return "all good"


@app.route(route="Orders/{order_id:int}/items/{item?}", methods=["GET", "PUT"],
           auth_level=func.AuthLevel.ANONYMOUS)
def order_item(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"route": dict(req.route_params), "url": req.url, "method": req.method,
                  "query": dict(req.params)})


@app.route(route="orders/latest", auth_level=func.AuthLevel.ANONYMOUS)
def latest_order(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"latest": True})


@app.route(route="context", auth_level=func.AuthLevel.ANONYMOUS)
def with_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return _json({"invocation_id": context.invocation_id, "function": context.function_name,
                  "trace_parent": context.trace_context.trace_parent})


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("the function failed")


@app.route(route="wrong-return", auth_level=func.AuthLevel.ANONYMOUS)
def wrong_return(req: func.HttpRequest) -> func.HttpResponse:
    return {"not": "a response"}  # type: ignore[return-value]


@app.timer_trigger(arg_name="timer", schedule="0 0 3 * * *")
def nightly(timer: func.TimerRequest) -> None:
    record("nightly", timer.past_due)


@app.timer_trigger(arg_name="timer", schedule="* * * * * *")
def every_second(timer: func.TimerRequest) -> None:
    record("every_second", timer.past_due)


@app.timer_trigger(arg_name="timer", schedule="01:00:00", run_on_startup=True)
def on_startup(timer: func.TimerRequest) -> None:
    record("on_startup", timer.past_due)


@app.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE, connection=CONNECTION)
def flaky_consumer(msg: func.ServiceBusMessage) -> None:
    """Fails until its delivery count passes the ``fail_times`` application property."""
    record("flaky_consumer", {
        "message_id": msg.message_id,
        "correlation_id": msg.correlation_id,
        "delivery_count": msg.delivery_count,
        "sequence_number": msg.sequence_number,
        "lock_token": msg.lock_token,
        "enqueued_time_utc": msg.enqueued_time_utc,
        "content_type": msg.content_type,
        "label": msg.label,
        "subject": msg.subject,
        "application_properties": msg.application_properties,
        "user_properties": msg.user_properties,
        "body": msg.get_body(),
        "type": type(msg).__module__ + "." + type(msg).__qualname__,
    })
    if (msg.delivery_count or 0) <= int(msg.application_properties.get("fail_times", 0)):
        raise RuntimeError("failing on purpose")


@app.service_bus_queue_trigger(arg_name="msg", queue_name=SLOW_QUEUE, connection=CONNECTION)
def slow_consumer(msg: func.ServiceBusMessage) -> None:
    with _lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
    time.sleep(0.2)
    with _lock:
        _running["now"] -= 1
    record("slow_consumer", msg.message_id)

"""The local Functions host over real HTTP on 127.0.0.1, with the sandbox's Service Bus.

The app is ``tests/host_apps/host_test_app.py`` (not the product's function_app.py), loaded
by file path as ``member-plugins serve`` loads a module.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from sandbox.app import Sandbox
from sandbox.host import LocalHost
from sandbox.product_settings import servicebus_connection_string

APP = Path(__file__).resolve().parents[1] / "host_apps" / "host_test_app.py"
FUNCTION_KEY = "echo-function-key"
MASTER_KEY = "the-master-key"
CONNECTION = "SandboxServiceBus"


def new_host(sandbox: Sandbox, **settings: str) -> LocalHost:
    return LocalHost(
        str(APP),
        function_keys={"function_echo": FUNCTION_KEY},
        master_key=MASTER_KEY,
        settings={CONNECTION: servicebus_connection_string(sandbox), **settings},
        servicebus_poll_seconds=0.05,
    )


@pytest.fixture
def host(sandbox: Sandbox) -> Iterator[LocalHost]:
    running = new_host(sandbox).start()
    try:
        yield running
    finally:
        running.stop()
        app(running).reset()


def app(host: LocalHost) -> ModuleType:
    assert host.app is not None
    return host.app.module


def eventually(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def get(host: LocalHost, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{host.base_url}{path}", timeout=10, **kwargs)


def post(host: LocalHost, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{host.base_url}{path}", timeout=10, **kwargs)


# ------------------------------------------------------------------------------------ HTTP


def test_anonymous_function_needs_no_key(host: LocalHost) -> None:
    response = get(host, "/api/hello/Ann?lang=sv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"name": "Ann", "lang": "sv"}
    assert get(host, "/api/hello?code=wrong").json() == {"name": None, "lang": None}


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"x-functions-key": FUNCTION_KEY}, ""),
        ({}, f"?code={FUNCTION_KEY}"),
        ({"x-functions-key": MASTER_KEY}, ""),
    ],
)
def test_function_level_accepts_its_key_or_the_master_key(
    host: LocalHost, headers: dict[str, str], query: str
) -> None:
    body = b"\x00\x01 binary body"
    response = post(host, f"/api/echo{query}", data=body, headers={**headers, "x-tag": "t-1"})
    assert response.status_code == 201
    assert response.content == body
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Echo-Method"] == "POST"
    assert response.headers["X-Echo-Tag"] == "t-1"
    assert response.headers["Set-Cookie"] == "session=abc; Path=/"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/echo", {}),
        ("/api/echo?code=wrong", {}),
        ("/api/echo", {"x-functions-key": "wrong"}),
        # The header is read first, so a right ?code= does not rescue a wrong header.
        (f"/api/echo?code={FUNCTION_KEY}", {"x-functions-key": "wrong"}),
    ],
)
def test_function_level_refuses_missing_or_wrong_key(
    host: LocalHost, path: str, headers: dict[str, str]
) -> None:
    response = post(host, path, data=b"x", headers=headers)
    assert response.status_code == 401
    assert response.content == b""


def test_admin_level_takes_only_the_master_key(host: LocalHost) -> None:
    assert host.keys is not None
    response = get(host, "/api/ops/status", headers={"x-functions-key": MASTER_KEY})
    assert response.status_code == 200
    assert response.text == "all good"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    own_key = host.keys.function_key("admin_status")
    for headers in ({}, {"x-functions-key": own_key}, {"x-functions-key": FUNCTION_KEY}):
        refused = get(host, "/api/ops/status", headers=headers)
        assert (refused.status_code, refused.content) == (401, b"")


def test_route_parameters_case_insensitive_literals_and_methods(host: LocalHost) -> None:
    response = get(host, "/API/ORDERS/12/Items/x?a=1&a=2")
    assert response.status_code == 200
    document = response.json()
    assert document["route"] == {"order_id": "12", "item": "x"}
    assert document["query"] == {"a": "1,2"}
    assert document["url"] == f"{host.base_url}/API/ORDERS/12/Items/x?a=1&a=2"
    assert get(host, "/api/orders/12/items/").json()["route"] == {"order_id": "12"}
    assert requests.put(f"{host.base_url}/api/orders/12/items", timeout=10).status_code == 200
    assert post(host, "/api/orders/12/items").status_code == 404
    assert get(host, "/api/orders/twelve/items").status_code == 404
    assert get(host, "/api/orders/latest").json() == {"latest": True}


def test_unknown_routes_are_404(host: LocalHost) -> None:
    for path in ("/api/nope", "/api", "/elsewhere/hello", "/", "/admin/host/status"):
        response = get(host, path)
        assert (response.status_code, response.content) == (404, b""), path


def test_exception_is_500_and_logged(host: LocalHost, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="sandbox.host.invocations"):
        response = get(host, "/api/boom")
        wrong_return = get(host, "/api/wrong-return")
    assert (response.status_code, response.content) == (500, b"")
    assert wrong_return.status_code == 500
    failures = [r for r in caplog.records if "Failed" in r.getMessage()]
    assert {r.getMessage().split("'")[1] for r in failures} == {
        "Functions.boom", "Functions.wrong_return"
    }
    boom = next(r for r in failures if "Functions.boom" in r.getMessage())
    assert boom.levelno == logging.ERROR and boom.exc_info is not None
    assert "the function failed" in str(boom.exc_info[1])


def test_one_log_line_per_invocation_without_the_body(
    host: LocalHost, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="sandbox.host.invocations"):
        post(host, "/api/echo", data=b"secret-body-4711", headers={"x-functions-key": MASTER_KEY})
    lines = [r.getMessage() for r in caplog.records if "Functions.function_echo" in r.getMessage()]
    assert len(lines) == 1
    line = lines[0]
    assert "Succeeded" in line and "Trigger=httpTrigger" in line
    assert "Id=" in line and "Duration=" in line
    assert "secret-body-4711" not in caplog.text


def test_context_argument(host: LocalHost) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    document = get(host, "/api/context", headers={"traceparent": parent}).json()
    assert document["function"] == "with_context"
    assert document["trace_parent"] == parent
    assert uuid.UUID(document["invocation_id"])


# ----------------------------------------------------------------------------------- timers


def test_timer_on_demand_through_the_admin_endpoint(host: LocalHost) -> None:
    seen = app(host).seen
    response = post(host, "/admin/functions/nightly", json={"input": ""},
                    headers={"x-functions-key": MASTER_KEY})
    assert (response.status_code, response.content) == (202, b"")
    assert eventually(lambda: seen["nightly"]) == [False]


def test_admin_endpoint_refusals(host: LocalHost) -> None:
    master = {"x-functions-key": MASTER_KEY}
    cases = [
        ("/admin/functions/nightly", {}, 401),
        ("/admin/functions/nightly", {"x-functions-key": FUNCTION_KEY}, 401),
        ("/admin/functions/no_such_function", master, 404),
        ("/admin/functions/anonymous_hello", master, 400),
    ]
    for path, headers, status in cases:
        assert post(host, path, json={"input": ""}, headers=headers).status_code == status, path
    bad_body = post(host, "/admin/functions/nightly", data=b"{not json", headers=master)
    assert bad_body.status_code == 400
    assert get(host, "/admin/functions/nightly", headers=master).status_code == 404
    assert app(host).seen["nightly"] == []


def test_run_timer_from_python_is_synchronous(host: LocalHost) -> None:
    host.run_timer("nightly")
    assert app(host).seen["nightly"] == [False]
    with pytest.raises(KeyError):
        host.run_timer("anonymous_hello")


def test_timer_on_schedule_and_on_startup(host: LocalHost) -> None:
    seen = app(host).seen
    assert eventually(lambda: seen["on_startup"]) == [False]
    assert eventually(lambda: len(seen["every_second"]) >= 2, timeout=5)
    assert set(seen["every_second"]) == {False}


# ------------------------------------------------------------------------------ Service Bus


def records(host: LocalHost, message_id: str) -> list[dict[str, Any]]:
    return [r for r in app(host).seen["flaky_consumer"] if r["message_id"] == message_id]


def test_queue_trigger_gets_the_message_as_the_worker_builds_it(
    host: LocalHost, sandbox: Sandbox
) -> None:
    sandbox.servicebus.send(
        "host-test-orders", b'{"order": 1}', content_type="application/json",
        application_properties={"tenant": "t1", "http://schemas.microsoft.com/xrm/2011/Claims/"
                                "EntityLogicalName": "contact"},
        message_id="msg-1", correlation_id="corr-1", subject="Create",
    )
    assert host.wait_idle(10)
    [seen] = records(host, "msg-1")
    assert seen["type"] == "azure.functions.servicebus.ServiceBusMessage"
    assert seen["body"] == b'{"order": 1}'
    assert seen["correlation_id"] == "corr-1"
    assert seen["delivery_count"] == 1
    assert seen["sequence_number"] == 1
    assert seen["lock_token"]
    assert seen["content_type"] == "application/json"
    assert seen["label"] == seen["subject"] == "Create"
    assert seen["enqueued_time_utc"].tzinfo is not None
    expected = {"tenant": "t1",
                "http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName": "contact"}
    assert seen["application_properties"] == seen["user_properties"] == expected
    assert sandbox.servicebus.active_count("host-test-orders") == 0


def test_failures_are_abandoned_and_redelivered_with_higher_delivery_count(
    host: LocalHost, sandbox: Sandbox
) -> None:
    sandbox.servicebus.send("host-test-orders", b"retry me", message_id="msg-retry",
                            application_properties={"fail_times": 2})
    assert host.wait_idle(10)
    assert [r["delivery_count"] for r in records(host, "msg-retry")] == [1, 2, 3]
    assert len({r["lock_token"] for r in records(host, "msg-retry")}) == 3
    assert sandbox.servicebus.active_count("host-test-orders") == 0
    assert sandbox.servicebus.dead_letters("host-test-orders") == []


def test_dead_lettered_after_max_deliveries(host: LocalHost, sandbox: Sandbox) -> None:
    sandbox.servicebus.set_max_delivery_count("host-test-orders", 3)
    sandbox.servicebus.send("host-test-orders", b"poison", message_id="msg-poison",
                            application_properties={"fail_times": 99})
    assert host.wait_idle(10)
    assert [r["delivery_count"] for r in records(host, "msg-poison")] == [1, 2, 3]
    [dead] = sandbox.servicebus.dead_letters("host-test-orders")
    assert dead.message_id == "msg-poison"
    assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"


def test_max_concurrent_calls_from_host_json(host: LocalHost, sandbox: Sandbox) -> None:
    for n in range(6):
        sandbox.servicebus.send("host-test-slow", b"slow", message_id=f"slow-{n}")
    assert host.wait_idle(10)
    assert sorted(app(host).seen["slow_consumer"]) == [f"slow-{n}" for n in range(6)]
    assert app(host).max_concurrent() == 2


# ------------------------------------------------------------------------------ lifecycle


def test_settings_are_in_the_environment_only_while_running(sandbox: Sandbox) -> None:
    host = new_host(sandbox, HOST_TEST_SETTING="on")
    assert "HOST_TEST_SETTING" not in os.environ
    with host:
        assert os.environ["HOST_TEST_SETTING"] == "on"
        assert get(host, "/api/hello").status_code == 200
        base_url = host.base_url
    app(host).reset()
    assert "HOST_TEST_SETTING" not in os.environ
    assert CONNECTION not in os.environ
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/api/hello", timeout=2)
    host_threads = ("functions-host", "timer-", "servicebus-")
    assert [t.name for t in threading.enumerate() if t.name.startswith(host_threads)] == []


def test_two_hosts_share_one_index_of_the_app(sandbox: Sandbox) -> None:
    with new_host(sandbox) as first, new_host(sandbox) as second:
        assert first.app is not None and second.app is not None
        assert first.app.functions.keys() == second.app.functions.keys()
        assert get(first, "/api/hello").status_code == get(second, "/api/hello").status_code == 200
    app(first).reset()


def test_missing_connection_setting_puts_only_the_queue_functions_in_error() -> None:
    host = LocalHost(
        str(APP), settings={"HOST_TEST_SETTING": "on"}, master_key=MASTER_KEY
    ).start()
    try:
        assert sorted(host.function_errors) == ["flaky_consumer", "slow_consumer"]
        assert CONNECTION in host.function_errors["flaky_consumer"]
        assert get(host, "/api/hello").status_code == 200
        status = get(host, "/admin/functions/flaky_consumer/status", params={"code": MASTER_KEY})
        assert status.json() == {
            "name": "flaky_consumer", "errors": [host.function_errors["flaky_consumer"]]
        }
        healthy = get(host, "/admin/functions/nightly/status", params={"code": MASTER_KEY})
        assert healthy.json() == {"name": "nightly", "errors": []}
        assert get(host, "/admin/functions/nightly/status").status_code == 401
    finally:
        host.stop()
        app(host).reset()
    assert "HOST_TEST_SETTING" not in os.environ

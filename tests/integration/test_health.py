"""``GET /api/health`` through the local Functions host against the HTTPS sandbox.

The host serves a one-blueprint app (the product's function_app.py also starts queue and
timer triggers that need settings of their own); a separate test checks function_app.py
registers the route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.app import Sandbox
from sandbox.host import LocalHost
from sandbox.host.loader import load_app
from sandbox.product_settings import dataverse_values

HEALTH_KEY = "health-probe-key"
LINK_KEYS = {
    "SELFSERVICE__LINK_KEYS": '{"k2": "' + "k" * 40 + '", "k1": "' + "o" * 40 + '"}',
    "SELFSERVICE__LINK_KEY_ID": "k2",
    "SELFSERVICE__PUBLIC_BASE_URL": "https://alumni.example.org/api/mypage",
}
NAMES = ["settings", "token", "dataverse", "registration", "selfservice", "sync"]
APP_SOURCE = """
import azure.functions as func

from plugins.health.functions import blueprint

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(blueprint)
"""


@pytest.fixture(scope="module")
def app_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("health-app") / "health_only_app.py"
    path.write_text(APP_SOURCE, encoding="utf-8")
    return path


def host_settings(sandbox: Sandbox, **overrides: str) -> dict[str, str]:
    """The sandbox's ``DATAVERSE__*`` settings and link keys with ``overrides``; an empty one
    is left out."""
    values = {**dataverse_values(sandbox), **LINK_KEYS, **overrides}
    return {name: value for name, value in values.items() if value}


@pytest.fixture
def probe(
    https_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, app_file: Path
) -> Iterator[Callable[..., requests.Response]]:
    """``probe(**overrides)``: start the host with these settings and GET the health route."""
    hosts: list[LocalHost] = []

    def get(key: str | None = HEALTH_KEY, **overrides: str) -> requests.Response:
        settings = host_settings(https_sandbox, **overrides)
        for name in (*settings, *overrides):
            monkeypatch.delenv(name, raising=False)
        host = LocalHost(str(app_file), function_keys={"health": HEALTH_KEY}, settings=settings)
        hosts.append(host.start())
        params = {"code": key} if key else {}
        response = requests.get(f"{host.base_url}/api/health", params=params, timeout=30)
        host.stop()
        return response

    try:
        yield get
    finally:
        for host in hosts:
            host.stop()


def checks(response: requests.Response) -> dict[str, dict[str, Any]]:
    body = response.json()
    assert [c["name"] for c in body["checks"]] == NAMES
    assert body["failing"] == [c["name"] for c in body["checks"] if not c["ok"]]
    for check in body["checks"]:
        assert set(check) == {"name", "ok", "detail", "duration_ms"}
        assert check["duration_ms"] >= 0
    return {check["name"]: check for check in body["checks"]}


def test_all_ok(probe: Callable[..., requests.Response], https_sandbox: Sandbox) -> None:
    response = probe()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["status"] == "ok"
    found = checks(response)
    assert all(check["ok"] for check in found.values())
    assert found["dataverse"]["detail"] == "WhoAmI answered"
    assert https_sandbox.config.client_secret not in response.text


def test_wrong_secret_fails_the_token_check(probe: Callable[..., requests.Response]) -> None:
    response = probe(DATAVERSE__CLIENT_SECRET="wrong-secret-value")
    assert response.status_code == 503
    assert response.json()["status"] == "failing"
    found = checks(response)
    assert found["settings"]["ok"]
    assert not found["token"]["ok"]
    assert found["token"]["detail"].startswith("invalid_client: AADSTS7000215")
    assert found["dataverse"] == {
        "name": "dataverse", "ok": False, "detail": "skipped: the token check failed",
        "duration_ms": 0.0,
    }
    assert "wrong-secret-value" not in response.text


def test_unreachable_dataverse_fails_the_dataverse_check(
    probe: Callable[..., requests.Response], https_sandbox: Sandbox
) -> None:
    # Every Web API connection is dropped; the sign-in service still answers.
    https_sandbox.protection.configure(fault_rate=1.0, fault_kinds=["drop"])
    response = probe()
    assert response.status_code == 503
    found = checks(response)
    assert found["settings"]["ok"] and found["token"]["ok"]
    assert not found["dataverse"]["ok"]
    assert found["dataverse"]["detail"].startswith("Dataverse unreachable: ")


def test_missing_settings_are_named(probe: Callable[..., requests.Response]) -> None:
    response = probe(DATAVERSE__CLIENT_SECRET="", DATAVERSE__URL="http://org.example")
    assert response.status_code == 503
    found = checks(response)
    assert found["settings"]["detail"] == (
        "DATAVERSE__URL must be an https URL; DATAVERSE__CLIENT_SECRET is not set"
    )
    assert found["token"]["detail"] == "skipped: the settings check failed"


def test_invalid_setting_values_are_named(probe: Callable[..., requests.Response]) -> None:
    response = probe(DATAVERSE__REQUEST_TIMEOUT_SECONDS="-1")
    found = checks(response)
    assert found["settings"]["detail"] == (
        "DATAVERSE__REQUEST_TIMEOUT_SECONDS: Input should be greater than 0"
    )


def test_each_plugin_reports_its_configuration(probe: Callable[..., requests.Response]) -> None:
    found = checks(probe(SELFSERVICE__PUBLIC_BASE_URL="https://alumni.example.org/api/mypage"))
    assert found["selfservice"]["detail"] == (
        "link key k2 signs, k1 verify; public base URL https://alumni.example.org/api/mypage"
    )
    assert found["registration"]["detail"].startswith(
        "queue mp-registration-events, sweep '0 */10 * * * *', registries none/none"
    )
    assert found["sync"]["detail"] == "on: none; delivery email"


def test_a_bad_plugin_setting_fails_only_that_plugin(
    probe: Callable[..., requests.Response],
) -> None:
    response = probe(REGISTRATION__ALUMNI_RULE='{"any_of": [{"kind": "alumnus"}]}')
    assert response.status_code == 503
    assert response.json()["failing"] == ["registration"]
    detail = checks(response)["registration"]["detail"]
    assert detail.startswith(
        "REGISTRATION__ALUMNI_RULE: any_of.0.kind: 'alumnus' is not one of the allowed values"
        " (allowed: 'degree_awarded',"
    )


def test_missing_link_keys_fail_the_selfservice_check(
    probe: Callable[..., requests.Response],
) -> None:
    response = probe(SELFSERVICE__LINK_KEYS="", SELFSERVICE__LINK_KEY_ID="")
    assert response.status_code == 503
    assert response.json()["failing"] == ["selfservice"]
    assert checks(response)["selfservice"]["detail"] == (
        "SELFSERVICE__LINK_KEYS and SELFSERVICE__LINK_KEY_ID are not set"
    )


def test_the_route_needs_the_function_key(probe: Callable[..., requests.Response]) -> None:
    assert probe(key=None).status_code == 401


def test_function_app_serves_the_health_route() -> None:
    health = load_app(str(Path(__file__).resolve().parents[2] / "function_app.py")).find("health")
    assert health is not None
    trigger = health.binding
    assert (trigger["route"], trigger["methods"], trigger["authLevel"]) == (
        "health", ["GET"], "FUNCTION"
    )


def test_pages_without_their_public_address_are_named(
    probe: Callable[..., requests.Response],
) -> None:
    link_keys = '{"k1": "self-service-test-key-0123456789-abcdef"}'
    response = probe(
        SELFSERVICE__LINK_KEYS=link_keys, SELFSERVICE__LINK_KEY_ID="k1",
        SELFSERVICE__PUBLIC_BASE_URL="",
    )
    assert response.status_code == 503
    assert response.json()["failing"] == ["selfservice"]
    assert checks(response)["selfservice"]["detail"].startswith(
        "SELFSERVICE__PUBLIC_BASE_URL: is required when the pages have link keys"
    )
    assert "self-service-test-key" not in response.text

"""A bad setting stops only the plugin that reads it, and says which setting and why.

function_app.py runs in the local host against the sandbox; one plugin's setting is broken at
a time and every plugin is asked over HTTP (the queue trigger is called with the worker's
message type, since it settles by raising).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import azure.functions as func
import pytest
import requests

from plugins.core.settings_groups import SettingsError
from plugins.registration.functions import registration_queue
from sandbox.app import Sandbox
from sandbox.host import LocalHost, read_local_settings
from sandbox.product_settings import dataverse_values, servicebus_connection_string

ROOT = Path(__file__).resolve().parents[2]
EVENT = (ROOT / "tests" / "fixtures" / "events" / "webhook_create_typed.json").read_bytes()
GOOD = {
    "SELFSERVICE__LINK_KEYS": json.dumps({"k1": "s" * 40}),
    "SELFSERVICE__LINK_KEY_ID": "k1",
    "SELFSERVICE__PUBLIC_BASE_URL": "https://alumni.example.org",
    "REGISTRATION_QUEUE": "isolation-queue",
    "REGISTRATION_SWEEP_SCHEDULE": "0 0 0 1 1 *",
}
BAD_RULE = '{"any_of": [{"kind": "alumnus"}]}'
Started = Callable[..., LocalHost]


@pytest.fixture
def start(https_sandbox: Sandbox) -> Iterator[Started]:
    hosts: list[LocalHost] = []

    def run(**overrides: str) -> LocalHost:
        """The host with these settings changed; an empty one is left out."""
        settings = {
            **dataverse_values(https_sandbox), **GOOD,
            "ServiceBusConnection": servicebus_connection_string(https_sandbox), **overrides,
        }
        present = {name: value for name, value in settings.items() if value}
        hosts.append(LocalHost(
            str(ROOT / "function_app.py"), settings=present,
            servicebus_ca_bundle=https_sandbox.ca_file,
        ).start())
        return hosts[-1]

    try:
        yield run
    finally:
        for host in hosts:
            host.stop()


def webhook(host: LocalHost) -> requests.Response:
    assert host.keys is not None
    return requests.post(
        f"{host.base_url}/api/registration/events",
        params={"code": host.keys.function_key("registration_webhook")},
        data=EVENT, headers={"Content-Type": "application/json"}, timeout=30,
    )


def page(host: LocalHost) -> requests.Response:
    return requests.get(f"{host.base_url}/api/mypage", timeout=30)


def health(host: LocalHost) -> requests.Response:
    assert host.keys is not None
    return requests.get(
        f"{host.base_url}/api/health", params={"code": host.keys.master_key}, timeout=30
    )


def test_a_bad_registration_setting_stops_only_the_registration_functions(
    start: Started, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="plugins.core.settings_groups")
    host = start(REGISTRATION__ALUMNI_RULE=BAD_RULE)
    answers = [webhook(host), webhook(host)]
    for answer in answers:
        assert answer.status_code == 503
        assert answer.json() == {
            "error": "configuration",
            "setting": "REGISTRATION__ALUMNI_RULE",
            "problem": "any_of.0.kind: 'alumnus' is not one of the allowed values",
            "allowed": "'degree_awarded', 'about_to_graduate', 'completed_study', "
                       "'min_credits' or 'self_declared'",
        }
    lines = [r.getMessage() for r in caplog.records if "ALUMNI_RULE" in r.getMessage()]
    assert len(lines) == 1 and "FUNCTION-AFTER" not in lines[0].upper()
    message = func.ServiceBusMessage(body=EVENT)
    with pytest.raises(SettingsError, match="REGISTRATION__ALUMNI_RULE"):
        registration_queue.build().get_user_function()([message])
    assert page(host).status_code == 200
    report = health(host)
    assert report.status_code == 503
    assert report.json()["failing"] == ["registration"]


def test_a_bad_page_setting_stops_only_the_pages(start: Started) -> None:
    host = start(SELFSERVICE__PRIMARY_COLOUR="red")
    answer = page(host)
    assert answer.status_code == 503
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<html" in answer.text.lower()
    assert webhook(host).status_code == 200
    assert health(host).json()["failing"] == ["selfservice"]


def test_the_old_binding_setting_name_is_named(start: Started) -> None:
    host = start(REGISTRATION_QUEUE="", REGISTRATION__QUEUE="isolation-queue")
    answer = webhook(host)
    assert answer.status_code == 503
    assert answer.json()["setting"] == "REGISTRATION__QUEUE"
    assert "rename it REGISTRATION_QUEUE" in answer.json()["problem"]


def test_the_example_settings_validate_in_every_group(monkeypatch: pytest.MonkeyPatch) -> None:
    from plugins.core.settings_groups import GROUPS, load_group

    for name, value in read_local_settings(ROOT / "local.settings.example.json").items():
        monkeypatch.setenv(name, value)
    for group in GROUPS:
        load_group(group)

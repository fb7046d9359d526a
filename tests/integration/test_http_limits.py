"""Body size caps on every HTTP route and unreadable numbers in events, through the local
host against the sandbox: what is too large gets 413 before anything parses it, and an
event with a number no parser should read is a 400 on the webhook and a settled message on
the queue (never delivered ten times and dead-lettered).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator

import pytest
import requests
from pipeline_env import QUEUE, WEBHOOK_KEY, PipelineEnv, pipeline_env

from plugins.core.body_limits import HEALTH_MAX_BYTES, PAGE_MAX_BYTES, WEBHOOK_MAX_BYTES

# What each cap let through and refused, for the report at the end of the module.
SIZES: dict[str, tuple[int, int]] = {}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    with pipeline_env(tmp_path_factory.mktemp("limits"), {}) as started:
        started.route("webhook")
        yield started
    if SIZES:
        print("\nbody caps (largest accepted, smallest refused with 413, bytes):", SIZES)


def context(padding: int = 0, **members: object) -> bytes:
    """An event for a registration that does not exist, padded to a size."""
    body = {"MessageName": "Create", "PrimaryEntityName": "mp_registration",
            "PrimaryEntityId": str(uuid.uuid4()), "Stage": 40, "Mode": 1,
            "OrganizationName": "x" * padding, **members}
    return json.dumps(body).encode()


def webhook(env: PipelineEnv, body: bytes) -> requests.Response:
    return requests.post(
        f"{env.host.base_url}/api/registration/events", data=body,
        headers={"x-functions-key": WEBHOOK_KEY}, timeout=60,
    )


def test_the_webhook_takes_what_dataverse_sends_and_refuses_more(env: PipelineEnv) -> None:
    largest = context(256 * 1024 - 200)
    larger = context(WEBHOOK_MAX_BYTES)
    assert webhook(env, largest).status_code == 200
    refused = webhook(env, larger)
    assert refused.status_code == 413
    assert "256 KB" in refused.text
    SIZES["webhook"] = (len(largest), len(larger))


def test_pages_refuse_a_body_larger_than_any_form(env: PipelineEnv) -> None:
    url = f"{env.host.base_url}/api/mypage/register"
    fits = requests.post(url, data=b"a=" + b"x" * (PAGE_MAX_BYTES - 2), timeout=30)
    too_large = requests.post(url, data=b"a=" + b"x" * PAGE_MAX_BYTES, timeout=30)
    assert fits.status_code != 413
    assert too_large.status_code == 413
    assert "The form is too large" in too_large.text or "för stort" in too_large.text
    SIZES["pages"] = (PAGE_MAX_BYTES, PAGE_MAX_BYTES + 2)


def test_health_refuses_a_body(env: PipelineEnv) -> None:
    assert env.host.keys is not None
    url = f"{env.host.base_url}/api/health?code={env.host.keys.function_key('health')}"
    answer = requests.get(url, data=b"x" * (HEALTH_MAX_BYTES + 1), timeout=30)
    assert answer.status_code == 413
    SIZES["health"] = (HEALTH_MAX_BYTES, HEALTH_MAX_BYTES + 1)


def test_a_huge_integer_is_a_400_with_its_reason_on_the_webhook(env: PipelineEnv) -> None:
    body = context()[:-1] + b', "Depth": ' + b"7" * 4_301 + b"}"
    answer = webhook(env, body)
    assert answer.status_code == 400
    assert "4300 digits" in answer.text


def test_a_huge_integer_on_the_queue_is_settled_once_with_its_reason(
    env: PipelineEnv, caplog: pytest.LogCaptureFixture
) -> None:
    body = context()[:-1] + b', "Stage": ' + b"7" * 5_000 + b"}"
    with env.routed("servicebus"), caplog.at_level(logging.ERROR):
        env.sandbox.servicebus.send(QUEUE, body, content_type="application/json",
                                    message_id=str(uuid.uuid4()))
        env.settle()
    assert env.sandbox.servicebus.dead_letters(QUEUE) == []
    assert env.sandbox.servicebus.active_count(QUEUE) == 0
    settled = [r.getMessage() for r in caplog.records if "is not a Dataverse event" in
               r.getMessage()]
    assert len(settled) == 1 and "4300 digits" in settled[0]

"""Authentication of the registration webhook through the local Functions host.

A missing or wrong function key (in ``?code=`` or the ``x-functions-key`` header), another
function's key, and a webhook Dataverse delivers with the wrong header all get 401 with an
empty body, and nothing runs. Keys are compared with ``hmac.compare_digest`` (checked by
spying on it, not by timing: timing tests are flaky).
"""

from __future__ import annotations

import hmac
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from unchanged import nothing_written

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pipeline_env import WEBHOOK_KEY, PipelineEnv, pipeline_env
from steps_registration import register_step, register_webhook, system_jobs

NOT_AN_EVENT = b'{"hello": 1}'
RECEIVED, NOT_APPROVED = 100000000, 100000003
FAILED = 31  # asyncoperation statuscode


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    with pipeline_env(tmp_path_factory.mktemp("auth"), {}) as started:
        started.route("webhook")
        yield started


@pytest.fixture
def url(env: PipelineEnv) -> str:
    return f"{env.host.base_url}/api/registration/events"


def other_key(env: PipelineEnv) -> str:
    """The key of another function of the app (keys are per function)."""
    assert env.host.keys is not None
    return env.host.keys.function_key("health")


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param(lambda env: {}, id="no key"),
        pytest.param(lambda env: {"params": {"code": ""}}, id="empty code"),
        pytest.param(lambda env: {"params": {"code": "wrong"}}, id="wrong code"),
        pytest.param(lambda env: {"params": {"code": WEBHOOK_KEY[:-1] + "X"}},
                     id="code wrong in the last character"),
        pytest.param(lambda env: {"params": {"code": WEBHOOK_KEY + "x"}}, id="code too long"),
        pytest.param(lambda env: {"params": {"code": WEBHOOK_KEY.upper()}}, id="code in capitals"),
        pytest.param(lambda env: {"headers": {"x-functions-key": "wrong"}}, id="wrong header"),
        pytest.param(lambda env: {"headers": {"x-functions-key": other_key(env)}},
                     id="another function's key"),
    ],
)
def test_a_missing_or_wrong_key_is_refused_with_401_and_nothing_runs(
    env: PipelineEnv, url: str, presented: Callable[[PipelineEnv], dict[str, dict[str, str]]]
) -> None:
    registration_id = env.create_registration(
        mp_firstname="Ada", mp_lastname="Lovelace", mp_email=f"{uuid.uuid4()}@example.org",
        tag="member-plugins-registration",
    )
    env.settle()
    event = {"MessageName": "Create", "PrimaryEntityName": "mp_registration",
             "PrimaryEntityId": registration_id, "Stage": 40, "Mode": 1}
    with nothing_written(env.sandbox):
        answer = requests.post(url, json=event, timeout=10, **presented(env))  # type: ignore[arg-type]
    assert (answer.status_code, answer.content) == (401, b"")
    assert env.registration(registration_id)["mp_status"] == RECEIVED


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param(lambda env: {"params": {"code": WEBHOOK_KEY}}, id="code"),
        pytest.param(lambda env: {"headers": {"x-functions-key": WEBHOOK_KEY}}, id="header"),
        pytest.param(lambda env: {"headers": {"x-functions-key": env.host.keys.master_key}},
                     id="master key"),
    ],
)
def test_the_right_key_gets_past_authentication(
    env: PipelineEnv, url: str, presented: Callable[[PipelineEnv], dict[str, dict[str, str]]]
) -> None:
    answer = requests.post(url, data=NOT_AN_EVENT, timeout=10, **presented(env))  # type: ignore[arg-type]
    assert answer.status_code == 400


def test_keys_are_compared_in_constant_time(
    env: PipelineEnv, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    refused = requests.post(url, data=NOT_AN_EVENT, params={"code": "guess"}, timeout=10)
    accepted = requests.post(url, data=NOT_AN_EVENT, params={"code": WEBHOOK_KEY}, timeout=10)

    assert (refused.status_code, accepted.status_code) == (401, 400)
    presented = [a for a, _ in compared]
    assert b"guess" in presented and WEBHOOK_KEY.encode() in presented
    assert (WEBHOOK_KEY.encode(), WEBHOOK_KEY.encode()) in compared


def header_webhook(env: PipelineEnv, key: str) -> tuple[str, str]:
    """A webhook that sends ``x-functions-key`` (HttpHeader), with a step on Create."""
    endpoint = register_webhook(
        env.dv, f"{env.host.base_url}/api/registration/events", 5,
        f'<settings><setting name="x-functions-key" value="{key}"/></settings>',
    )
    return endpoint, register_step(env.dv, endpoint, "Create", "mp_registration")


@pytest.mark.parametrize(("key", "status"), [("wrong-key", RECEIVED), (WEBHOOK_KEY, NOT_APPROVED)])
def test_dataverse_delivering_with_the_wrong_webhook_header_is_refused(
    env: PipelineEnv, key: str, status: int
) -> None:
    endpoint, step = header_webhook(env, key)
    try:
        with env.routed("parked"):
            registration_id = env.create_registration(
                mp_firstname="Ada", mp_lastname="Lovelace",
                mp_email=f"{uuid.uuid4()}@example.org",
            )
            env.settle()
        jobs = system_jobs(env.dv, step)
    finally:
        assert env.dv.delete(f"sdkmessageprocessingsteps({step})").status_code == 204
        assert env.dv.delete(f"serviceendpoints({endpoint})").status_code == 204
    assert env.registration(registration_id)["mp_status"] == status
    if status == RECEIVED:
        assert [job["statuscode"] for job in jobs] == [FAILED]
        assert "HTTP 401" in jobs[0]["message"]

"""Property-based fuzzing of the event parser and the registration webhook.

Hostile bodies, headers, application properties and sizes (:mod:`hostile_events`): the
parser raises nothing but :class:`EventParseError`; the webhook answers 400 for exactly the
bodies the parser refuses and 200 for the rest (an event for a registration that does not
exist, or for another table, is settled), never a 500; and nothing is written. The webhook is
called directly (``func.HttpRequest``, as the worker calls it: many examples) and over HTTP
through the local host (a smaller sample).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import azure.functions as func
import pytest
import requests
from hostile_events import (
    HEADER_REGRESSIONS,
    REGRESSIONS,
    VALID,
    bodies,
    headers,
    http_headers,
    numbers_in_contexts,
    properties,
)
from hypothesis import HealthCheck, Phase, example, find, given, settings
from unchanged import nothing_written

from plugins.core.body_limits import WEBHOOK_MAX_BYTES, body_too_large
from plugins.core.events import EventParseError, parse_servicebus, parse_webhook
from plugins.registration import functions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pipeline_env import WEBHOOK_KEY, PipelineEnv, pipeline_env

FUZZ = settings(
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)
PARSER_EXAMPLES = 250
DIRECT_EXAMPLES = 150
HTTP_EXAMPLES = 25
# Unreadable numbers: a class of bodies of their own, tried in their thousands.
NUMBER_EXAMPLES = 4_000
NUMBER_HTTP_EXAMPLES = 100
# Bodies each webhook test sent, printed at the end of the module (``-s``).
SENT: dict[str, int] = {}
webhook = functions.registration_webhook.build().get_user_function()
Test = Callable[..., None]


def with_regressions(test: Test) -> Test:
    """Try the bodies and headers that once broke the parser or the webhook, every run."""
    for body in REGRESSIONS:
        test = example(body=body, received={})(test)
    for received in HEADER_REGRESSIONS:
        test = example(body=VALID, received=received)(test)
    return test


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    with pipeline_env(tmp_path_factory.mktemp("fuzz"), {}) as started:
        started.route("webhook")
        yield started
    if SENT:
        print("\nfuzzed webhook bodies (none answered 5xx):", SENT)


def refused(body: bytes, received: Mapping[str, str]) -> bool:
    """Whether the parser refuses the body (and so the webhook must answer 400)."""
    try:
        parse_webhook(body, received)
    except EventParseError:
        return True
    return False


def expected_status(body: bytes, received: Mapping[str, str]) -> int:
    """413 for a body larger than Dataverse sends, 400 for one the parser refuses, else 200."""
    if body_too_large(received, len(body), WEBHOOK_MAX_BYTES):
        return 413
    return 400 if refused(body, received) else 200


# ------------------------------------------------------------------------------ the parser


def check_webhook_parser(body: bytes, received: Mapping[str, str]) -> None:
    try:
        event = parse_webhook(body, received)
    except EventParseError as exc:
        assert str(exc)
    else:
        assert event.source == "webhook" and event.record_id


def check_servicebus_parser(body: bytes, received: Mapping[str | bytes, object]) -> None:
    try:
        event = parse_servicebus(body, received)
    except EventParseError as exc:
        assert str(exc)
    else:
        assert event.source == "servicebus" and event.record_id


@with_regressions
@settings(FUZZ, max_examples=PARSER_EXAMPLES)
@given(body=bodies, received=headers)
def test_the_webhook_parser_raises_only_event_parse_errors(
    body: bytes, received: dict[str, str]
) -> None:
    check_webhook_parser(body, received)


@with_regressions
@settings(FUZZ, max_examples=PARSER_EXAMPLES)
@given(body=bodies, received=properties)
def test_the_servicebus_parser_raises_only_event_parse_errors(
    body: bytes, received: dict[str | bytes, object]
) -> None:
    check_servicebus_parser(body, received)


@pytest.mark.heavy
@settings(FUZZ, max_examples=20 * PARSER_EXAMPLES)
@given(body=bodies, received=headers, extra=properties)
def test_both_parsers_on_many_more_examples(
    body: bytes, received: dict[str, str], extra: dict[str | bytes, object]
) -> None:
    check_webhook_parser(body, received)
    check_servicebus_parser(body, extra)


# ----------------------------------------------------------------------------- the webhook


def call_directly(
    env: PipelineEnv, body: bytes, received: dict[str, str], counted: str = "direct"
) -> None:
    SENT[counted] = SENT.get(counted, 0) + 1
    request = func.HttpRequest(
        method="POST", url=f"{env.host.base_url}/api/registration/events", body=body,
        headers=received, params={"code": WEBHOOK_KEY}, route_params={},
    )
    with nothing_written(env.sandbox):
        answer = webhook(request)
    assert answer.status_code == expected_status(body, received)


@with_regressions
@settings(FUZZ, max_examples=DIRECT_EXAMPLES)
@given(body=bodies, received=headers)
def test_the_webhook_function_answers_400_or_200_and_writes_nothing(
    env: PipelineEnv, body: bytes, received: dict[str, str]
) -> None:
    call_directly(env, body, received)


@pytest.mark.heavy
@settings(FUZZ, max_examples=10 * DIRECT_EXAMPLES)
@given(body=bodies, received=headers)
def test_the_webhook_function_on_many_more_examples(
    env: PipelineEnv, body: bytes, received: dict[str, str]
) -> None:
    call_directly(env, body, received)


@settings(FUZZ, max_examples=HTTP_EXAMPLES)
@given(body=bodies, received=http_headers)
def test_the_webhook_route_through_the_host_never_answers_500(
    env: PipelineEnv, body: bytes, received: dict[str, str]
) -> None:
    url = f"{env.host.base_url}/api/registration/events"
    sent = {**received, "x-functions-key": WEBHOOK_KEY}
    with nothing_written(env.sandbox):
        answer = requests.post(url, data=body, headers=sent, timeout=60)
    assert answer.status_code == expected_status(body, sent), answer.text[:200]


@settings(FUZZ, max_examples=NUMBER_EXAMPLES)
@given(body=numbers_in_contexts(), received=headers)
def test_unreadable_numbers_anywhere_are_refused_by_both_parsers(
    body: bytes, received: dict[str, str]
) -> None:
    check_webhook_parser(body, received)
    check_servicebus_parser(body, {})


@settings(FUZZ, max_examples=NUMBER_EXAMPLES)
@given(body=numbers_in_contexts())
def test_unreadable_numbers_get_400_or_200_from_the_webhook_never_5xx(
    env: PipelineEnv, body: bytes
) -> None:
    call_directly(env, body, {}, counted="numbers, direct")


@settings(FUZZ, max_examples=NUMBER_HTTP_EXAMPLES)
@given(body=numbers_in_contexts())
def test_unreadable_numbers_through_the_host_never_get_5xx(
    env: PipelineEnv, body: bytes
) -> None:
    SENT["numbers, over HTTP"] = SENT.get("numbers, over HTTP", 0) + 1
    url = f"{env.host.base_url}/api/registration/events"
    sent = {"x-functions-key": WEBHOOK_KEY}
    with nothing_written(env.sandbox):
        answer = requests.post(url, data=body, headers=sent, timeout=60)
    assert answer.status_code == expected_status(body, sent), answer.text[:200]


def test_the_strategies_reach_past_the_parser() -> None:
    """Some generated bodies are events the handler gets, so the 200 path is fuzzed too."""
    body = find(bodies, lambda candidate: not refused(candidate, {}),
                settings=settings(database=None, max_examples=2000, phases=(Phase.generate,)))
    assert parse_webhook(body, {}).record_id

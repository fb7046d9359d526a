"""The client's chokepoint with a scripted transport: retries, budget, links, token refresh."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from plugins.core.settings import DataverseSettings
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import (
    DataverseError,
    ThrottledError,
    TransientError,
    TransportError,
    UnauthorizedError,
)
from plugins.dataverse.throttle import ThrottleBudget

URL = "https://org.crm4.dynamics.com"
API = URL + "/api/data/v9.2/"
GUID = "6d81597f-0f9f-e711-8122-000d3aa2331c"


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    answer = requests.Response()
    answer.status_code = status
    answer._content = b"" if body is None else json.dumps(body).encode()
    answer.headers.update(headers or {})
    return answer


class ScriptedSession(requests.Session):
    """Answers requests from a script, recording what was asked."""

    def __init__(self, answers: list[Any]) -> None:
        super().__init__()
        self.answers: Iterator[Any] = iter(answers)
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls.append((method, url, dict(kwargs.get("headers") or {})))
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Tokens:
    """Hands out numbered tokens; counts forced refreshes."""

    def __init__(self) -> None:
        self.issued = 0
        self.forced = 0

    def token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.forced += 1
            self.issued += 1
        return f"token-{self.issued}"


def client_for(
    answers: list[Any], **settings: Any
) -> tuple[DataverseClient, ScriptedSession, Tokens]:
    values: dict[str, Any] = {"url": URL, "retry_backoff_seconds": 0.001, **settings}
    session = ScriptedSession(answers)
    tokens = Tokens()
    settings = DataverseSettings(**values)
    budget = ThrottleBudget(settings.max_concurrent_requests)
    client = DataverseClient(settings, token_provider=tokens, session=session, budget=budget)
    return client, session, tokens


def test_retry_after_is_honoured_then_succeeds() -> None:
    client, session, _ = client_for(
        [
            response(429, {"error": {"code": "0x80072322", "message": "limit"}},
                     {"Retry-After": "0"}),
            response(503),
            requests.ConnectionError("reset"),
            response(200, {"contactid": "x"}),
        ]
    )
    assert client.get("contacts", "6d81597f-0f9f-e711-8122-000d3aa2331c") == {"contactid": "x"}
    assert len(session.calls) == 4
    assert client.request_counter.by_method() == {"GET": 4}
    assert len({headers["x-ms-client-request-id"] for _, _, headers in session.calls}) == 1


def test_retry_after_beyond_the_budget_is_throttled_at_once() -> None:
    client, session, _ = client_for(
        [response(429, {"error": {"code": "0x80072322", "message": "limit"}},
                  {"Retry-After": "30", "x-ms-service-request-id": "req-1"})],
        retry_budget_seconds=5,
    )
    with pytest.raises(ThrottledError) as caught:
        client.delete("contacts", "6d81597f-0f9f-e711-8122-000d3aa2331c")
    assert caught.value.retry_after == 30 and caught.value.request_id == "req-1"
    assert len(session.calls) == 1


def test_attempts_are_bounded() -> None:
    client, session, _ = client_for([response(502)] * 3, max_attempts=3)
    with pytest.raises(TransientError):
        client.delete("contacts", "6d81597f-0f9f-e711-8122-000d3aa2331c")
    assert len(session.calls) == 3


def test_401_forces_one_refresh_then_gives_up() -> None:
    client, session, tokens = client_for([response(401), response(401)])
    with pytest.raises(UnauthorizedError):
        client.delete("contacts", "6d81597f-0f9f-e711-8122-000d3aa2331c")
    assert tokens.forced == 1
    assert [h["Authorization"] for _, _, h in session.calls] == [
        "Bearer token-0", "Bearer token-1",
    ]


def test_next_link_to_another_host_is_refused_before_sending() -> None:
    client, session, _ = client_for(
        [response(200, {"value": [{"a": 1}], "@odata.nextLink": "https://evil.example/steal"})]
    )
    rows = client.query("contacts")
    assert next(rows) == {"a": 1}
    with pytest.raises(DataverseError, match="outside"):
        next(rows)
    assert len(session.calls) == 1


def test_top_sends_no_page_size_and_stops_at_top() -> None:
    client, session, _ = client_for(
        [response(200, {"value": [{"n": 1}, {"n": 2}, {"n": 3}],
                        "@odata.nextLink": API + "contacts?$skiptoken=x"})]
    )
    assert [r["n"] for r in client.query("contacts", top=2)] == [1, 2]
    method, url, headers = session.calls[0]
    assert (method, url) == ("GET", API + "contacts?$top=2")
    assert "Prefer" not in headers


def test_missing_environment_url_is_refused() -> None:
    with pytest.raises(DataverseError, match="environment URL"):
        DataverseClient(DataverseSettings(), token_provider=Tokens())


def test_failed_tls_verification_is_not_retried() -> None:
    client, session, _ = client_for([requests.exceptions.SSLError("certificate verify failed")])
    with pytest.raises(TransportError, match="certificate verify failed"):
        client.delete("contacts", "6d81597f-0f9f-e711-8122-000d3aa2331c")
    assert len(session.calls) == 1


def test_answer_cut_mid_body_is_retried() -> None:
    client, session, _ = client_for(
        [requests.exceptions.ChunkedEncodingError("cut"), response(204)]
    )
    client.delete("contacts", "6d81597f-0f9f-e711-8122-000d3aa2331c")
    assert len(session.calls) == 2


def test_bodies_carry_datetimes_and_guids_as_text() -> None:
    client, session, _ = client_for(
        [response(204, headers={"OData-EntityId": API + f"tasks({GUID})"})]
    )
    sent: list[bytes] = []
    original = session.request

    def capture(method: str, url: str, **kwargs: Any) -> Any:
        sent.append(kwargs["data"])
        return original(method, url, **kwargs)

    session.request = capture  # type: ignore[method-assign]
    result = client.create(
        "tasks", {"scheduledend": datetime.datetime(2024, 5, 1, 8, 30, tzinfo=datetime.UTC)}
    )
    assert result.id == GUID and result.created is True
    assert json.loads(sent[0]) == {"scheduledend": "2024-05-01T08:30:00Z"}
    assert session.calls[0][2]["Content-Type"] == "application/json"


def test_a_pause_another_call_drew_fails_a_call_at_once_without_sending() -> None:
    client, session, _ = client_for([], retry_budget_seconds=5)
    client.budget.throttled(300)
    with pytest.raises(ThrottledError) as caught:
        client.get("contacts", GUID)
    assert session.calls == []
    assert caught.value.retry_after is not None and 295 < caught.value.retry_after <= 300


def test_a_short_pause_another_call_drew_is_waited_out_then_sent() -> None:
    client, session, _ = client_for([response(200, {"contactid": "x"})], retry_budget_seconds=5)
    client.budget.throttled(0.2)
    assert client.get("contacts", GUID) == {"contactid": "x"}
    assert len(session.calls) == 1
    assert client.budget.pause_seconds == 0

"""The triggers' conversions, and what a person sees when Dataverse or the settings fail."""

from __future__ import annotations

from typing import Any

import azure.functions as func
import pytest

from plugins.dataverse.errors import TransientError
from plugins.selfservice import functions, runtime
from plugins.selfservice.runtime import NotConfigured
from plugins.selfservice.web import PageRequest, PageResponse


def http_request(method: str = "GET", body: bytes = b"", **headers: str) -> func.HttpRequest:
    return func.HttpRequest(
        method=method, url="http://host.test/api/mypage/register?lang=en", body=body,
        headers={"Accept-Language": "nb", **headers}, params={"lang": "en"},
        route_params={},
    )


def test_a_form_post_becomes_a_plain_request() -> None:
    body = b"first_name=%C3%85sa&topics=events&topics=career&website="

    request = functions.page_request(
        http_request("POST", body, Cookie="mp_session=abc", **{"X-Forwarded-For": "1.2.3.4"})
    )

    assert request is not None
    assert request.method == "POST" and request.path == "/api/mypage/register"
    assert request.form == {"first_name": ["Åsa"], "topics": ["events", "career"], "website": [""]}
    assert request.query == {"lang": "en"}
    assert request.cookie("mp_session") == "abc"
    assert request.client_address(1) == "1.2.3.4"


@pytest.mark.parametrize("body", [b"name=\xff\xfe", "&".join(["a=1"] * 300).encode()])
def test_an_unreadable_form_is_refused_with_a_page(body: bytes) -> None:
    answer = functions.mypage_register.build().get_user_function()(http_request("POST", body))

    assert answer.status_code == 400
    assert b"The request could not be read" in answer.get_body()


def test_a_body_larger_than_any_form_is_refused_before_it_is_read() -> None:
    answer = functions.mypage_register.build().get_user_function()(
        http_request("POST", b"x=" + b"a" * 9_000)
    )

    assert answer.status_code == 413
    assert b"The form is too large" in answer.get_body()


@pytest.mark.parametrize("failure", [TransientError(503, "", "down"), NotConfigured("no keys")])
def test_failures_become_a_try_again_later_page(
    monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def broken() -> Any:
        raise failure

    monkeypatch.setattr(runtime, "current_pages", broken)

    answer = functions.mypage_register.build().get_user_function()(http_request())

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert "Content-Security-Policy" in answer.headers
    assert "Prøv igjen" not in answer.get_body().decode()  # ?lang=en wins over the browser
    assert "Please try again" in answer.get_body().decode()


def test_a_page_answer_keeps_its_status_headers_and_cookie() -> None:
    answer = functions.http_response(
        PageResponse(303, "", {"Location": "/api/mypage/done/registered", "Set-Cookie": "a=b"})
    )

    assert answer.status_code == 303
    assert answer.headers["Location"] == "/api/mypage/done/registered"
    assert answer.headers["Set-Cookie"] == "a=b"


@pytest.mark.parametrize(
    ("forwarded", "hops", "address"),
    [
        ("", 1, None),
        ("6.6.6.6, 7.7.7.7, 203.0.113.9", 1, "203.0.113.9"),
        ("203.0.113.9", 1, "203.0.113.9"),
        ("198.51.100.1, 203.0.113.9:51234", 1, "203.0.113.9"),
        ("198.51.100.1, 203.0.113.9", 2, "198.51.100.1"),
        ("[2001:db8::1]:443", 1, "2001:db8::1"),
        ("2001:db8::2", 1, "2001:db8::2"),
        ("203.0.113.9", 0, None),
    ],
)
def test_the_client_address_is_the_one_the_trusted_front_end_saw(
    forwarded: str, hops: int, address: str | None
) -> None:
    request = PageRequest(method="GET", url="http://h/", headers={"x-forwarded-for": forwarded})

    assert request.client_address(hops) == address


def test_tls_at_the_front_end_counts_as_https() -> None:
    behind = PageRequest(method="GET", url="http://h/x", headers={"x-forwarded-proto": "https"})

    assert behind.https
    assert not PageRequest(method="GET", url="http://h/x").https

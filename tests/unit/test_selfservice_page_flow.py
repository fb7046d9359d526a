"""The pages' behaviour on plain values, with an in-memory stand-in for Dataverse: single
use, link requests that reveal nothing, protection answers, headers and clean logs."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SelfServiceSettings
from plugins.dataverse.errors import TransientError
from plugins.identity import Country
from plugins.registration.model import Kind
from plugins.selfservice.csrf import FormUse
from plugins.selfservice.pages import SelfServicePages
from plugins.selfservice.signing import KeyRing, Link, LinkPurpose
from plugins.selfservice.store import (
    ConfirmationRecord,
    ConfirmationTarget,
    Contact,
    Email,
    FormAlreadyUsed,
    LinkAlreadyUsed,
    LinkRecord,
    Recipient,
    RegistrationDraft,
)
from plugins.selfservice.web import PageRequest, PageResponse

KEY = "unit-test-key-0123456789-0123456789-abc"
BASE = "http://pages.test/api/mypage"
BO = Contact(
    id="11111111-1111-4111-8111-111111111111", first_name="Bo", last_name="Ek",
    email="bo@example.se", phone="", has_national_id=True, topics=frozenset({"events"}),
    channels=frozenset({"email"}), consent_version="1",
)


@dataclass
class FakeStore:
    """Dataverse as the pages see it: rows in memory, ETags on link rows."""

    registrations: list[RegistrationDraft] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    links: dict[str, tuple[str, int, bool]] = field(default_factory=dict)
    people: dict[str, list[Recipient]] = field(default_factory=dict)
    confirmations: list[tuple[str, ConfirmationTarget]] = field(default_factory=list)
    used_forms: set[str] = field(default_factory=set)

    def create_registration(self, draft: RegistrationDraft, form: FormUse) -> str:
        self.use_form(form)
        self.registrations.append(draft)
        return f"reg-{len(self.registrations)}"

    def use_form(self, form: FormUse) -> None:
        if form.id in self.used_forms:
            raise FormAlreadyUsed
        self.used_forms.add(form.id)

    def recipients(self, email: str) -> list[Recipient]:
        return self.people.get(email.casefold(), [])

    def issue_link(self, link: Link, recipient: Recipient, email: Email) -> None:
        self.links[link.id] = (recipient.contact_id, 1, False)
        self.emails.append(email)

    def open_link(self, link: Link) -> LinkRecord | None:
        if link.id not in self.links:
            return None
        _, version, used = self.links[link.id]
        return LinkRecord(link.id, used, f'W/"{version}"', BO)

    def submit_with_link(self, record: LinkRecord, draft: RegistrationDraft, now: datetime) -> None:
        contact_id, version, _ = self.links[record.id]
        if record.etag != f'W/"{version}"':
            raise LinkAlreadyUsed
        self.links[record.id] = (contact_id, version + 1, True)
        self.registrations.append(draft)

    def confirmation_target(
        self, national_id: str | None, email: str, country: Country
    ) -> ConfirmationTarget | None:
        known = self.people.get(email.casefold(), [])
        if len(known) > 1:
            return None
        if known:
            return ConfirmationTarget(known[0].contact_id, known[0].first_name, known[0].address)
        return ConfirmationTarget(None, "", email)

    def issue_confirmation(
        self, link: Link, registration_id: str, target: ConfirmationTarget, email: Email
    ) -> None:
        self.confirmations.append((registration_id, target))
        self.emails.append(email)

    def open_confirmation(self, link: Link, country: Country) -> ConfirmationRecord | None:
        return None

    def confirm(self, record: ConfirmationRecord, now: datetime) -> bool:
        raise AssertionError("not reached in these tests")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    pages: SelfServicePages
    store: FakeStore
    clock: Clock
    pauses: list[float]
    cookie: str = ""

    def call(self, page: str, method: str, url: str, form: dict[str, Any] | None = None,
             **route: str) -> PageResponse:
        request = PageRequest(
            method=method, url=url,
            form={k: v if isinstance(v, list) else [v] for k, v in (form or {}).items()},
            headers={"cookie": self.cookie, "x-forwarded-for": "198.51.100.7",
                     "accept-language": "en"},
            route=route,
        )
        handler = getattr(self.pages, page)
        answer: PageResponse = handler(request) if page != "request_link" else handler(
            request, LinkPurpose(route.pop("purpose", "update"))
        )
        if "Set-Cookie" in answer.headers:
            self.cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
        return answer

    def submit(self, page: str, url: str, fields: dict[str, Any], **route: str) -> PageResponse:
        form = self.call(page, "GET", url, **dict(route))
        return self.call(page, "POST", url, {"csrf": csrf_of(form.body), **fields}, **route)


def csrf_of(body: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', body)
    assert match is not None
    return match.group(1)


PUBLIC = "https://alumni.example.org/api/mypage"


def make(**settings: Any) -> Harness:
    config = SelfServiceSettings(
        **{"link_keys": {"k1": KEY}, "link_key_id": "k1", "link_request_min_seconds": 0.5,
           "public_base_url": PUBLIC, **settings}
    )
    store, clock, pauses = FakeStore(), Clock(), []
    store.people["bo@example.se"] = [Recipient(BO.id, "Bo <b>", "bo@example.se")]
    pages = SelfServicePages(
        config, SchemaMap(), store, KeyRing({"k1": KEY.encode()}, "k1"),
        clock=clock, pause=pauses.append,
    )
    return Harness(pages, store, clock, pauses)


REGISTRATION = {
    "first_name": "Anna", "last_name": "Svensson", "email": "anna@example.se",
    "national_id": "19900101-1239", "topics": ["events"], "channels": ["email"],
    "consent": "yes", "website": "",
}


def link_from(email: Email) -> str:
    match = re.search(r'<a href="([^"]+)"', email.html)
    assert match is not None
    return html.unescape(match.group(1))


def token_of(link: str) -> str:
    return link.split("/link/", 1)[1].split("?", 1)[0]


def test_a_valid_registration_is_written_once_and_answered_with_a_redirect() -> None:
    h = make()

    answer = h.submit("register", f"{BASE}/register", REGISTRATION)

    assert answer.status == 303
    assert answer.headers["Location"] == "/api/mypage/done/registered?lang=en"
    [draft] = h.store.registrations
    assert draft.kind is Kind.REGISTRATION and draft.national_id == "199001011239"
    assert draft.consent_version == "1" and draft.consent_on == h.clock.now


def test_a_form_token_works_once() -> None:
    h = make()
    form = h.call("register", "GET", f"{BASE}/register")
    fields = {"csrf": csrf_of(form.body), **REGISTRATION}

    first = h.call("register", "POST", f"{BASE}/register", fields)
    second = h.call("register", "POST", f"{BASE}/register", fields)

    assert first.status == 303
    assert second.status == 400 and "The form had expired" in second.body
    assert len(h.store.registrations) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda fields: {**fields, "csrf": "k1.AAAA.AAAA"},
        lambda fields: {k: v for k, v in fields.items() if k != "csrf"},
    ],
)
def test_a_bad_csrf_token_writes_nothing(tamper: Any) -> None:
    h = make()
    form = h.call("register", "GET", f"{BASE}/register")

    answer = h.call(
        "register", "POST", f"{BASE}/register", tamper({"csrf": csrf_of(form.body), **REGISTRATION})
    )

    assert answer.status == 400
    assert h.store.registrations == []


def test_the_honeypot_answers_like_success_and_writes_nothing() -> None:
    h = make()

    answer = h.submit("register", f"{BASE}/register", {**REGISTRATION, "website": "x"})

    assert answer.status == 303 and h.store.registrations == []


def test_too_many_submissions_from_one_address_are_refused() -> None:
    h = make(rate_limit_per_address=2)
    statuses = [
        h.submit("register", f"{BASE}/register", {**REGISTRATION, "email": f"a{i}@example.se"})
        .status for i in range(3)
    ]

    assert statuses == [303, 303, 429]
    assert len(h.store.registrations) == 2


def test_an_address_registered_too_often_is_refused() -> None:
    h = make(rate_limit_per_email=1)

    first = h.submit("register", f"{BASE}/register", REGISTRATION)
    second = h.submit("register", f"{BASE}/register", {**REGISTRATION, "email": "ANNA@example.se"})

    assert (first.status, second.status) == (303, 429)


def test_link_requests_look_the_same_and_take_the_same_time_known_or_not() -> None:
    h = make()
    answers = [
        h.submit("request_link", f"{BASE}/update", {"email": email, "website": ""})
        for email in ("nobody@example.se", "bo@example.se")
    ]

    assert [a.status for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert len(h.store.emails) == 1
    assert len(h.pauses) == 2 and all(0.3 < p <= 0.5 for p in h.pauses)


def test_the_email_carries_a_working_link_and_escapes_what_it_shows() -> None:
    h = make()
    h.submit("request_link", f"{BASE}/unregister", {"email": "Bo@Example.se"}, purpose="unregister")

    [email] = h.store.emails
    assert "Bo &lt;b&gt;" in email.html and "<b>" not in email.html
    link = link_from(email)
    assert link.startswith(f"{PUBLIC}/link/") and link.endswith("?lang=en")
    opened = h.call("link", "GET", link, token=token_of(link))
    assert opened.status == 200 and "Terminate my membership" in opened.body


def test_a_forged_host_never_reaches_a_link() -> None:
    h = make()
    request = PageRequest(
        method="GET", url="http://evil.example/api/mypage/update",
        headers={"host": "evil.example", "x-forwarded-host": "evil.example",
                 "x-forwarded-for": "198.51.100.9"},
    )
    form = h.pages.request_link(request, LinkPurpose.UPDATE)
    token = re.search(r'name="csrf" value="([^"]+)"', form.body)
    assert token is not None
    cookie = form.headers["Set-Cookie"].split(";", 1)[0]
    h.pages.request_link(replace(request, method="POST", headers={
        **request.headers, "cookie": cookie,
    }, form={"csrf": [token.group(1)], "email": ["bo@example.se"], "website": [""]}),
        LinkPurpose.UPDATE)
    [email] = h.store.emails
    assert link_from(email).startswith(f"{PUBLIC}/link/")
    assert "evil.example" not in email.html


def test_the_pages_need_a_public_https_address_for_links() -> None:
    keys = {"link_keys": {"k1": KEY}, "link_key_id": "k1"}
    for bad in ("", "http://alumni.example.org/api/mypage", "https://x.org/mypage?a=1", "ftp://x"):
        with pytest.raises(ValidationError) as refused:
            SelfServiceSettings(**keys, public_base_url=bad)
        assert refused.value.errors()[0]["ctx"]["error"].setting == "public_base_url"
    for good in ("https://alumni.example.org/api/mypage", "http://127.0.0.1:7071/api/mypage"):
        assert SelfServiceSettings(**keys, public_base_url=good).public_base_url == good


def test_a_link_works_once() -> None:
    h = make()
    h.submit("request_link", f"{BASE}/update", {"email": "bo@example.se"})
    link = link_from(h.store.emails[0])
    update = {**REGISTRATION, "email": "bo@example.se", "national_id": ""}

    first = h.submit("link", link, update, token=token_of(link))
    second = h.call("link", "GET", link, token=token_of(link))

    assert first.status == 303 and first.headers["Location"].endswith("/done/updated?lang=en")
    assert second.status == 410 and "already been used" in second.body
    [draft] = h.store.registrations
    assert draft.person_id == BO.id and draft.kind is Kind.REGISTRATION
    # The link e-mailed to the person is the registration's proof of control.
    [link_id] = h.store.links
    assert draft.proof_link_id == link_id


def test_a_link_used_meanwhile_by_another_submission_is_refused() -> None:
    h = make()
    h.submit("request_link", f"{BASE}/unregister", {"email": "bo@example.se"}, purpose="unregister")
    link = link_from(h.store.emails[0])
    form = h.call("link", "GET", link, token=token_of(link))
    real_open = h.store.open_link
    h.store.open_link = lambda asked: replace(real_open(asked), etag='W/"0"')  # type: ignore[method-assign, return-value, arg-type]

    answer = h.call(
        "link", "POST", link, {"csrf": csrf_of(form.body), "terminate": "yes"},
        token=token_of(link),
    )

    assert answer.status == 410 and h.store.registrations == []


def test_an_expired_link_offers_a_new_one_for_the_same_purpose() -> None:
    h = make(link_lifetime_minutes=30)
    h.submit("request_link", f"{BASE}/unregister", {"email": "bo@example.se"}, purpose="unregister")
    link = link_from(h.store.emails[0])
    h.clock.now += timedelta(minutes=30)

    answer = h.call("link", "GET", link, token=token_of(link))

    assert answer.status == 410
    assert 'href="/api/mypage/unregister?lang=en"' in answer.body


def test_an_invalid_update_keeps_the_link_unused() -> None:
    h = make()
    h.submit("request_link", f"{BASE}/update", {"email": "bo@example.se"})
    link = link_from(h.store.emails[0])

    bad = h.submit("link", link, {**REGISTRATION, "email": "bo@"}, token=token_of(link))
    good = h.submit("link", link, {**REGISTRATION, "national_id": ""}, token=token_of(link))

    assert (bad.status, good.status) == (400, 303)
    assert len(h.store.registrations) == 1


def test_headers_follow_the_settings_for_framing_and_tls() -> None:
    h = make(frame_ancestors=("https://www.uni.example",), logo_url="https://cdn.uni.example/l.png")
    request = PageRequest(method="GET", url="http://pages.test/api/mypage/register",
                          headers={"x-forwarded-proto": "https"})

    answer = h.pages.register(request)

    csp = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors https://www.uni.example" in csp
    assert "img-src 'self' https://cdn.uni.example" in csp
    assert "X-Frame-Options" not in answer.headers
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-mp_session=") and "Secure" in cookie
    nonce = re.search(r"style-src 'nonce-([^']+)'", csp)
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in answer.body


def test_logs_carry_no_email_address_or_identity_number(caplog: pytest.LogCaptureFixture) -> None:
    h = make()
    caplog.set_level(logging.DEBUG)

    h.submit("register", f"{BASE}/register", REGISTRATION)
    h.submit("register", f"{BASE}/register", {**REGISTRATION, "email": "bad"})
    h.submit("request_link", f"{BASE}/update", {"email": "bo@example.se"})
    h.submit("request_link", f"{BASE}/update", {"email": "nobody@example.se"})

    logged = caplog.text.lower()
    assert "registration reg-1 created" in logged
    for personal in ("anna@example.se", "bo@example.se", "nobody@example", "19900101", "svensson"):
        assert personal not in logged


def test_a_failed_link_email_is_answered_like_any_other_request() -> None:
    h = make()

    def fail(*_: Any) -> None:
        raise TransientError(503, "", "unavailable")

    h.store.issue_link = fail  # type: ignore[method-assign]

    answer = h.submit("request_link", f"{BASE}/update", {"email": "bo@example.se"})

    assert answer.status == 303 and answer.headers["Location"].endswith("/done/link-sent?lang=en")

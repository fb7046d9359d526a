"""The self-service pages over real HTTP: the local host running function_app.py, the
sandbox (Web API and OpenID Connect provider) behind it, and rows read back through the
Web API."""

from __future__ import annotations

import html
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr
from selfservice_harness import (
    BO_ID,
    LINK_KEY,
    LINK_KEY_ID,
    OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET,
    OIDC_USER,
    SelfServiceEnv,
    selfservice_env,
)

from plugins.core.settings import SelfServiceSettings
from plugins.selfservice.oidc import OidcClient, OidcError
from plugins.selfservice.signing import KeyRing, Link, LinkPurpose, link_token

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
RECEIVED = 100000000
REGISTRATION, UNREGISTRATION = 100000000, 100000001


@pytest.fixture(scope="class")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SelfServiceEnv]:
    with selfservice_env(tmp_path_factory.mktemp("selfservice")) as running:
        yield running


class Browser:
    """A cookie-keeping client from its own address (so rate limits stay per test)."""

    def __init__(self, env: SelfServiceEnv, language: str = "en") -> None:
        self.env = env
        self.http = requests.Session()
        self.http.headers.update(
            {"Accept-Language": language, "X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250}"}
        )

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self._absolute(url), timeout=30, **kwargs)

    def post(self, url: str, data: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.http.post(self._absolute(url), data=data, timeout=30, **kwargs)

    def submit(
        self, url: str, fields: dict[str, Any], **kwargs: Any
    ) -> tuple[requests.Response, requests.Response]:
        """GET the form, POST it with its CSRF token; both answers."""
        form = self.get(url)
        answer = self.post(url, {"csrf": csrf_of(form.text), "website": "", **fields}, **kwargs)
        return form, answer

    def _absolute(self, url: str) -> str:
        return url if url.startswith("http") else f"{self.env.host.base_url}{url}"


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


def heading(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page)
    assert match is not None
    return html.unescape(match.group(1))


def unique_email(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}@example.org"


def registration_fields(email: str, **changes: Any) -> dict[str, Any]:
    fields = {
        "first_name": "Anna",
        "last_name": "Svensson",
        "email": email,
        "national_id": "19900101-1239",
        "phone": "+46 70 123 45 67",
        "topics": ["events", "career"],
        "channels": ["email", "sms"],
        "consent": "yes",
        "lang": "en",
    }
    fields.update(changes)
    return fields


def request_link(browser: Browser, env: SelfServiceEnv, purpose: str, email: str) -> str:
    _, answer = browser.submit(f"{env.base}/{purpose}", {"email": email, "lang": "en"})
    assert answer.status_code == 200
    return answer.text


def link_for_bo(browser: Browser, env: SelfServiceEnv, purpose: str) -> str:
    seen = env.email_ids(BO_ID)
    request_link(browser, env, purpose, "bo.ek@EXAMPLE.se")
    return env.new_link(BO_ID, seen)



def provider_session(env: SelfServiceEnv) -> requests.Session:
    """A client of the sandbox's TLS (the machine's REQUESTS_CA_BUNDLE would override it)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = env.sandbox.ca_file
    return session


def sign_in_at_provider(env: SelfServiceEnv, authorize: str) -> str:
    """Sign the test person in at the provider's page; where it sends the browser back."""
    provider = provider_session(env)
    page = provider.get(authorize, timeout=30)
    hidden = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    back = provider.post(
        f"{env.sandbox.oidc.issuer}/authorize", data={**hidden, "sub": OIDC_USER.sub},
        allow_redirects=False, timeout=30,
    )
    assert back.status_code == 302, back.text
    return str(back.headers["Location"])


class TestWithOneEnvironment:
    """Tests sharing one sandbox and host (their data never overlaps)."""

    # ---------------------------------------------------------------- registration


    def test_register_creates_a_received_registration(self, env: SelfServiceEnv) -> None:
        browser = Browser(env)
        email = unique_email("anna")

        form, answer = browser.submit(f"{env.base}/register", registration_fields(email))

        assert form.status_code == 200
        assert "mp_session=" in form.headers["Set-Cookie"]
        assert answer.status_code == 200
        assert urlsplit(answer.url).path == "/api/mypage/done/registered"
        assert heading(answer.text) == "Thank you, we have received your registration"
        assert "What happens next?" in answer.text
        [row] = env.registrations(email)
        assert row["mp_status"] == RECEIVED
        assert row["mp_kind"] == REGISTRATION
        assert (row["mp_firstname"], row["mp_lastname"]) == ("Anna", "Svensson")
        assert row["mp_nationalid"] == "199001011239"
        assert row["mp_phone"] == "+46701234567"
        assert row["mp_topics"] == "100000001,100000003"
        assert row["mp_channels"] == "100000000,100000001"
        assert row["mp_consentversion"] == "1"
        assert row["mp_consenton"]

    def test_a_form_sent_again_with_its_used_token_is_refused(self, env: SelfServiceEnv) -> None:
        browser = Browser(env)
        email = unique_email("twice")
        form = browser.get(f"{env.base}/register")
        fields = {"csrf": csrf_of(form.text), "website": "", **registration_fields(email)}

        first = browser.post(f"{env.base}/register", fields, allow_redirects=False)
        second = browser.post(f"{env.base}/register", fields, allow_redirects=False)

        assert first.status_code == 303
        assert second.status_code == 400
        assert "The form had expired" in second.text
        assert len(env.registrations(email)) == 1

    def test_bad_input_writes_nothing_and_shows_each_error_by_its_field(
        self, env: SelfServiceEnv
    ) -> None:
        browser = Browser(env, language="sv")
        fields = registration_fields(
            "not-an-address", first_name="<b>Anna</b>", national_id="19900101-1238",
            topics=["events", "lottery"], lang="sv",
        )
        fields.pop("consent")

        _, answer = browser.submit(f"{env.base}/register", fields)

        assert answer.status_code == 400
        page = answer.text
        assert '<html lang="sv">' in page
        assert 'id="error-email"' in page and "Skriv en e-postadress" in page
        assert 'id="error-national_id"' in page and "Kontrollsiffran" in page
        assert 'id="error-first_name"' in page
        assert 'id="error-topics"' in page and 'id="error-consent"' in page
        assert 'aria-describedby="error-email"' in page and 'aria-invalid="true"' in page
        # What was typed comes back, escaped.
        assert 'value="not-an-address"' in page and 'value="19900101-1238"' in page
        assert 'value="&lt;b&gt;Anna&lt;/b&gt;"' in page and "<b>Anna</b>" not in page
        assert 'value="events" checked' in page
        assert env.registrations("not-an-address") == []


    def test_a_form_without_its_session_token_is_refilled_and_nothing_written(
        self, env: SelfServiceEnv
    ) -> None:
        email = unique_email("csrf")
        form = Browser(env).get(f"{env.base}/register")
        stranger = Browser(env)  # another browser: no session cookie matching the token

        answer = stranger.post(
            f"{env.base}/register", {"csrf": csrf_of(form.text), **registration_fields(email)}
        )

        assert answer.status_code == 400
        assert "The form had expired" in answer.text
        assert f'value="{email}"' in answer.text
        assert env.registrations(email) == []


    def test_a_filled_honeypot_looks_like_success_but_writes_nothing(
        self, env: SelfServiceEnv
    ) -> None:
        email = unique_email("robot")
        browser = Browser(env)
        form = browser.get(f"{env.base}/register")

        answer = browser.post(
            f"{env.base}/register",
            {"csrf": csrf_of(form.text), **registration_fields(email), "website": "http://spam"},
        )

        assert urlsplit(answer.url).path == "/api/mypage/done/registered"
        assert env.registrations(email) == []


    # ------------------------------------------------------------------ links


    def test_update_through_an_emailed_link(self, env: SelfServiceEnv) -> None:
        browser = Browser(env)
        seen = env.email_ids(BO_ID)

        answer = request_link(browser, env, "update", "bo.ek@EXAMPLE.se")

        assert heading(answer) == "Check your email"
        [email] = [e for e in env.emails_to(BO_ID) if e["activityid"] not in seen]
        assert email["subject"] == "Nordic University Alumni: your link to update your details"
        assert email["directioncode"] is True
        parties = env.rows(
            "activityparties",
            f"_activityid_value eq {email['activityid']} and participationtypemask eq 2",
        )
        assert [(p["_partyid_value"], p["addressused"]) for p in parties] == [
            (BO_ID, "Bo.Ek@example.se")
        ]
        [sent] = [m for m in env.sandbox.outbox.mails if m.email_id == email["activityid"]]
        assert sent.to == ("Bo.Ek@example.se",)
        link = env.new_link(BO_ID, seen)
        assert "bo.ek" not in link.lower() and BO_ID not in link

        opened = browser.get(link)
        assert opened.status_code == 200
        assert heading(opened.text) == "Your details"
        for prefilled in ('value="Bo"', 'value="Ek"', 'value="Bo.Ek@example.se"',
                          'value="+46701234567"', 'value="newsletter" checked',
                          'value="sms" checked'):
            assert prefilled in opened.text
        assert "199001011239" not in opened.text

        fields = registration_fields(
            "bo.ek.new@example.se", first_name="Bo", last_name="Eklund", national_id="",
            topics=["mentoring"], channels=["post"],
        )
        saved = browser.post(link, {"csrf": csrf_of(opened.text), "website": "", **fields})

        assert heading(saved.text) == "Thank you, we have received your changes"
        [row] = env.registrations("bo.ek.new@example.se")
        assert (row["mp_kind"], row["mp_status"]) == (REGISTRATION, RECEIVED)
        assert row["_mp_personid_value"] == BO_ID
        assert row["mp_lastname"] == "Eklund" and row["mp_nationalid"] is None
        assert (row["mp_topics"], row["mp_channels"]) == ("100000002", "100000002")
        [used] = env.rows("mp_selfservicelinks", "mp_usedon ne null and mp_purpose eq 100000000")
        assert used["_mp_personid_value"] == BO_ID

        again = browser.get(link)
        assert again.status_code == 410
        assert heading(again.text) == "The link has already been used"
        assert 'href="/api/mypage/update?lang=en"' in again.text


    def test_unregister_with_terminate_membership(self, env: SelfServiceEnv) -> None:
        browser = Browser(env)
        link = link_for_bo(browser, env, "unregister")
        opened = browser.get(link)
        assert heading(opened.text) == "Unregistering"
        assert "Terminate my membership" in opened.text

        done = browser.post(
            link, {"csrf": csrf_of(opened.text), "website": "", "terminate": "yes", "lang": "en"}
        )

        assert urlsplit(done.url).path == "/api/mypage/done/membership-ended"
        rows = env.rows(
            "mp_registrations", f"mp_kind eq {UNREGISTRATION} and _mp_personid_value eq {BO_ID}"
        )
        assert [(r["mp_status"], r["mp_terminatemembership"], r["mp_email"]) for r in rows] == [
            (RECEIVED, True, "Bo.Ek@example.se")
        ]


    def test_the_answer_never_tells_whether_an_address_is_known(self, env: SelfServiceEnv) -> None:
        browser = Browser(env)
        emails_before = len(env.rows("emails"))

        answers = [
            request_link(browser, env, "update", address)
            for address in ("nobody@example.org", "shared@example.se", "bo.ek@example.se")
        ]

        def visible(page: str) -> str:
            return re.sub(r'name="csrf" value="[^"]+"|nonce[-=]"?[\w-]+', "", page)

        assert visible(answers[0]) == visible(answers[1]) == visible(answers[2])
        # Unknown and ambiguous addresses get no e-mail; the one person does.
        assert len(env.rows("emails")) == emails_before + 1


    def test_expired_tampered_and_unknown_links_get_a_friendly_page(
        self, env: SelfServiceEnv
    ) -> None:
        browser = Browser(env)
        keys = KeyRing({LINK_KEY_ID: LINK_KEY.encode()}, LINK_KEY_ID)
        expired = Link(str(uuid.uuid4()), LinkPurpose.UNREGISTER,
                       datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1))
        unknown = Link(str(uuid.uuid4()), LinkPurpose.UPDATE,
                       datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10))
        good = link_token(keys, unknown)

        cases = {
            link_token(keys, expired): (410, "The link has expired", "/api/mypage/unregister"),
            good[:-2] + ("AA" if not good.endswith("AA") else "BB"):
                (400, "The link does not work", "/api/mypage/update"),
            good: (400, "The link does not work", "/api/mypage/update"),
        }
        for token, (status, title, again) in cases.items():
            answer = browser.get(f"{env.base}/link/{token}?lang=en")
            assert (answer.status_code, heading(answer.text)) == (status, title)
            assert f'href="{again}?lang=en"' in answer.text


    def test_one_link_used_twice_at_once_writes_once(self, env: SelfServiceEnv) -> None:
        browser = Browser(env)
        link = link_for_bo(browser, env, "unregister")
        opened = browser.get(link)
        fields = {"csrf": csrf_of(opened.text), "website": "", "lang": "en"}
        before = len(env.rows("mp_registrations", f"mp_kind eq {UNREGISTRATION}"))
        statuses: list[int] = []
        start = threading.Barrier(2)

        def submit() -> None:
            start.wait()
            statuses.append(browser.post(link, fields, allow_redirects=False).status_code)

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(statuses) == [303, 410]
        assert len(env.rows("mp_registrations", f"mp_kind eq {UNREGISTRATION}")) == before + 1


    # --------------------------------------------------------------- protection


    def test_pages_send_security_headers_and_no_personal_data_in_urls(
        self, env: SelfServiceEnv
    ) -> None:
        browser = Browser(env)
        email = unique_email("headers")

        form, answer = browser.submit(f"{env.base}/register", registration_fields(email))

        headers = form.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Lax" in headers["Set-Cookie"]
        assert "<script" not in form.text
        redirect = answer.history[0]
        assert redirect.status_code == 303
        assert email not in redirect.headers["Location"]


    def test_language_follows_accept_language_and_the_switch(self, env: SelfServiceEnv) -> None:
        norwegian = Browser(env, language="nb-NO,nb;q=0.9,en;q=0.5")

        page = norwegian.get(f"{env.base}/register").text
        switched = norwegian.get(f"{env.base}/register?lang=sv").text

        assert '<html lang="nb">' in page and heading(page) == "Registrer deg som alumn"
        assert '<html lang="sv">' in switched and heading(switched) == "Registrera dig som alumn"
        assert 'href="?lang=en" lang="en" hreflang="en"' in page


    # ---------------------------------------------------------------- sign-in


    def test_sign_in_with_the_provider_prefills_name_and_email(self, env: SelfServiceEnv) -> None:
        browser = Browser(env)
        register = browser.get(f"{env.base}/register")
        assert 'href="/api/mypage/signin?lang=en"' in register.text
        assert "Fill in with LinkedIn" in register.text

        to_provider = browser.get(f"{env.base}/signin?lang=en", allow_redirects=False)
        assert to_provider.status_code == 303
        authorize = to_provider.headers["Location"]
        assert authorize.startswith(f"{env.sandbox.oidc.issuer}/authorize?")
        assert "code_challenge_method=S256" in authorize
        back = sign_in_at_provider(env, authorize)
        prefilled = browser.get(back)

        assert prefilled.status_code == 200
        assert 'value="Åsa"' in prefilled.text and 'value="Öberg"' in prefilled.text
        assert 'value="asa.oberg@example.no"' in prefilled.text

        replayed = Browser(env).get(back)  # another browser, the same callback
        assert "Signing in did not work" in replayed.text
        assert 'value="Åsa"' not in replayed.text


    def test_the_sign_in_client_refuses_what_the_provider_did_not_vouch_for(
        self, env: SelfServiceEnv
    ) -> None:
        settings = SelfServiceSettings.OpenIdConnect(
            issuer=env.sandbox.oidc.issuer, client_id=OIDC_CLIENT_ID,
            client_secret=OIDC_CLIENT_SECRET,
        )
        client = OidcClient(settings, provider_session(env))
        redirect = f"{env.base}/signin/callback"
        verifier = "v" * 43

        def code() -> str:
            back = sign_in_at_provider(
                env, client.authorization_url(redirect, "state", "nonce-1", verifier, "en")
            )
            return parse_qs(urlsplit(back).query)["code"][0]

        with pytest.raises(OidcError, match="400"):
            client.identity(code(), redirect, "w" * 43, "nonce-1")
        with pytest.raises(OidcError, match="nonce"):
            client.identity(code(), redirect, verifier, "nonce-2")
        good = code()
        assert client.identity(good, redirect, verifier, "nonce-1").email == OIDC_USER.email
        with pytest.raises(OidcError, match="400"):
            client.identity(good, redirect, verifier, "nonce-1")
        wrong_secret = settings.model_copy(update={"client_secret": SecretStr("guess")})
        with pytest.raises(OidcError, match="401"):
            OidcClient(wrong_secret, provider_session(env)).identity(
                code(), redirect, verifier, "nonce-1"
            )

    def test_recipients_are_deep_inserted_with_a_new_email_only(
        self, env: SelfServiceEnv
    ) -> None:
        party = {"partyid_contact@odata.bind": f"/contacts({BO_ID})", "participationtypemask": 2}
        created = env.dv.post(
            "emails", json={"subject": "Hello", "email_activity_parties": [party]},
            headers={"Prefer": "return=representation"},
        )
        assert created.status_code == 201, created.text
        email_id = created.json()["activityid"]
        parties = env.rows("activityparties", f"_activityid_value eq {email_id}")
        assert [p["_partyid_value"] for p in parties] == [BO_ID]

        updated = env.dv.patch(
            f"emails({email_id})", json={"email_activity_parties": [party]},
            headers={"If-Match": "*"},
        )

        assert updated.status_code == 400
        assert len(env.rows("activityparties", f"_activityid_value eq {email_id}")) == 1

# Tests with settings of their own run after the shared environment is stopped: hosts in one
# process share os.environ, where the settings live.


def test_rate_limits_per_address_and_per_email(tmp_path: Path) -> None:
    with selfservice_env(
        tmp_path,
        SELFSERVICE__RATE_LIMIT_PER_ADDRESS="3",
        SELFSERVICE__RATE_LIMIT_PER_EMAIL="2",
    ) as env:
        browser = Browser(env)
        for _ in range(3):
            request_link(browser, env, "update", "bo.ek@example.se")
        # The third request from the address went through, but the address had used up its
        # e-mail limit: the same answer, no third e-mail.
        assert len(env.emails_to(BO_ID)) == 2

        _, refused = browser.submit(f"{env.base}/update", {"email": "bo.ek@example.se"})

        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert heading(refused.text) == "Too many attempts"
        assert len(env.emails_to(BO_ID)) == 2


def test_a_spoofed_forwarded_header_does_not_escape_the_rate_limit(tmp_path: Path) -> None:
    # App Service alone: only the entry its front end (here: the local host) appends counts.
    with selfservice_env(
        tmp_path, SELFSERVICE__TRUSTED_PROXY_HOPS="1", SELFSERVICE__RATE_LIMIT_PER_ADDRESS="30",
    ) as env:
        statuses = []
        for attempt in range(35):
            browser = Browser(env)
            browser.http.headers["X-Forwarded-For"] = f"198.51.100.{attempt}, 192.0.2.{attempt}"
            _, answer = browser.submit(
                f"{env.base}/update", {"email": f"nobody{attempt}@example.org"},
                allow_redirects=False,
            )
            statuses.append(answer.status_code)

    assert statuses.count(303) == 30
    assert statuses[30:] == [429] * 5


def test_pages_refuse_to_start_without_their_public_address(tmp_path: Path) -> None:
    with selfservice_env(tmp_path, SELFSERVICE__PUBLIC_BASE_URL="") as env:
        answer = Browser(env).get(f"{env.base}/register")

    assert answer.status_code == 503
    assert heading(answer.text) == "The service is not available right now"


def test_a_forged_host_never_reaches_an_emailed_link(tmp_path: Path) -> None:
    with selfservice_env(tmp_path) as env:
        browser = Browser(env)
        browser.http.headers.update({"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        seen = env.email_ids(BO_ID)
        request_link(browser, env, "update", "bo.ek@example.se")
        link = env.new_link(BO_ID, seen)

    assert link.startswith(f"{env.base}/link/")
    assert "evil.example" not in link


def test_pages_say_try_again_later_when_not_configured(tmp_path: Path) -> None:
    with selfservice_env(tmp_path, SELFSERVICE__LINK_KEYS="{}") as env:
        answer = Browser(env).get(f"{env.base}/register")

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert heading(answer.text) == "The service is not available right now"

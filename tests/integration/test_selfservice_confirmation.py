"""Proof of control on the public registration form, end to end: the pages and the
registration pipeline in the local host against the sandbox, over HTTP.

The takeover attempts of an anonymous registrant (an existing alumna's e-mail address only,
or her identity number with another address) change nothing of hers: the registration is
decided as before, the offered details wait on the registration as proposed changes, and
the confirmation link goes to the address she has on file, never to the one typed in.
Following it applies the changes. A new person's address is confirmed the same way (double
opt-in).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pipeline_env import PipelineEnv, personnummer, pipeline_env

LINK_KEY_ID = "2024a"
LINK_KEY = "self-service-test-key-0123456789-abcdef"
REGISTERED = 100000001
UNCONFIRMED, CONFIRMED = 100000000, 100000001
VICTIM_ID = personnummer("19750505", "231")
# Everything of a person a registration may offer to change.
DETAILS = (
    "firstname", "lastname", "emailaddress1", "emailaddress2", "emailaddress3", "telephone1",
    "mp_topics", "mp_channels", "mp_consentversion", "mp_consenton", "mp_consentsource",
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    settings = {
        "SELFSERVICE__LINK_KEYS": json.dumps({LINK_KEY_ID: LINK_KEY}),
        "SELFSERVICE__LINK_KEY_ID": LINK_KEY_ID,
        "SELFSERVICE__LINK_REQUEST_MIN_SECONDS": "0",
        "SELFSERVICE__TRUSTED_PROXY_HOPS": "2",
        "SELFSERVICE__CONSENT_VERSION": "2",
    }
    with pipeline_env(tmp_path_factory.mktemp("confirm"), {}, settings=settings) as started:
        started.route("webhook")
        yield started


class Visitor:
    """A browser of the pages: keeps its cookie, comes from its own address."""

    def __init__(self, env: PipelineEnv) -> None:
        self.base = f"{env.host.base_url}/api/mypage"
        self.http = requests.Session()
        self.http.headers.update({
            "Accept-Language": "en", "X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250}",
        })

    def register(self, **fields: Any) -> requests.Response:
        form = self.http.get(f"{self.base}/register", timeout=30)
        data = {
            "csrf": csrf_of(form.text), "website": "", "first_name": "Mallory",
            "last_name": "Evil", "phone": "+46 70 666 66 66", "topics": ["giving"],
            "channels": ["email"], "consent": "yes", "lang": "en", **fields,
        }
        return self.http.post(f"{self.base}/register", data=data, timeout=30,
                              allow_redirects=False)

    def open(self, url: str) -> requests.Response:
        return self.http.get(url, timeout=30)

    def confirm(self, url: str) -> requests.Response:
        page = self.open(url)
        return self.http.post(url, data={"csrf": csrf_of(page.text), "website": "", "lang": "en"},
                              timeout=30, allow_redirects=False)


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


def heading(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page)
    assert match is not None
    return html.unescape(match.group(1))


def emails_to_address(env: PipelineEnv, address: str) -> list[dict[str, Any]]:
    """The e-mails with a To party at ``address`` (resolved to a contact or not)."""
    parties = env.dv.get(f"activityparties?$filter=addressused eq '{address}'").json()["value"]
    found = []
    for party in parties:
        email = env.dv.get(f"emails({party['_activityid_value']})")
        assert email.status_code == 200
        found.append(email.json())
    return found


def link_in(email: dict[str, Any]) -> str:
    match = re.search(r'<a href="([^"]+)"', email["description"])
    assert match is not None, "no link in the e-mail"
    return html.unescape(match.group(1))


def registration_by(env: PipelineEnv, email: str) -> dict[str, Any]:
    rows = env.dv.get(f"mp_registrations?$filter=mp_email eq '{email}'").json()["value"]
    [row] = rows
    return dict(row)


def victim(env: PipelineEnv, email: str, national_id: str | None = None) -> str:
    return env.create_contact(
        firstname="Vera", lastname="Victim", emailaddress1=email, telephone1="+46 8 123 456",
        mp_nationalid=national_id, mp_personcategories="100000000,100000001",
        mp_topics="100000000", mp_channels="100000000", mp_consentversion="1",
    )


def details(env: PipelineEnv, contact_id: str) -> dict[str, Any]:
    row = env.contact(contact_id)
    return {column: row.get(column) for column in DETAILS}


def test_registering_with_an_existing_address_changes_nothing_until_she_confirms(
    env: PipelineEnv,
) -> None:
    address = f"vera.{uuid.uuid4().hex[:6]}@example.org"
    contact_id = victim(env, address)
    before = details(env, contact_id)
    answer = Visitor(env).register(email=address.upper())
    assert answer.status_code == 303
    env.settle()
    registration = registration_by(env, address.upper())
    assert registration["mp_status"] == REGISTERED
    assert registration["_mp_personid_value"] == contact_id
    proposal = json.loads(registration["mp_proposedchanges"])
    assert proposal["first_name"] == "Mallory"
    assert "proposed changes" in registration["mp_explanation"]
    assert details(env, contact_id) == before

    # The confirmation went to the address she has on file, as she wrote it.
    [email] = emails_to_address(env, address)
    assert email["_regardingobjectid_value"] == contact_id
    url = link_in(email)
    page = Visitor(env).open(url)
    assert heading(page.text) == "Confirm your registration"
    assert "Mallory" in page.text
    owner = Visitor(env)
    confirmed = owner.confirm(url)
    assert confirmed.status_code == 303
    assert "/done/confirmed" in confirmed.headers["Location"]
    after = env.contact(contact_id)
    assert (after["firstname"], after["telephone1"]) == ("Mallory", "+46706666666")
    assert after["mp_emailconfirmation"] == CONFIRMED
    registration = registration_by(env, address.upper())
    assert registration["mp_proposedchangesappliedon"] is not None
    assert registration["_mp_proofid_value"] is not None
    again = owner.open(url)
    assert again.status_code == 410


def test_identity_number_with_another_address_mails_only_the_address_on_file(
    env: PipelineEnv,
) -> None:
    address = f"vera.{uuid.uuid4().hex[:6]}@example.org"
    contact_id = victim(env, address, VICTIM_ID)
    before = details(env, contact_id)
    mallory = f"mallory.{uuid.uuid4().hex[:6]}@example.net"
    answer = Visitor(env).register(email=mallory, national_id=VICTIM_ID)
    assert answer.status_code == 303
    env.settle()
    registration = registration_by(env, mallory)
    assert registration["mp_status"] == REGISTERED
    assert json.loads(registration["mp_proposedchanges"])["email"] == mallory
    assert details(env, contact_id) == before
    assert emails_to_address(env, mallory) == []
    [email] = emails_to_address(env, address)
    assert email["_regardingobjectid_value"] == contact_id

    # Nothing to ask a link for either: her address is still hers alone.
    requested = Visitor(env)
    form = requested.http.get(f"{requested.base}/update", timeout=30)
    requested.http.post(f"{requested.base}/update", timeout=30, data={
        "csrf": csrf_of(form.text), "website": "", "email": mallory, "lang": "en",
    })
    assert emails_to_address(env, mallory) == []

    # Should she confirm after all, the new address is hers but not yet proven.
    assert Visitor(env).confirm(link_in(email)).status_code == 303
    after = env.contact(contact_id)
    assert (after["emailaddress1"], after["emailaddress2"]) == (mallory, address)
    assert after["mp_emailconfirmation"] == UNCONFIRMED
    assert after["mp_emailkey"] == mallory


def test_a_new_person_confirms_the_address_before_anything_else_is_sent(
    env: PipelineEnv,
) -> None:
    address = f"new.{uuid.uuid4().hex[:6]}@example.org"
    visitor = Visitor(env)
    answer = visitor.register(email=address, self_declared="yes", first_name="Nina")
    assert answer.status_code == 303
    done = visitor.open(f"{env.host.base_url}{answer.headers['Location']}")
    assert "confirm your registration" in done.text
    env.settle()
    registration = registration_by(env, address)
    contact_id = registration["_mp_personid_value"]
    contact = env.contact(contact_id)
    assert contact["mp_emailconfirmation"] == UNCONFIRMED
    assert contact["mp_emailkey"] == address
    [email] = emails_to_address(env, address)
    assert email["_regardingobjectid_value"] is None
    assert visitor.confirm(link_in(email)).status_code == 303
    assert env.contact(contact_id)["mp_emailconfirmation"] == CONFIRMED


def test_every_registration_gets_the_same_answer(env: PipelineEnv) -> None:
    known = f"known.{uuid.uuid4().hex[:6]}@example.org"
    victim(env, known)
    answers = [
        Visitor(env).register(email=email)
        for email in (known, f"unknown.{uuid.uuid4().hex[:6]}@example.org")
    ]
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["Location"] for a in answers}) == 1
    env.settle()


def test_an_update_through_her_own_link_changes_her_address_without_a_second_person(
    env: PipelineEnv,
) -> None:
    address = f"vera.{uuid.uuid4().hex[:6]}@example.org"
    contact_id = victim(env, address)
    owner = Visitor(env)
    form = owner.http.get(f"{owner.base}/update", timeout=30)
    owner.http.post(f"{owner.base}/update", timeout=30, data={
        "csrf": csrf_of(form.text), "website": "", "email": address, "lang": "en",
    })
    [email] = emails_to_address(env, address)
    url = link_in(email)
    page = owner.open(url)
    new_address = f"vera.new.{uuid.uuid4().hex[:6]}@example.org"
    answer = owner.http.post(url, timeout=30, allow_redirects=False, data={
        "csrf": csrf_of(page.text), "website": "", "lang": "en", "first_name": "Vera",
        "last_name": "Victim", "email": new_address, "national_id": "", "phone": "",
        "topics": ["events"], "channels": ["email"], "consent": "yes",
    })
    assert answer.status_code == 303
    env.settle()
    registration = registration_by(env, new_address)
    assert registration["mp_status"] == REGISTERED
    assert registration["_mp_proofid_value"] is not None
    assert registration.get("mp_proposedchanges") is None
    person = env.contact(contact_id)
    assert (person["emailaddress1"], person["emailaddress2"]) == (new_address, address)
    assert person["mp_topics"] == "100000001"
    people = env.query(f"contacts?$filter=emailaddress1 eq '{new_address}'")
    assert [p["contactid"] for p in people] == [contact_id]


def test_a_row_naming_someone_elses_used_link_proves_nothing(env: PipelineEnv) -> None:
    address = f"vera.{uuid.uuid4().hex[:6]}@example.org"
    contact_id = victim(env, address)
    before = details(env, contact_id)
    mallory_address = f"mallory.{uuid.uuid4().hex[:6]}@example.net"
    mallory = env.create_contact(firstname="Mallory", emailaddress1=mallory_address)
    own = Visitor(env)
    form = own.http.get(f"{own.base}/unregister", timeout=30)
    own.http.post(f"{own.base}/unregister", timeout=30, data={
        "csrf": csrf_of(form.text), "website": "", "email": mallory_address, "lang": "en",
    })
    url = link_in(emails_to_address(env, mallory_address)[0])
    page = own.open(url)
    own.http.post(url, timeout=30, data={"csrf": csrf_of(page.text), "website": "",
                                         "lang": "en"})
    [link] = env.query(f"mp_selfservicelinks?$filter=_mp_personid_value eq {mallory}")
    assert link["mp_usedon"] is not None

    registration_id = env.create_registration(
        mp_firstname="Mallory", mp_lastname="Evil", mp_email=address,
        **{"mp_PersonId@odata.bind": f"/contacts({contact_id})",
           "mp_ProofId@odata.bind": f"/mp_selfservicelinks({link['mp_selfservicelinkid']})"},
    )
    env.settle()
    row = env.registration(registration_id)
    assert row["mp_status"] == REGISTERED
    assert json.loads(row["mp_proposedchanges"])["first_name"] == "Mallory"
    assert details(env, contact_id) == before

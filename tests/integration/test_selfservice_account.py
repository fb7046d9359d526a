"""The member's own page through the local host: membership, invoices (with the PDF),
payments and cases, reached with a signed link; another person's invoice is not served."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from account_harness import seed_account, update_link
from selfservice_harness import OIDC_USER, SelfServiceEnv, selfservice_env
from sync_harness import add_contact, client_for
from test_selfservice_pages import sign_in_at_provider


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SelfServiceEnv]:
    folder = tmp_path_factory.mktemp("account")
    with selfservice_env(folder) as running:
        running.reference = seed_account(running, folder)  # type: ignore[attr-defined]
        yield running


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=30)


@pytest.mark.parametrize(("lang", "words"), [
    ("sv", ("Mitt medlemskap", "Betald", "Pågående", "Avslutat")),
    ("nb", ("Mitt medlemskap", "Betalt", "Pågår", "Avsluttet")),
    ("en", ("My membership", "Paid", "Open", "Resolved")),
])
def test_page_shows_membership_invoices_and_cases(
    env: SelfServiceEnv, lang: str, words: tuple[str, ...]
) -> None:
    token = update_link(env)
    page = get(f"{env.base}/account/{token}?lang={lang}")
    assert page.status_code == 200
    for word in (*words, env.reference, "450,00 SEK", "Fråga om medlemsavgiften",  # type: ignore[attr-defined]
                 "Standard membership", "2026-01-10"):
        assert word in page.text, word


def test_invoice_pdf_only_for_its_person(env: SelfServiceEnv) -> None:
    token = update_link(env)
    page = get(f"{env.base}/account/{token}?lang=en").text
    start = page.index("/invoice/") + len("/invoice/")
    invoice_id = page[start:start + 36]
    pdf = get(f"{env.base}/account/{token}/invoice/{invoice_id}")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert get(f"{env.base}/account/{token}/invoice/{uuid.uuid4()}").status_code == 404
    stranger = update_link(env, person=_other_contact(env))
    assert get(f"{env.base}/account/{stranger}/invoice/{invoice_id}").status_code == 404


def test_forged_or_expired_tokens_show_nothing(env: SelfServiceEnv) -> None:
    token = update_link(env)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    answer = get(f"{env.base}/account/{forged}")
    assert answer.status_code == 400 and "450,00" not in answer.text


def test_update_page_links_to_the_account_page(env: SelfServiceEnv) -> None:
    token = update_link(env)
    form = get(f"{env.base}/link/{token}?lang=en").text
    assert f"/account/{token}?lang=en" in form


def _other_contact(env: SelfServiceEnv) -> str:
    [row] = env.rows("contacts", "lastname eq 'One'")
    return str(row["contactid"])


def test_sign_in_opens_the_page_of_the_one_person_with_that_address(env: SelfServiceEnv) -> None:
    browser = requests.Session()
    start = browser.get(f"{env.base}/account?lang=en", timeout=30)
    assert start.status_code == 200 and "Sign in with LinkedIn" in start.text
    assert "E-mail me a link" in start.text

    def sign_in() -> str:
        to_provider = browser.get(f"{env.base}/account-signin?lang=en", allow_redirects=False,
                                  timeout=30)
        assert to_provider.status_code == 303
        return sign_in_at_provider(env, to_provider.headers["Location"])

    unknown = browser.get(sign_in(), allow_redirects=False, timeout=30)
    assert unknown.status_code == 404 and "We could not sign you in" in unknown.text
    with client_for(env.sandbox) as client:
        add_contact(client, firstname="Åsa", lastname="Öberg", emailaddress1=OIDC_USER.email)
    back = sign_in()
    assert requests.get(back, timeout=30).status_code == 400  # another browser: refused
    answer = browser.get(back, allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and "/api/mypage/account/" in answer.headers["Location"]
    page = browser.get(f"{env.host.base_url}{answer.headers['Location']}", timeout=30)
    assert page.status_code == 200 and "You have no membership with us." in page.text
    assert "Fråga om medlemsavgiften" not in page.text  # Bo's case is not Åsa's

"""The member's own page in a real headless Chromium, in Swedish, Norwegian and English: the
same accessibility checks as every self-service page, screenshots, and the invoice PDF."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from account_harness import seed_account, update_link
from selfservice_harness import SelfServiceEnv, selfservice_env
from test_selfservice_browser import (
    CHROMEDRIVER,
    CHROMIUM,
    COLOURS,
    accessible,
    browser,  # noqa: F401 (the shared Chromium fixture)
    screenshots,
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed",
)
if CHROMIUM is not None and CHROMEDRIVER is not None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SelfServiceEnv]:
    folder = tmp_path_factory.mktemp("account-browser")
    with selfservice_env(folder, **COLOURS) as running:
        seed_account(running, folder)
        yield running


@pytest.mark.parametrize("lang", ["sv", "nb", "en"])
def test_account_page_is_accessible(
    env: SelfServiceEnv, browser: WebDriver, lang: str  # noqa: F811
) -> None:
    browser.get(f"{env.base}/account/{update_link(env)}?lang={lang}")
    accessible(browser, lang)
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert len(headings) == 4
    links = browser.find_elements(By.PARTIAL_LINK_TEXT, "PDF")
    assert len(links) == 1 and "/invoice/" in (links[0].get_attribute("href") or "")
    screenshots(browser, f"account-{lang}")


@pytest.mark.parametrize("lang", ["sv", "nb", "en"])
def test_the_way_in_is_accessible(
    env: SelfServiceEnv, browser: WebDriver, lang: str  # noqa: F811
) -> None:
    browser.get(f"{env.base}/account?lang={lang}")
    accessible(browser, lang)
    assert len(browser.find_elements(By.CSS_SELECTOR, "a.button")) == 2
    screenshots(browser, f"account-start-{lang}")


def test_the_update_page_leads_to_the_account_page(
    env: SelfServiceEnv, browser: WebDriver  # noqa: F811
) -> None:
    token = update_link(env)
    browser.get(f"{env.base}/link/{token}?lang=en")
    browser.find_element(By.PARTIAL_LINK_TEXT, "membership, invoices and cases").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "My membership"
    accessible(browser, "en")

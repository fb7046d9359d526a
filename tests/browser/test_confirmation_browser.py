"""The confirmation of a registration in a real headless Chromium, with the registration
pipeline deciding what the pages create: a registered alumna registers again with new
details, nothing of hers changes, and she confirms them from the e-mail sent to her own
address. Skipped without Chromium, like the other browser tests.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selfservice_harness import LINK_KEY, LINK_KEY_ID
from test_selfservice_browser import (
    CHROMEDRIVER,
    CHROMIUM,
    COLOURS,
    accessible,
    browser,
    fill,
    heading,
    screenshots,
    submit,
    tick,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pipeline_env import PipelineEnv, pipeline_env

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="Debian's chromium is not installed"
)
if CHROMIUM is not None and CHROMEDRIVER is not None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

# ``browser`` is a fixture, used by name.
__all__ = ["browser"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    """The pages with the registration pipeline deciding what they create."""
    settings = {
        "SELFSERVICE__LINK_KEYS": json.dumps({LINK_KEY_ID: LINK_KEY}),
        "SELFSERVICE__LINK_KEY_ID": LINK_KEY_ID,
        "SELFSERVICE__LINK_REQUEST_MIN_SECONDS": "0",
        "SELFSERVICE__CONSENT_VERSION": "2",
        **COLOURS,
    }
    with pipeline_env(tmp_path_factory.mktemp("browser-pipeline"), {}, settings) as started:
        started.route("webhook")
        yield started


def test_a_registered_alumna_confirms_her_changes_from_her_own_inbox(
    pipeline: PipelineEnv, browser: WebDriver
) -> None:
    base = f"{pipeline.host.base_url}/api/mypage"
    contact_id = pipeline.create_contact(
        firstname="Vera", lastname="Holm", emailaddress1="vera.holm@example.se",
        telephone1="+4681234567", mp_personcategories="100000000,100000001",
        mp_topics="100000000", mp_channels="100000000", mp_consentversion="1",
    )
    browser.get(f"{base}/register?lang=en")
    fill(browser, {"first_name": "Vera", "last_name": "Holm-Berg",
                   "email": "VERA.HOLM@example.se", "phone": "070-765 43 21"})
    tick(browser, "topics", "events")
    tick(browser, "channels", "email")
    tick(browser, "consent")
    submit(browser)
    assert heading(browser) == "Thank you, we have received your registration"
    assert "confirm your registration" in browser.find_element(By.TAG_NAME, "main").text
    pipeline.settle()
    assert pipeline.contact(contact_id)["lastname"] == "Holm"

    [email] = pipeline.query(f"emails?$filter=_regardingobjectid_value eq {contact_id}")
    link = re.search(r'<a href="([^"]+)"', email["description"])
    assert link is not None
    browser.get(link.group(1).replace("&amp;", "&"))
    assert heading(browser) == "Confirm your registration"
    changes = browser.find_element(By.CSS_SELECTOR, "dl.changes").text
    assert "Holm-Berg" in changes and "0707654321" in changes
    accessible(browser, "en")
    screenshots(browser, "12-confirm-changes")
    submit(browser)
    assert heading(browser) == "Thank you, your registration is confirmed"
    screenshots(browser, "13-confirmed")
    person = pipeline.contact(contact_id)
    assert (person["lastname"], person["telephone1"]) == ("Holm-Berg", "0707654321")

    browser.back()
    browser.refresh()
    assert heading(browser) == "The link has already been used"
    accessible(browser, "en")

"""The self-service pages in a real headless Chromium (Debian's, driven by Selenium) against
the local host and the sandbox: the whole journey, keyboard-only use, accessibility checks,
and screenshots of every page at phone and desktop widths in ``test-artifacts/``.

Chromium is installed by ``scripts/install-browser.sh``; without it these tests skip.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selfservice_harness import BO_ID, SelfServiceEnv, selfservice_env

from plugins.selfservice.contrast import AA_NORMAL_TEXT, contrast_ratio

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed "
    "(run scripts/install-browser.sh as root)",
)
if CHROMIUM is not None and CHROMEDRIVER is not None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.wait import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "selfservice"
PHONE, DESKTOP = 375, 1280
# A pale brand colour: the pages must still reach AA (links and borders fall back).
COLOURS = {
    "SELFSERVICE__PRIMARY_COLOUR": "#f2b705",
    "SELFSERVICE__BACKGROUND_COLOUR": "#fffdf5",
    "SELFSERVICE__TEXT_COLOUR": "#1a1a2e",
}
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)
_RGB = re.compile(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SelfServiceEnv]:
    with selfservice_env(tmp_path_factory.mktemp("selfservice-browser"), **COLOURS) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1280,900")
    options.add_experimental_option("prefs", {"intl.accept_languages": "sv-SE,sv,en"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def screenshots(driver: WebDriver, name: str) -> None:
    """The current page, whole, at phone and desktop widths."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (PHONE, DESKTOP):
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width == PHONE}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width, (
            f"{name} scrolls sideways at {width}px"
        )
        driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def accessible(driver: WebDriver, language: str) -> None:
    """Checks every page must pass: language, labels, headings, contrast, focus order."""
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    assert len(driver.find_elements(By.TAG_NAME, "h1")) == 1
    unlabelled = driver.execute_script(
        """
        return [...document.querySelectorAll('input, select, textarea')]
          .filter(e => e.type !== 'hidden' && !e.closest('[aria-hidden="true"]'))
          .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
          .map(e => e.name);
        """
    )
    assert unlabelled == []
    honeypot = driver.find_elements(By.NAME, "website")
    for field in honeypot:
        assert field.get_attribute("tabindex") == "-1"
    for image in driver.find_elements(By.TAG_NAME, "img"):
        assert image.get_attribute("alt") is not None
    for element, foreground, background in colour_pairs(driver):
        ratio = contrast_ratio(foreground, background)
        assert ratio >= AA_NORMAL_TEXT, f"{element}: {foreground} on {background} is {ratio:.2f}"


def colour_pairs(driver: WebDriver) -> list[tuple[str, str, str]]:
    """Text colour and effective background of every text-bearing element, as computed."""
    found: list[list[str]] = driver.execute_script(
        """
        const background = (e) => {
          for (; e; e = e.parentElement) {
            const c = getComputedStyle(e).backgroundColor;
            if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
          }
          return 'rgb(255, 255, 255)';
        };
        return [...document.querySelectorAll('h1, h2, p, a, label, legend, li, button, input')]
          .filter(e => !e.closest('[aria-hidden="true"]') && e.type !== 'hidden'
                       && e.type !== 'checkbox' && e.getClientRects().length)
          .map(e => [e.tagName + (e.id ? '#' + e.id : ''), getComputedStyle(e).color,
                     background(e)]);
        """
    )
    return [(name, hex_of(fg), hex_of(bg)) for name, fg, bg in found]


def hex_of(css: str) -> str:
    match = _RGB.match(css)
    assert match is not None, css
    return "#" + "".join(f"{int(match.group(i)):02x}" for i in (1, 2, 3))


def heading(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def fill(driver: WebDriver, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def tick(driver: WebDriver, name: str, value: str = "yes", on: bool = True) -> None:
    box = driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]')
    if box.is_selected() != on:
        driver.find_element(By.CSS_SELECTOR, f'label[for="{box.get_attribute("id")}"]').click()


def submit(driver: WebDriver) -> None:
    """Click the form's button and wait for the next page (a click does not wait for it)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    WebDriverWait(driver, 10).until(staleness_of(page))


def rows(env: SelfServiceEnv, entity_set: str, filter_: str) -> list[dict[str, Any]]:
    return env.rows(entity_set, filter_)


def test_register_update_and_unregister_in_a_browser(
    env: SelfServiceEnv, browser: WebDriver
) -> None:
    browser.get(f"{env.base}")
    assert heading(browser) == "Min alumnsida"
    accessible(browser, "sv")
    screenshots(browser, "01-home")

    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.LINK_TEXT, "Registrera dig").click()
    WebDriverWait(browser, 10).until(staleness_of(page))
    accessible(browser, "sv")
    screenshots(browser, "02-register")
    fill(browser, {"first_name": "Karin", "last_name": "Lind", "email": "karin.lind@",
                   "national_id": "19900101-1238"})
    tick(browser, "consent")
    submit(browser)
    assert heading(browser) == "Registrera dig som alumn"
    assert browser.find_element(By.ID, "error-email").is_displayed()
    assert browser.find_element(By.ID, "error-national_id").is_displayed()
    assert browser.find_element(By.NAME, "email").get_attribute("value") == "karin.lind@"
    accessible(browser, "sv")
    screenshots(browser, "03-register-errors")
    browser.find_element(By.CSS_SELECTOR, '.summary a[href="#field-email"]').click()
    assert browser.switch_to.active_element.get_attribute("name") == "email"

    fill(browser, {"email": "karin.lind@example.se", "national_id": "19900101-1239",
                   "phone": "070-123 45 67"})
    tick(browser, "topics", "mentoring")
    tick(browser, "channels", "email")
    tick(browser, "consent")
    submit(browser)
    assert heading(browser) == "Tack, vi har tagit emot din registrering"
    accessible(browser, "sv")
    screenshots(browser, "04-registered")
    [registration] = env.registrations("karin.lind@example.se")
    assert (registration["mp_status"], registration["mp_topics"]) == (100000000, "100000002")

    # Update: ask for a link, follow it from the e-mail activity, change the details.
    browser.get(f"{env.base}/update?lang=en")
    accessible(browser, "en")
    screenshots(browser, "05-request-update-link")
    seen = env.email_ids(BO_ID)
    fill(browser, {"email": "bo.ek@example.se"})
    submit(browser)
    assert heading(browser) == "Check your email"
    screenshots(browser, "06-link-sent")

    browser.get(env.new_link(BO_ID, seen))
    assert heading(browser) == "Your details"
    assert browser.find_element(By.NAME, "first_name").get_attribute("value") == "Bo"
    assert browser.find_element(By.NAME, "email").get_attribute("value") == "Bo.Ek@example.se"
    accessible(browser, "en")
    screenshots(browser, "07-update-form")
    fill(browser, {"last_name": "Ekström", "email": "bo.ekstrom@example.se"})
    tick(browser, "topics", "giving")
    submit(browser)
    assert heading(browser) == "Thank you, we have received your changes"
    screenshots(browser, "08-updated")
    [update] = env.registrations("bo.ekstrom@example.se")
    assert (update["mp_lastname"], update["_mp_personid_value"]) == ("Ekström", BO_ID)

    browser.back()
    browser.refresh()
    assert heading(browser) == "The link has already been used"
    accessible(browser, "en")
    screenshots(browser, "09-link-used")

    # Unregister with "terminate membership", in Norwegian.
    browser.get(f"{env.base}/unregister?lang=nb")
    seen = env.email_ids(BO_ID)
    fill(browser, {"email": "Bo.Ek@example.se"})
    submit(browser)
    browser.get(env.new_link(BO_ID, seen).replace("lang=en", "lang=nb"))
    assert heading(browser) == "Avmelding"
    accessible(browser, "nb")
    screenshots(browser, "10-unregister-form")
    tick(browser, "terminate")
    submit(browser)
    assert heading(browser) == "Du er meldt av"
    screenshots(browser, "11-unregistered")
    unregistrations = rows(
        env, "mp_registrations", f"mp_kind eq 100000001 and _mp_personid_value eq {BO_ID}"
    )
    assert [(r["mp_status"], r["mp_terminatemembership"]) for r in unregistrations] == [
        (100000000, True)
    ]


def test_the_registration_form_works_with_the_keyboard_alone(
    env: SelfServiceEnv, browser: WebDriver
) -> None:
    browser.get(f"{env.base}/register?lang=en")
    browser.execute_script("document.activeElement.blur()")
    body = browser.find_element(By.TAG_NAME, "body")
    typed = {"first_name": "Lars", "last_name": "Berg", "email": "lars.berg@example.no",
             "national_id": "150765 00565"}
    order: list[str] = []
    body.send_keys(Keys.TAB)
    for _ in range(40):
        focused = browser.switch_to.active_element
        name = focused.get_attribute("name") or focused.tag_name
        order.append(f"{name}={focused.get_attribute('value') or ''}")
        if name in typed:
            focused.send_keys(typed[name])
        if name == "consent" or (name == "topics" and focused.get_attribute("value") == "events"):
            focused.send_keys(Keys.SPACE)
        if focused.tag_name == "button":
            page = browser.find_element(By.TAG_NAME, "html")
            focused.send_keys(Keys.ENTER)
            WebDriverWait(browser, 10).until(staleness_of(page))
            break
        focused.send_keys(Keys.TAB)

    assert "website=" not in order, "the honeypot must not take focus"
    fields = [entry.split("=")[0] for entry in order if "=" in entry]
    assert fields.index("first_name") < fields.index("email") < fields.index("consent")
    assert heading(browser) == "Thank you, we have received your registration"
    [row] = env.registrations("lars.berg@example.no")
    assert (row["mp_nationalid"], row["mp_topics"]) == ("15076500565", "100000001")


def test_the_configured_colours_are_used_and_stay_readable(
    env: SelfServiceEnv, browser: WebDriver
) -> None:
    browser.get(f"{env.base}/register?lang=en")

    button = browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]')
    brand = hex_of(button.value_of_css_property("background-color"))
    text = hex_of(button.value_of_css_property("color"))
    body = browser.find_element(By.TAG_NAME, "body")
    page = hex_of(body.value_of_css_property("background-color"))

    assert (brand, page) == ("#f2b705", "#fffdf5")
    assert contrast_ratio(text, brand) >= AA_NORMAL_TEXT
    # Yellow on cream is unreadable, so links use the text colour instead.
    assert contrast_ratio("#f2b705", "#fffdf5") < AA_NORMAL_TEXT
    link = browser.find_element(By.CSS_SELECTOR, ".languages a")
    assert hex_of(link.value_of_css_property("color")) == "#1a1a2e"

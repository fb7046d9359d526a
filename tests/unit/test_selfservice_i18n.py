"""The pages' languages: complete translations and choosing the language."""

from __future__ import annotations

from string import Formatter

import pytest

from plugins.selfservice.i18n import LANGUAGES, TEXTS, as_language, negotiate, text


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    english = TEXTS["en"]
    for language in LANGUAGES:
        assert set(TEXTS[language]) == set(english), language
        for key, template in TEXTS[language].items():
            assert placeholders(template) == placeholders(english[key]), (language, key)


def test_texts_fill_in_their_placeholders() -> None:
    assert text("sv", "consent_label", version="3") == "Jag samtycker (version 3)"
    assert text("nb", "error_too_long", max=50) == "Høyst 50 tegn."
    assert text("en", "home_title") == "My alumni page"


@pytest.mark.parametrize(
    ("tag", "language"),
    [("sv", "sv"), ("sv-FI", "sv"), ("nb", "nb"), ("no", "nb"), ("nn-NO", "nb"),
     ("en-GB", "en"), ("EN_us", "en"), ("de", None), ("", None), (None, None)],
)
def test_language_tags_map_to_the_languages_served(tag: str | None, language: str | None) -> None:
    assert as_language(tag) == language


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        (None, "sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        (None, "de-DE,de;q=0.9,nb;q=0.5,en;q=0.4", "nb"),
        (None, "en;q=0.4,nn;q=0.6", "nb"),
        (None, "fr, de", "sv"),
        (None, None, "sv"),
        (None, "en;q=0, sv;q=0.1", "sv"),
        (None, "en;q=bogus, nb", "nb"),
        ("en", "sv", "en"),
        ("xx", "nb", "nb"),
        (None, "sv;q=0.5, en;q=0.5", "sv"),
    ],
)
def test_the_choice_wins_then_the_browser_then_the_default(
    chosen: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(chosen, header, LANGUAGES, "sv") == expected


def test_only_offered_languages_are_chosen() -> None:
    assert negotiate("en", "en", ("sv", "nb"), "nb") == "nb"

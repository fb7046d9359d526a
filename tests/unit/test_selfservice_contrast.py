"""Colour contrast (WCAG 2.1) and the page theme that keeps any brand colours readable."""

from __future__ import annotations

import random

import pytest

from plugins.selfservice.contrast import (
    AA_NON_TEXT,
    AA_NORMAL_TEXT,
    Theme,
    contrast_ratio,
    readable_on,
)


@pytest.mark.parametrize(
    ("first", "second", "ratio"),
    [("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#777777", "#ffffff", 4.48),
     ("#767676", "#ffffff", 4.54), ("#ff0000", "#ffffff", 4.0)],
)
def test_contrast_ratios_match_the_wcag_formula(first: str, second: str, ratio: float) -> None:
    assert contrast_ratio(first, second) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(second, first) == pytest.approx(ratio, abs=0.01)


def test_black_or_white_text_always_reaches_aa_on_any_colour() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        colour = f"#{rng.randrange(0x1000000):06x}"
        assert contrast_ratio(readable_on(colour), colour) >= AA_NORMAL_TEXT, colour


def test_a_pale_brand_colour_is_not_used_for_links_or_borders() -> None:
    theme = Theme.of("#ffd700", "#ffffff", "#222222")

    assert theme.link == "#222222" and theme.border == "#222222"
    assert theme.on_brand == "#000000"


def test_text_too_pale_for_the_background_is_replaced() -> None:
    theme = Theme.of("#1f4e8c", "#ffffff", "#bbbbbb")

    assert theme.text == "#000000"


def test_a_dark_page_gets_readable_errors() -> None:
    theme = Theme.of("#7fb3ff", "#101820", "#f0f0f0")

    assert contrast_ratio(theme.error, theme.background) >= AA_NORMAL_TEXT
    assert theme.link == "#7fb3ff"


def test_every_theme_meets_aa() -> None:
    rng = random.Random(11)
    for _ in range(500):
        primary, background, text = (f"#{rng.randrange(0x1000000):06x}" for _ in range(3))
        theme = Theme.of(primary, background, text)
        assert contrast_ratio(theme.text, theme.background) >= AA_NORMAL_TEXT
        assert contrast_ratio(theme.link, theme.background) >= AA_NORMAL_TEXT
        assert contrast_ratio(theme.on_brand, theme.brand) >= AA_NORMAL_TEXT
        assert contrast_ratio(theme.error, theme.background) >= AA_NORMAL_TEXT
        assert contrast_ratio(theme.border, theme.background) >= AA_NON_TEXT

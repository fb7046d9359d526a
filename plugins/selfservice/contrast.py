"""Colour contrast as WCAG 2.1 defines it, and a page theme that always meets AA (pure).

The organisation picks its colours; the pages must stay readable whatever they are. So the
text on buttons is black or white, whichever contrasts more with the button colour (one of
them always reaches 4.5:1), links use the brand colour only where it reaches 4.5:1
against the background (otherwise the text colour; they are underlined anyway), and so on
for borders (3:1) and error messages.
"""

from __future__ import annotations

from dataclasses import dataclass

AA_NORMAL_TEXT = 4.5
AA_NON_TEXT = 3.0
BLACK = "#000000"
WHITE = "#ffffff"
ERROR_RED = "#b3261e"


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_on(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``."""
    return max((BLACK, WHITE), key=lambda c: contrast_ratio(c, background))


@dataclass(frozen=True)
class Theme:
    """The colours a page uses, derived from the organisation's three."""

    background: str
    text: str
    brand: str
    on_brand: str
    link: str
    border: str
    error: str

    @classmethod
    def of(cls, primary: str, background: str, text: str) -> Theme:
        """The theme for the configured colours (text falls back to black/white if too pale)."""
        if contrast_ratio(text, background) < AA_NORMAL_TEXT:
            text = readable_on(background)
        link = primary if contrast_ratio(primary, background) >= AA_NORMAL_TEXT else text
        # Form field borders are non-text content: 3:1 against the background (WCAG 1.4.11).
        border = primary if contrast_ratio(primary, background) >= AA_NON_TEXT else text
        # Errors are also told in words, never by colour alone; red only where it is legible.
        error = ERROR_RED if contrast_ratio(ERROR_RED, background) >= AA_NORMAL_TEXT else text
        return cls(
            background=background.lower(),
            text=text.lower(),
            brand=primary.lower(),
            on_brand=readable_on(primary),
            link=link.lower(),
            border=border.lower(),
            error=error.lower(),
        )

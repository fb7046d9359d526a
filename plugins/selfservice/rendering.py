"""Filling the page and e-mail templates (Jinja2, every value HTML-escaped).

Templates live in ``templates/``; autoescaping is on for all of them and undefined names are
errors, so a value can reach the page only escaped and a missing one fails the tests rather
than showing blank. Texts come from :mod:`.i18n` through ``t(key, **values)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from .contrast import Theme
from .i18n import TEXTS, Language, text

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    """The template environment, built on first use: an instance that renders no page
    (a queue-only one) never imports Jinja2."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("plugins.selfservice", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class LanguageOption:
    """One entry of the language switch."""

    code: Language
    name: str
    current: bool


@dataclass(frozen=True)
class Look:
    """The organisation's name, logo and colours, and the languages offered."""

    org: str
    logo_url: str | None
    theme: Theme
    languages: tuple[Language, ...]


def render_page(
    template: str, look: Look, lang: Language, *, nonce: str, base: str, title: str,
    **context: Any,
) -> str:
    """One page: ``template`` with the common frame (language, organisation, switch)."""
    switch = [
        LanguageOption(code, TEXTS[code]["language_name"], code == lang)
        for code in look.languages
    ]
    return _environment().get_template(template).render(
        lang=lang,
        t=partial(text, lang),
        org=look.org,
        logo_url=look.logo_url,
        theme=look.theme,
        languages=switch,
        nonce=nonce,
        base=base,
        title=title,
        **context,
    )


def render_email(lang: Language, **context: Any) -> str:
    """The HTML body of the e-mail carrying a link."""
    return _environment().get_template("email_link.html").render(lang=lang, **context)

"""What every page shares: language, session cookie, security headers, the page frame.

A :class:`Frame` needs only the settings, so even the "try again later" page (Dataverse or
the configuration failing) is rendered in the person's language with the organisation's
look and every security header.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from plugins.core.settings import SelfServiceSettings

from .contrast import Theme
from .csrf import is_session_id, new_session_id
from .headers import origin_of, security_headers
from .i18n import Language, negotiate, text
from .rendering import Look, render_page
from .web import PageRequest, PageResponse, session_cookie

BASE_SEGMENT = "mypage"


@dataclass(frozen=True)
class Visit:
    """One request, with the language, session and style nonce its answer uses."""

    request: PageRequest
    lang: Language
    session_id: str
    new_session: bool
    nonce: str
    base: str


class Frame:
    """Renders pages and redirects for one organisation's settings."""

    def __init__(self, settings: SelfServiceSettings) -> None:
        self.settings = settings
        self.look = Look(
            org=settings.organisation_name,
            logo_url=settings.logo_url,
            theme=Theme.of(
                settings.primary_colour, settings.background_colour, settings.text_colour
            ),
            languages=settings.languages,
        )

    def visit(self, request: PageRequest) -> Visit:
        """The language (form, query, ``Accept-Language``), session and base path of a request."""
        chosen = (request.form.get("lang") or [None])[0] or request.query.get("lang")
        lang = negotiate(
            chosen, request.headers.get("accept-language"), self.settings.languages,
            self.settings.default_language,
        )
        existing = request.session_id()
        new_session = not is_session_id(existing)
        path = request.path
        index = path.lower().find(f"/{BASE_SEGMENT}")
        base = path[: index + len(BASE_SEGMENT) + 1] if index >= 0 else f"/{BASE_SEGMENT}"
        return Visit(
            request=request,
            lang=lang,
            session_id=new_session_id() if new_session else existing or "",
            new_session=new_session,
            nonce=secrets.token_urlsafe(16),
            base=base,
        )

    def page(
        self, visit: Visit, template: str, status: int, title: str, **context: Any
    ) -> PageResponse:
        """An HTML page from ``template``."""
        body = render_page(
            template, self.look, visit.lang, nonce=visit.nonce, base=visit.base, title=title,
            **context,
        )
        headers = self.headers(visit)
        headers["Content-Type"] = "text/html; charset=utf-8"
        headers["Content-Language"] = visit.lang
        headers["Vary"] = "Accept-Language, Cookie"
        return PageResponse(status, body, headers)

    def message(
        self, visit: Visit, status: int, title: str, paragraphs: list[str]
    ) -> PageResponse:
        """A page of a title and paragraphs (text keys)."""
        lang = visit.lang
        return self.page(
            visit, "message.html", status, text(lang, title),
            paragraphs=[text(lang, p) for p in paragraphs], action_href=None, action_label="",
        )

    def too_many(self, visit: Visit, retry_after: int) -> PageResponse:
        """429: too many attempts, with ``Retry-After``."""
        response = self.message(visit, 429, "too_many_title", ["too_many_text"])
        response.headers["Retry-After"] = str(max(1, retry_after))
        return response

    def bad_request(self, request: PageRequest) -> PageResponse:
        """400: a request that cannot be read (a form too large, or not UTF-8)."""
        return self.message(self.visit(request), 400, "bad_request_title", ["bad_request_text"])

    def too_large(self, request: PageRequest) -> PageResponse:
        """413: a body larger than any of the forms (refused before it is read)."""
        return self.message(self.visit(request), 413, "too_large_title", ["too_large_text"])

    def unavailable(self, request: PageRequest) -> PageResponse:
        """503: Dataverse or the configuration failed; try again later."""
        response = self.message(
            self.visit(request), 503, "unavailable_title", ["unavailable_text"]
        )
        response.headers["Retry-After"] = "30"
        return response

    def redirect(self, visit: Visit, relative: str) -> PageResponse:
        """303 to another page under the base path, keeping the language."""
        return self.redirect_to(visit, f"{visit.base}/{relative}?lang={visit.lang}")

    def redirect_to(self, visit: Visit, location: str) -> PageResponse:
        """303 to ``location``."""
        headers = self.headers(visit)
        headers["Location"] = location
        return PageResponse(303, "", headers)

    def headers(self, visit: Visit) -> dict[str, str]:
        """Security headers, and the session cookie when the browser has none yet."""
        logo = origin_of(self.settings.logo_url)
        headers = security_headers(
            visit.nonce,
            self.settings.frame_ancestors,
            https=visit.request.https,
            image_origins=[logo] if logo else [],
        )
        if visit.new_session:
            headers["Set-Cookie"] = session_cookie(visit.session_id, https=visit.request.https)
        return headers

    def public_base(self) -> str:
        """The pages' URL for e-mails and the sign-in callback: the configured one only (a
        request's ``Host`` is the client's to choose, so it never reaches a link)."""
        return self.settings.public_base_url.rstrip("/")

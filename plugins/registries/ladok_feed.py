"""Ladok's Atom event feed: pages, their archive links, and the degree events in them.

``GET <feed_path>/recent`` is the newest page; every page links the one before it with
``rel="prev-archive"`` and, once a newer one exists, the one after with ``rel="next-archive"``
(RFC 5005 archived feeds); the recent page names its own number with ``rel="via"``, and every
page's ``<id>`` is ``urn:id:<number>`` (as in SUNET's goladok3 mocks). Entries are newest first;
an entry's event type is its ``<category term="http://schemas.ladok.se/<service>/<Event>">``
and the event itself, in Ladok's XML, is the entry's ``<content>``.

A page is parsed as a stream (``iterparse``): each entry is read and then cleared, and only
the ``UtfardatBevis*`` events (:mod:`.degree_events`) are turned into objects, so other
events cost one pass of the parser and memory stays flat however long the feed is. A page
that does not parse (a cut-off answer, Ladok's HTML login page) is read again, up to the
retry policy's attempts, and then fails the run: a broken page is never skipped.

Also the two look-ups the degree feed needs: the degree titles (``examen/bevisbenamning``,
``Bevisbenamning[]`` with ``Uid``, ``Kod`` and ``Benamning.sv/en``, as Stockholm University's
client reads it) and a student's personnummer by UID (``studentinformation/student/{uid}``).
"""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from plugins.core.settings import RegistrySettings

from .degree_events import LADOK_EVENTS, DegreeEvent, DegreeTitle
from .errors import MalformedResponse, reading
from .http import RegistryHttp, build_session, json_body
from .ladok_xml import BASE, EVENTS, EXAMEN, child_text, tag
from .models import RegistryName
from .values import date_or_none, decimal_or_none, name_in, text_or_none

log = logging.getLogger(__name__)

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
EXAMEN_JSON = "application/vnd.ladok-examen+json"
STUDENTINFO_JSON = "application/vnd.ladok-studentinformation+json"
_ENTRY, _LINK, _ID = (tag(ATOM, n) for n in ("entry", "link", "id"))
_CATEGORY, _CONTENT = tag(ATOM, "category"), tag(ATOM, "content")
_TERM_PREFIX = "http://schemas.ladok.se/"


@dataclass(frozen=True)
class FeedEntry:
    """One entry: its id and, when it is a degree event, the event."""

    id: str
    event: DegreeEvent | None = None


@dataclass(frozen=True)
class FeedPage:
    """One page of the feed, its entries oldest first."""

    url: str
    number: int | None
    previous: str | None
    next: str | None
    entries: tuple[FeedEntry, ...] = ()


class LadokFeedReader:
    """Reads the institution's Ladok event feed and the look-ups the degree feed needs."""

    name = RegistryName.LADOK

    def __init__(self, http: RegistryHttp, base_url: str, feed_path: str, attempts: int) -> None:
        self.http = http
        self._base_url = base_url.rstrip("/")
        self._feed = f"{self._base_url}/{feed_path.strip('/')}"
        self._origin = urlsplit(self._base_url)[:2]
        self._attempts = attempts

    @classmethod
    def from_settings(
        cls, settings: RegistrySettings.Ladok, policy: RegistrySettings.Http
    ) -> LadokFeedReader:
        session = build_session(
            client_cert=settings.client_cert,
            ca_bundle=settings.ca_bundle,
            headers=settings.extra_headers,
        )
        http = RegistryHttp(cls.name, session, policy)
        return cls(http, settings.base_url, settings.feed_path, policy.max_attempts)

    @property
    def recent_url(self) -> str:
        """Where the newest page is."""
        return f"{self._feed}/recent"

    def page(self, url: str, *, entries: bool = True) -> FeedPage:
        """The page at ``url``; with ``entries`` False only its links and number (cheaper:
        the parse stops at the first entry)."""
        self._check_origin(url)
        for attempt in range(1, self._attempts + 1):
            try:
                return _parse_page(self._body(url), entries)
            except (ET.ParseError, MalformedResponse, ValueError) as exc:
                if attempt == self._attempts:
                    raise MalformedResponse(
                        self.name, f"feed page does not parse after {attempt} attempts: {exc}"
                    ) from exc
                log.warning("ladok: feed page does not parse (attempt %d), reading it again",
                            attempt)
        raise AssertionError("unreachable")

    def titles(self) -> dict[str, DegreeTitle]:
        """The degree titles by UID (reference data)."""
        response = self.http.request(
            "GET", f"{self._base_url}/examen/bevisbenamning", headers={"Accept": EXAMEN_JSON}
        )
        if response is None:
            return {}
        body = json_body(self.name, response)
        with reading(self.name, "degree titles"):
            return {
                str(item["Uid"]): DegreeTitle(
                    code=text_or_none(item.get("Kod")),
                    sv=name_in(item.get("Benamning"), "sv"),
                    en=name_in(item.get("Benamning"), "en"),
                )
                for item in body.get("Bevisbenamning", [])
            }

    def personnummer(self, student_uid: str) -> str | None:
        """The personnummer of the student with ``student_uid`` (None: Ladok has none)."""
        response = self.http.request(
            "GET",
            f"{self._base_url}/studentinformation/student/{quote(student_uid, safe='')}",
            headers={"Accept": STUDENTINFO_JSON},
        )
        if response is None:
            return None
        body: Any = json_body(self.name, response)
        with reading(self.name, "student"):
            return text_or_none(body.get("Personnummer"))

    def close(self) -> None:
        """Release the HTTP connections."""
        self.http.close()

    def _body(self, url: str) -> bytes:
        response = self.http.request("GET", url, headers={"Accept": ATOM_TYPE})
        if response is None:
            raise MalformedResponse(self.name, "a feed page the feed links to is missing")
        content_type = response.headers.get("Content-Type", "")
        if "xml" not in content_type.lower():
            raise MalformedResponse(self.name, f"expected Atom, got {content_type or 'nothing'}")
        return response.content

    def _check_origin(self, url: str) -> None:
        # The feed's links are followed; never to another host than the configured API root.
        if urlsplit(url)[:2] != self._origin:
            raise MalformedResponse(self.name, "a feed link points away from the API root")


def _parse_page(body: bytes, with_entries: bool) -> FeedPage:
    links: dict[str, str] = {}
    number: int | None = None
    entries: list[FeedEntry] = []
    depth = 0
    root: ET.Element | None = None
    for event, element in ET.iterparse(io.BytesIO(body), events=("start", "end")):
        if event == "start":
            if root is None:
                root = element
                if element.tag != tag(ATOM, "feed"):
                    raise ValueError("not an Atom feed")
            if element.tag == _ENTRY:
                if not with_entries:
                    break
                depth += 1
            continue
        if depth == 0 and element.tag == _LINK:
            links[element.get("rel", "")] = element.get("href", "")
        elif depth == 0 and element.tag == _ID:
            number = _page_number(element.text)
        elif element.tag == _ENTRY:
            depth -= 1
            entries.append(_entry(element))
            # The entry is read: drop it (and anything before it) from the tree.
            if root is not None:
                root.clear()
    own = links.get("via") or links.get("self")
    if own is None or number is None:
        # A head cut off before its links and id: nothing says where this page is.
        raise ValueError("a feed page without its self link and id")
    return FeedPage(
        url=own,
        number=number,
        previous=links.get("prev-archive"),
        next=links.get("next-archive"),
        entries=tuple(reversed(entries)),
    )


def _page_number(text: str | None) -> int | None:
    value = (text or "").strip().rsplit(":", 1)[-1]
    return int(value) if value.isdigit() else None


def _entry(entry: ET.Element) -> FeedEntry:
    entry_id = text_or_none(entry.findtext(_ID))
    if entry_id is None:
        raise ValueError("an entry without an id")
    category = entry.find(_CATEGORY)
    term = category.get("term", "") if category is not None else ""
    kind = LADOK_EVENTS.get(term.rsplit("/", 1)[-1]) if term.startswith(_TERM_PREFIX) else None
    if kind is None:
        return FeedEntry(entry_id)
    content = entry.find(_CONTENT)
    body = content[0] if content is not None and len(content) else None
    if body is None:
        raise ValueError(f"degree event {entry_id} has no content")
    certificate = child_text(body, EXAMEN, "UtfardatBevisUID")
    if certificate is None:
        raise ValueError(f"degree event {entry_id} names no certificate")
    extent = body.find(tag(EXAMEN, "Omfattning"))
    return FeedEntry(
        entry_id,
        DegreeEvent(
            kind=kind,
            certificate=certificate,
            student=child_text(body, EXAMEN, "StudentUID")
            or _context_student(body),
            title_ref=child_text(body, EXAMEN, "BevisbenamningUID"),
            national_type=child_text(body, EXAMEN, "NationellBevistypUID"),
            issued_on=date_or_none(child_text(body, EXAMEN, "DatumForUtfardatBevis")),
            completed_on=date_or_none(child_text(body, EXAMEN, "DatumForSlutfordUtbildning")),
            credits=None if extent is None else decimal_or_none(
                child_text(extent, BASE, "Omfattningsvarde")
            ),
            institution=child_text(body, EXAMEN, "UtfardandeLarosate"),
        ),
    )


def _context_student(body: ET.Element) -> str | None:
    context = body.find(tag(EVENTS, "EventContext"))
    return None if context is None else child_text(context, EVENTS, "StudentUID")

"""Ladok's Atom event feed and the examen service's degree XML, for the Ladok emulator.

The feed is split into pages of ``page_size`` events, numbered from 1. ``<feed>/recent`` is
the newest page: ``self`` is ``recent``, ``via`` names its number, ``prev-archive`` the page
before it (as in the feed SUNET's goladok3 mocks). ``<feed>/{n}`` is page ``n`` with
``prev-archive`` and, while a newer page exists, ``next-archive``. Entries are newest first;
each has ``<category term="http://schemas.ladok.se/<service>/<Event>" label="Event-typ"/>``,
an ``<id>``, ``<updated>`` and ``<content type="application/vnd.ladok+xml">`` holding the
event in Ladok's own XML (``HandelseUID``, ``EventContext``, then the event's fields by the
names of Ladok's examen schema). Events are kept as small tuples and rendered per request, so
a feed of 100,000 events stays cheap.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

EXAMEN = "http://schemas.ladok.se/examen"
RESULTAT = "http://schemas.ladok.se/resultat"
ATOM = "http://www.w3.org/2005/Atom"
_NAMESPACES = (
    'xmlns:base="http://schemas.ladok.se" xmlns:dap="http://schemas.ladok.se/dap" '
    'xmlns:events="http://schemas.ladok.se/events"'
)
_IDS = uuid.UUID("0c6a3f1e-58a2-4b59-9d8f-6a1c2b7e9d40")
_START = datetime(2015, 1, 1, tzinfo=UTC)
DEGREE_EVENTS = frozenset({
    "UtfardatBevisEvent", "UtfardatBevisRattatEvent", "UtfardatBevisAndratEvent",
    "UtfardatBevisBorttagetEvent", "UtfardatBevisFlyttatEvent",
})


def uid(*parts: object) -> str:
    """A stable UID for the parts (certificates, degree titles, filler events)."""
    return str(uuid.uuid5(_IDS, "/".join(str(p) for p in parts)))


@dataclass(frozen=True)
class Certificate:
    """What an issued certificate says (the fields an ``UtfardatBevisEvent`` carries)."""

    uid: str
    student_uid: str
    title_uid: str
    national_type_uid: str
    issued_on: date | None
    completed_on: date | None
    credits: Decimal | None
    institution: int


class LadokFeed:
    """The events of one Ladok emulator, in publication order."""

    def __init__(self, larosate_id: int, page_size: int = 100) -> None:
        self.larosate_id = larosate_id
        self.page_size = page_size
        self._lock = threading.Lock()
        # (event name, certificate or filler number, certificate's new student for moves)
        self._events: list[tuple[str, Certificate | int, str | None]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def publish(self, event: str, certificate: Certificate, student_uid: str | None = None) -> None:
        """Add a degree event; ``student_uid`` is the new student of a moved certificate."""
        if event not in DEGREE_EVENTS:
            raise ValueError(f"the emulator publishes no {event}")
        with self._lock:
            self._events.append((event, certificate, student_uid))

    def publish_other(self, count: int) -> None:
        """Add ``count`` attested course results, the feed's most common event."""
        with self._lock:
            start = len(self._events)
            self._events.extend(("ResultatPaHelKursAttesteratEvent", start + n, None)
                                for n in range(count))

    def pages(self) -> int:
        """How many pages there are (at least one, maybe empty)."""
        with self._lock:
            return max(1, -(-len(self._events) // self.page_size))

    def render(self, feed_url: str, number: int | None) -> bytes | None:
        """Page ``number`` (None: the recent page) as Atom XML; None when there is none."""
        last = self.pages()
        page = last if number is None else number
        if not 1 <= page <= last:
            return None
        with self._lock:
            start = (page - 1) * self.page_size
            events = self._events[start : start + self.page_size]
        links = [("self", f"{feed_url}/{'recent' if number is None else page}")]
        if number is None:
            links.append(("via", f"{feed_url}/{page}"))
        if page > 1:
            links.append(("prev-archive", f"{feed_url}/{page - 1}"))
        if number is not None and page < last:
            links.append(("next-archive", f"{feed_url}/{page + 1}"))
        parts = [
            f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="{ATOM}">',
            '<title type="text">Events for Ladok3.Uppfoljning</title>',
            *(f'<link rel="{rel}" type="application/atom+xml" href="{escape(href)}"/>'
              for rel, href in links),
            f"<id>urn:id:{page}</id>",
            '<generator uri="http://ladok.se/uppfoljning">Uppfoljning</generator>',
            f"<updated>{_moment(start + len(events))}</updated>",
        ]
        for offset in range(len(events) - 1, -1, -1):
            parts.append(self._entry(start + offset, *events[offset]))
        parts.append("</feed>")
        return "".join(parts).encode("utf-8")

    def _entry(
        self, position: int, event: str, subject: Certificate | int, student_uid: str | None
    ) -> str:
        service = "resultat" if isinstance(subject, int) else "examen"
        handelse = uid("event", position)
        content = (
            _course_result(handelse, self.larosate_id, subject)
            if isinstance(subject, int)
            else _degree_event(handelse, self.larosate_id, event, subject, student_uid)
        )
        return (
            "<entry>"
            f'<category term="http://schemas.ladok.se/{service}/{event}" label="Event-typ"/>'
            f"<id>{uid('entry', position)}</id><updated>{_moment(position)}</updated>"
            f'<content type="application/vnd.ladok+xml">{content}</content>'
            "</entry>"
        )


def _moment(position: int) -> str:
    return (_START + timedelta(minutes=position)).isoformat().replace("+00:00", "Z")


def _context(prefix: str, namespace: str, handelse: str, larosate_id: int) -> str:
    return (
        f'xmlns:{prefix}="{namespace}" {_NAMESPACES}>'
        f"<events:HandelseUID>{handelse}</events:HandelseUID>"
        "<events:EventContext>"
        f"<events:AnvandareUID>{uid('user')}</events:AnvandareUID>"
        "<events:Anvandarnamn>feedevent@ladokintern.se</events:Anvandarnamn>"
        f"<events:LarosateID>{larosate_id}</events:LarosateID>"
        "</events:EventContext>"
    )


def _element(name: str, value: object | None) -> str:
    return "" if value is None else f"<ex:{name}>{escape(str(value))}</ex:{name}>"


def _degree_event(
    handelse: str, larosate_id: int, event: str, certificate: Certificate, student_uid: str | None
) -> str:
    head = f"<ex:{event} " + _context("ex", EXAMEN, handelse, larosate_id)
    if event == "UtfardatBevisFlyttatEvent":
        body = _element("StudentUID", student_uid) + _element("UtfardatBevisUID", certificate.uid)
        return f"{head}{body}</ex:{event}>"
    credits = (
        ""
        if certificate.credits is None
        else "<ex:Omfattning><base:Omfattningsenhet>HP</base:Omfattningsenhet>"
        f"<base:Omfattningsvarde>{certificate.credits}</base:Omfattningsvarde></ex:Omfattning>"
    )
    body = "".join((
        _element("BevisbenamningUID", certificate.title_uid),
        _element("DatumForSlutfordUtbildning", certificate.completed_on),
        _element("DatumForUtfardatBevis", certificate.issued_on),
        _element("DigitaltBevis", "true"),
        _element("GemensamExamen", "false"),
        _element("NationellBevistypUID", certificate.national_type_uid),
        credits,
        _element("StudentUID", certificate.student_uid),
        _element("UtfardandeLarosate", certificate.institution),
        _element("UtfardatBevisUID", certificate.uid),
    ))
    return f"{head}{body}</ex:{event}>"


def _course_result(handelse: str, larosate_id: int, number: int) -> str:
    head = "<rr:ResultatPaHelKursAttesteratEvent " + _context(
        "rr", RESULTAT, handelse, larosate_id
    )
    return (
        f"{head}<rr:KursUID>{uid('course', number % 50)}</rr:KursUID>"
        "<rr:Resultat><rr:Examinationsdatum>2021-10-21</rr:Examinationsdatum>"
        "<rr:GiltigSomSlutbetyg>true</rr:GiltigSomSlutbetyg>"
        "<rr:OmfattningsPoang>7.5</rr:OmfattningsPoang></rr:Resultat>"
        f"<rr:StudentUID>{uid('filler-student', number % 1000)}</rr:StudentUID>"
        "</rr:ResultatPaHelKursAttesteratEvent>"
    )


def degree_list(certificates: list[tuple[Certificate, dict[str, str | None]]]) -> bytes:
    """An ``UtfardatBevisLista`` of the certificates with their titles (sv/en) and code."""
    items = []
    for certificate, title in certificates:
        names = "".join(
            f"<base:Benamning><base:Sprakkod>{lang}</base:Sprakkod>"
            f"<base:Text>{escape(text)}</base:Text></base:Benamning>"
            for lang, text in (("sv", title.get("sv")), ("en", title.get("en")))
            if text
        )
        items.append(
            "<ex:UtfardatBevis>"
            f"<base:Uid>{certificate.uid}</base:Uid>"
            f"<ex:Benamningar>{names}</ex:Benamningar>"
            + _element("Bevisbenamningskod", title.get("code"))
            + "<ex:Borttaget>false</ex:Borttaget>"
            + _element("DatumForAvslutadeStudier", certificate.completed_on)
            + _element("Omfattning", certificate.credits)
            + _element("StudentUID", certificate.student_uid)
            + _element("UtfardandeLarosateID", certificate.institution)
            + _element("Utfardandedatum", certificate.issued_on)
            + "</ex:UtfardatBevis>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<ex:UtfardatBevisLista xmlns:ex="{EXAMEN}" {_NAMESPACES}>'
        + "".join(items)
        + "</ex:UtfardatBevisLista>"
    ).encode("utf-8")

"""Ladok's REST API for one institution: students, contact details, studies, results,
issued degrees and the Atom event feed.

Serves, relative to ``/registries/ladok/`` (the API root), the five GETs the adapter makes
(see :mod:`plugins.registries.ladok`), each only with its service's vendor media type in
``Accept`` (406 otherwise), plus ``studentinformation/student/{uid}`` (a student by UID),
``examen/bevisbenamning`` (the degree titles, JSON), ``examen/utfardatbevis/student/{uid}``
(a student's issued degrees as ``UtfardatBevisLista`` XML; this path is the sandbox's own,
Ladok's is not public) and the event feed at both ``uppfoljning/feed`` and ``handelser/feed``
(``recent`` and numbered pages, ``application/atom+xml``; see :mod:`.ladok_feed`). Degrees a
seed gives a person are issued: published as ``UtfardatBevisEvent`` in seed order. Tests
publish corrections, changes, removals and moves with :meth:`LadokEmulator.publish`. The
institution's integration certificate is checked through ``X-Sandbox-Client-Cert``. A
malformed answer is what Ladok sends for an expired session: an HTML login page with HTTP 200.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from plugins.identity import Country

from .base import Answer, RegistryEmulator, json_answer, text_answer
from .ladok_feed import ATOM, Certificate, LadokFeed, degree_list, uid
from .seed import SeedAddress, SeedDegree, SeedPerson, birth_date_of

if TYPE_CHECKING:
    from ..core import Host

CERT_SUBJECT = "member-plugins@SANDBOX"
LAROSATE_ID = 96
_UID_NAMESPACE = uuid.UUID("6f1d3c52-3a86-4d0e-9a43-0c8b3d0e4c11")
_MEDIA = "application/vnd.ladok-{service}+json"
_SEARCH = "studentinformation/student/filtrera"
_STUDENT_ROUTES = {
    re.compile(r"studentinformation/student/(?P<uid>[^/]+)/kontaktuppgifter"): "kontaktuppgifter",
    re.compile(r"studiedeltagande/studiestruktur/student/(?P<uid>[^/]+)"): "studiestruktur",
    re.compile(
        r"studiedeltagande/tillfallesdeltagande/kurstillfallesdeltagande/student/(?P<uid>[^/]+)"
    ): "kurstillfallesdeltagande",
    re.compile(r"resultat/resultat/student/(?P<uid>[^/]+)"): "resultat",
}
_PROTECTED_STATUS = "SKYDDAD"
_STUDENT = re.compile(r"studentinformation/student/(?P<uid>[^/]+)")
_DEGREES = re.compile(r"examen/utfardatbevis/student/(?P<uid>[^/]+)")
_FEED = re.compile(r"(?P<feed>uppfoljning/feed|handelser/feed)/(?P<page>recent|\d+)")
_ATOM = "application/atom+xml"
TRUNCATED = "truncated"
_EXAMEN_XML = "application/vnd.ladok-examen+xml"


class LadokEmulator(RegistryEmulator):
    """Ladok students of the sandbox institution."""

    name = "ladok"

    def __init__(self, sandbox: Host) -> None:
        super().__init__(sandbox)
        self.feed = LadokFeed(LAROSATE_ID)
        self._certificates: dict[str, Certificate] = {}
        self._removed: set[str] = set()
        self._titles: dict[str, dict[str, str | None]] = {}

    def new_ref(self, national_id: str, position: int) -> str:
        """A student UID derived from the number, so it is stable across runs."""
        return str(uuid.uuid5(_UID_NAMESPACE, national_id))

    def add_people(self, people: Mapping[str, SeedPerson]) -> None:
        """Add people; each seeded degree not issued yet is issued (an event in the feed)."""
        super().add_people(people)
        for national_id, person in people.items():
            for degree in person.degrees:
                certificate = self.certificate(national_id, degree)
                if certificate.uid not in self._certificates:
                    self.publish("UtfardatBevisEvent", certificate)

    def certificate(self, national_id: str, degree: SeedDegree) -> Certificate:
        """The certificate of a seeded degree (its title registered as reference data)."""
        title_uid = uid("title", degree.code)
        self._titles[title_uid] = {"code": degree.code, "sv": degree.title,
                                   "en": degree.title_en}
        return Certificate(
            uid=uid("certificate", national_id, degree.code, degree.awarded_on),
            student_uid=self.ref_of(national_id),
            title_uid=title_uid,
            national_type_uid=uid("national-type", degree.national_type or degree.code),
            issued_on=degree.awarded_on,
            completed_on=degree.completed_on,
            credits=degree.credits,
            institution=LAROSATE_ID,
        )

    def publish(self, event: str, certificate: Certificate, to_student: str | None = None) -> None:
        """Publish a degree event and apply it to what the degree path answers.

        ``to_student`` is the student UID a moved certificate (``UtfardatBevisFlyttatEvent``)
        now belongs to.
        """
        if event == "UtfardatBevisFlyttatEvent":
            if to_student is None:
                raise ValueError("a moved certificate needs the student it moves to")
            certificate = replace(certificate, student_uid=to_student)
        self.feed.publish(event, certificate, to_student)
        self._certificates[certificate.uid] = certificate
        if event == "UtfardatBevisBorttagetEvent":
            self._removed.add(certificate.uid)
        else:
            self._removed.discard(certificate.uid)

    def authenticate(self, request: Request) -> Response | None:
        return self.client_cert_refusal(request, CERT_SUBJECT)

    def route_of(self, path: str) -> str:
        for pattern in (*_STUDENT_ROUTES, _DEGREES):
            if pattern.fullmatch(path):
                return pattern.pattern.replace("(?P<uid>[^/]+)", "{uid}")
        feed = _FEED.fullmatch(path)
        if feed:
            return f"{feed['feed']}/{{id}}"
        if path != _SEARCH and _STUDENT.fullmatch(path):
            return "studentinformation/student/{uid}"
        return path

    def serve(self, request: Request, path: str) -> Response:
        if request.method != "GET":
            return text_answer(405, "Method Not Allowed")
        accept = request.headers.get("Accept", "")
        feed = _FEED.fullmatch(path)
        if feed:
            if _ATOM not in accept:
                return text_answer(406, f"Not Acceptable: send Accept: {_ATOM}")
            return self._feed_page(feed["feed"], feed["page"])
        degrees = _DEGREES.fullmatch(path)
        if degrees:
            if _EXAMEN_XML not in accept:
                return text_answer(406, f"Not Acceptable: send Accept: {_EXAMEN_XML}")
            return self._degrees(degrees["uid"])
        service = path.split("/", 1)[0]
        media_type = _MEDIA.format(service=service)
        if media_type not in accept:
            return text_answer(406, f"Not Acceptable: send Accept: {media_type}")
        if path == _SEARCH:
            return self._answer(media_type, self._search(request.args.get("personnummer", "")))
        if path == "examen/bevisbenamning":
            return self._answer(media_type, self._title_list())
        for pattern, resource in _STUDENT_ROUTES.items():
            match = pattern.fullmatch(path)
            if match:
                found = self.by_ref(match["uid"])
                if found is None:
                    return text_answer(404, "Not Found")
                return self._answer(media_type, _RESOURCES[resource](found[1]))
        student = _STUDENT.fullmatch(path)
        if student:
            found = self.by_ref(student["uid"])
            if found is None:
                return text_answer(404, "Not Found")
            return self._answer(media_type, self._student(*found))
        return text_answer(404, "Not Found")

    def _feed_page(self, feed: str, page: str) -> Response:
        url = f"{self.base_url}/{feed}"
        body = self.feed.render(url, None if page == "recent" else int(page))
        if body is None:
            return text_answer(404, "Not Found")
        return Response(body, status=200, content_type=f"{_ATOM};charset=UTF-8")

    def _degrees(self, student_uid: str) -> Response:
        if self.by_ref(student_uid) is None:
            return text_answer(404, "Not Found")
        issued = [
            (c, self._titles.get(c.title_uid, {}))
            for c in self._certificates.values()
            if c.student_uid == student_uid and c.uid not in self._removed
        ]
        return Response(degree_list(issued), status=200,
                        content_type=f"{_EXAMEN_XML};charset=UTF-8")

    def _title_list(self) -> dict[str, Any]:
        return {
            "Bevisbenamning": [
                {"Uid": title_uid, "Kod": title["code"],
                 "Benamning": {"sv": title["sv"], "en": title["en"]}}
                for title_uid, title in self._titles.items()
            ]
        }

    def fault_answers(self) -> dict[str, Answer]:
        """Also ``"truncated"``: a feed page cut off in the middle of an entry."""
        cut = f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="{ATOM}"><entry><id>'
        return {
            **super().fault_answers(),
            TRUNCATED: lambda: Response(cut, status=200, content_type=f"{_ATOM};charset=UTF-8"),
        }

    def malformed(self) -> Response:
        page = "<!DOCTYPE html><html><head><title>Ladok</title></head><body>Logga in</body></html>"
        return Response(page, status=200, content_type="text/html;charset=UTF-8")

    def _answer(self, media_type: str, body: Any) -> Response:
        return json_answer(body, content_type=f"{media_type};charset=UTF-8")

    def _search(self, national_id: str) -> dict[str, Any]:
        person = self.person(national_id)
        hits = [] if person is None else [self._student(national_id, person)]
        return {"Resultat": hits, "TotaltAntalPoster": len(hits)}

    def _student(self, national_id: str, person: SeedPerson) -> dict[str, Any]:
        student: dict[str, Any] = {
            "Uid": self.ref_of(national_id),
            "Personnummer": national_id,
            "Fornamn": person.first_name,
            "Efternamn": person.last_name,
            "Fodelsedata": birth_date_of(national_id, person, Country.SE),
            "KonID": {"female": 1, "male": 2}.get(person.sex or ""),
            "Avliden": person.deceased_on is not None,
            "LarosateID": LAROSATE_ID,
            "link": [{"method": "GET", "rel": "self", "uri": f"{self.base_url}/{_SEARCH}"}],
        }
        if person.protection != "unstated":
            student["Skyddsstatus"] = "" if person.protection == "none" else _PROTECTED_STATUS
        return student


def _contact(person: SeedPerson) -> dict[str, Any]:
    """Contact details; Ladok removes the address of anyone with a protected address."""
    kinds = {"registered": "FOLKBOKFORINGSADRESS", "postal": "POSTADRESS"}
    shown = person.addresses if person.protection == "none" else ()
    addresses = [
        {
            "PostadressTyp": kinds[a.kind],
            **{f"Adressrad{n}": line for n, line in enumerate(_with_care_of(a), start=1)},
            "Postnummer": a.postal_code,
            "Postort": a.city,
            "Land": a.country,
        }
        for a in shown
        if a.kind in kinds
    ]
    return {
        "Epost": [{"Adress": person.email}] if person.email else [],
        "Telefon": [{"Nummer": person.phone}] if person.phone else [],
        "Postadresser": addresses,
    }


def _with_care_of(address: SeedAddress) -> list[str]:
    return ([f"c/o {address.care_of}"] if address.care_of else []) + list(address.lines)[:3]


def _education(code: str, name: str | None, start: Any, end: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Utbildningsinformation": {
            "Utbildningskod": code,
            "Benamning": {"sv": name, "en": name},
            "Studieperiod": {"Startdatum": start, "Slutdatum": end},
            **extra,
        }
    }


def _structure(person: SeedPerson) -> dict[str, Any]:
    return {
        "Studiestrukturer": [_education(p.code, p.name, p.start, p.end) for p in person.programmes]
    }


def _courses(person: SeedPerson) -> dict[str, Any]:
    return {
        "Tillfallesdeltaganden": [
            {
                **_education(c.code, c.name, c.start, c.end, Omfattningsvarde=str(c.credits)),
                "Nuvarande": c.passed_on is None,
            }
            for c in person.courses
        ]
    }


def _results(person: SeedPerson) -> dict[str, Any]:
    return {
        "Resultat": [
            {
                "Utbildningskod": c.code,
                "Examinationsdatum": c.passed_on,
                "OmfattningsPoang": str(c.credits).replace(".", ","),
                "GiltigSomSlutbetyg": True,
            }
            for c in person.courses
            if c.passed_on is not None
        ]
    }


_RESOURCES = {
    "kontaktuppgifter": _contact,
    "studiestruktur": _structure,
    "kurstillfallesdeltagande": _courses,
    "resultat": _results,
}

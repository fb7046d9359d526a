"""Ladok's REST API for one institution: students, contact details, studies, results.

Serves, relative to ``/registries/ladok/`` (the API root), the five GETs the adapter makes
(see :mod:`plugins.registries.ladok`), each only with its service's vendor media type in
``Accept`` (406 otherwise). The institution's integration certificate is checked through
``X-Sandbox-Client-Cert``. A malformed answer is what Ladok sends for an expired session:
an HTML login page with HTTP 200.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from plugins.identity import Country

from .base import RegistryEmulator, json_answer, text_answer
from .seed import SeedAddress, SeedPerson, birth_date_of

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


class LadokEmulator(RegistryEmulator):
    """Ladok students of the sandbox institution."""

    name = "ladok"

    def new_ref(self, national_id: str, position: int) -> str:
        """A student UID derived from the number, so it is stable across runs."""
        return str(uuid.uuid5(_UID_NAMESPACE, national_id))

    def authenticate(self, request: Request) -> Response | None:
        return self.client_cert_refusal(request, CERT_SUBJECT)

    def route_of(self, path: str) -> str:
        for pattern in _STUDENT_ROUTES:
            if pattern.fullmatch(path):
                return pattern.pattern.replace("(?P<uid>[^/]+)", "{uid}")
        return path

    def serve(self, request: Request, path: str) -> Response:
        if request.method != "GET":
            return text_answer(405, "Method Not Allowed")
        service = path.split("/", 1)[0]
        media_type = _MEDIA.format(service=service)
        if media_type not in request.headers.get("Accept", ""):
            return text_answer(406, f"Not Acceptable: send Accept: {media_type}")
        if path == _SEARCH:
            return self._answer(media_type, self._search(request.args.get("personnummer", "")))
        for pattern, resource in _STUDENT_ROUTES.items():
            match = pattern.fullmatch(path)
            if match:
                found = self.by_ref(match["uid"])
                if found is None:
                    return text_answer(404, "Not Found")
                return self._answer(media_type, _RESOURCES[resource](found[1]))
        return text_answer(404, "Not Found")

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

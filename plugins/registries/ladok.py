"""Ladok (Sweden): the institution's own student records over Ladok's REST API.

Each service has its own vendor media type (``application/vnd.ladok-<service>+json``), sent
in ``Accept``. One look-up is five GETs, all relative to the API root:

1. ``studentinformation/student/filtrera?personnummer=`` -> ``Resultat[]`` (0 or 1 student);
2. ``studentinformation/student/{uid}/kontaktuppgifter`` -> ``Epost[]``, ``Telefon[]``,
   ``Postadresser[]`` (``PostadressTyp`` FOLKBOKFORINGSADRESS or POSTADRESS, ``Adressrad1-3``,
   ``Postnummer``, ``Postort``, ``Land``);
3. ``studiedeltagande/studiestruktur/student/{uid}`` -> ``Studiestrukturer[]`` (programmes);
4. ``studiedeltagande/tillfallesdeltagande/kurstillfallesdeltagande/student/{uid}`` ->
   ``Tillfallesdeltaganden[]`` (course registrations with ``Studieperiod``);
5. ``resultat/resultat/student/{uid}`` -> ``Resultat[]`` (attested results; credits are the
   sum of ``OmfattningsPoang`` of results ``GiltigSomSlutbetyg``).

Calls 1, 2 and 4 follow clients seen in the reference; the response shapes of 3 and 5 are
the reference's field names arranged like 4 (Ladok's own docs need a login), so check them
against your Ladok release. Issued degrees have no per-student path in any public source, so
they are read only when the institution configures one (``degree_path``, answered as
``UtfardatBevisLista`` in Ladok's examen XML schema, see :mod:`.ladok_xml`); otherwise they
come from Ladok's event feed (:mod:`.ladok_feed`) into the degree table.
``Skyddsstatus`` is read as protected when non-empty, unprotected when empty and unknown
when missing. Ladok may answer an expired session with an HTML login page
and HTTP 200; that is reported as a malformed response, never parsed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from plugins.core.settings import RegistrySettings
from plugins.identity import Country

from .errors import MalformedResponse, reading
from .http import RegistryHttp, build_session, json_body, xml_body
from .ladok_xml import issued_degrees
from .models import (
    Address,
    AddressKind,
    Degree,
    Enrolment,
    Programme,
    ProtectionLevel,
    RegistryName,
    RegistryPerson,
    StudyFacts,
)
from .protocol import OnePersonPerCall
from .values import date_or_none, decimal_or_none, name_in, text_or_none

STUDENTINFO = "application/vnd.ladok-studentinformation+json"
STUDIEDELTAGANDE = "application/vnd.ladok-studiedeltagande+json"
RESULTAT = "application/vnd.ladok-resultat+json"
EXAMEN_XML = "application/vnd.ladok-examen+xml"
_ADDRESS_KINDS = {"FOLKBOKFORINGSADRESS": AddressKind.REGISTERED, "POSTADRESS": AddressKind.POSTAL}


class LadokAdapter(OnePersonPerCall):
    """Students of the institution the client certificate belongs to."""

    name = RegistryName.LADOK
    country = Country.SE

    def __init__(self, http: RegistryHttp, base_url: str, degree_path: str = "") -> None:
        super().__init__(http)
        self._base_url = base_url.rstrip("/")
        self._degree_path = degree_path.strip("/")

    @classmethod
    def from_settings(
        cls, settings: RegistrySettings.Ladok, policy: RegistrySettings.Http
    ) -> LadokAdapter:
        session = build_session(
            client_cert=settings.client_cert,
            ca_bundle=settings.ca_bundle,
            headers=settings.extra_headers,
        )
        return cls(
            RegistryHttp(cls.name, session, policy), settings.base_url, settings.degree_path
        )

    def _lookup(self, national_id: str) -> RegistryPerson | None:
        found = self._get(
            "studentinformation/student/filtrera",
            STUDENTINFO,
            {"personnummer": national_id, "limit": "2", "page": "1"},
        )
        with reading(self.name, "student search"):
            hits = found["Resultat"] if found is not None else []
            if len(hits) > 1:
                raise MalformedResponse(self.name, "several students share one personnummer")
            if not hits:
                return None
            student = hits[0]
            uid = quote(str(student["Uid"]), safe="")
        contact = self._get(f"studentinformation/student/{uid}/kontaktuppgifter", STUDENTINFO)
        structure = self._get(f"studiedeltagande/studiestruktur/student/{uid}", STUDIEDELTAGANDE)
        courses = self._get(
            f"studiedeltagande/tillfallesdeltagande/kurstillfallesdeltagande/student/{uid}",
            STUDIEDELTAGANDE,
        )
        results = self._get(f"resultat/resultat/student/{uid}", RESULTAT)
        degrees = self._degrees(uid)
        with reading(self.name, "student record"):
            person = _person(
                national_id, student, contact or {}, structure or {}, courses or {}, results or {}
            )
        if not degrees or person.study is None:
            return person
        study = person.study.model_copy(update={"degrees": tuple(degrees)})
        return person.model_copy(update={"study": study})

    def _degrees(self, uid: str) -> list[Degree]:
        """The student's issued degrees through the configured path (none without one)."""
        if not self._degree_path:
            return []
        response = self.http.request(
            "GET",
            f"{self._base_url}/{self._degree_path.replace('{uid}', uid)}",
            headers={"Accept": EXAMEN_XML},
        )
        if response is None:
            return []
        listing = xml_body(self.name, response)
        with reading(self.name, "issued degrees"):
            return issued_degrees(listing)

    def _get(self, path: str, media_type: str, params: dict[str, str] | None = None) -> Any | None:
        response = self.http.request(
            "GET", f"{self._base_url}/{path}", params=params, headers={"Accept": media_type}
        )
        return None if response is None else json_body(self.name, response)


def _person(
    national_id: str,
    student: dict[str, Any],
    contact: dict[str, Any],
    structure: dict[str, Any],
    courses: dict[str, Any],
    results: dict[str, Any],
) -> RegistryPerson:
    protection = _protection(student)
    return RegistryPerson(
        source=RegistryName.LADOK,
        national_id=national_id,
        registry_ref=str(student["Uid"]),
        first_name=text_or_none(student.get("Fornamn")),
        last_name=text_or_none(student.get("Efternamn")),
        birth_date=date_or_none(student.get("Fodelsedata")),
        protection=protection,
        addresses=tuple(_address(a) for a in contact.get("Postadresser", [])),
        deceased=_flag(student.get("Avliden")),
        emails=tuple(e["Adress"] for e in contact.get("Epost", []) if text_or_none(e["Adress"])),
        phones=tuple(t["Nummer"] for t in contact.get("Telefon", []) if text_or_none(t["Nummer"])),
        study=StudyFacts(
            programmes=tuple(_programme(p) for p in structure.get("Studiestrukturer", [])),
            enrolments=tuple(_enrolment(c) for c in courses.get("Tillfallesdeltaganden", [])),
            credits=_credits(results.get("Resultat", [])),
        ),
    )


def _protection(student: dict[str, Any]) -> ProtectionLevel:
    if "Skyddsstatus" not in student or student["Skyddsstatus"] is None:
        return ProtectionLevel.UNKNOWN
    return (
        ProtectionLevel.PROTECTED
        if text_or_none(student["Skyddsstatus"])
        else (ProtectionLevel.NONE)
    )


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise TypeError(f"expected true/false, got {value!r}")
    return value


def _address(row: dict[str, Any]) -> Address:
    kind = _ADDRESS_KINDS[row["PostadressTyp"]]
    lines = (text_or_none(row.get(f"Adressrad{n}")) for n in (1, 2, 3))
    return Address(
        kind=kind,
        lines=tuple(line for line in lines if line),
        postal_code=text_or_none(row.get("Postnummer")),
        city=text_or_none(row.get("Postort")),
        country=text_or_none(row.get("Land")) or "SE",
    )


def _education(entry: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    info = entry["Utbildningsinformation"]
    return str(info["Utbildningskod"]), name_in(info.get("Benamning"), "sv", "en"), info


def _programme(entry: dict[str, Any]) -> Programme:
    code, name, info = _education(entry)
    period = info.get("Studieperiod") or {}
    return Programme(
        code=code,
        name=name,
        start=date_or_none(period.get("Startdatum")),
        end=date_or_none(period.get("Slutdatum")),
    )


def _enrolment(entry: dict[str, Any]) -> Enrolment:
    code, name, info = _education(entry)
    period = info.get("Studieperiod") or {}
    return Enrolment(
        code=code,
        name=name,
        credits=decimal_or_none(info.get("Omfattningsvarde")),
        start=date_or_none(period.get("Startdatum")),
        end=date_or_none(period.get("Slutdatum")),
    )


def _credits(results: list[dict[str, Any]]) -> Decimal | None:
    if not results:
        return None
    points = (
        decimal_or_none(r.get("OmfattningsPoang"))
        for r in results
        if r.get("GiltigSomSlutbetyg") is True
    )
    return sum((p for p in points if p is not None), Decimal(0))

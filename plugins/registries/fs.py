"""FS, Felles studentsystem (Norway): the institution's student records over FS's REST API.

HTTP Basic with the username and password FS central issued for the database, plus
``X-Gravitee-Api-Key`` when the institution publishes FS through its Gravitee gateway. One
look-up is three GETs:

1. ``personer?fodselsdato0=<DDMMYY>&personnummer0=<5 digits>&dbId=true&limit=0`` ->
   ``items[].id.personlopenummer`` (the split Norwegian number, as FS clients send it);
2. ``personer/{personlopenummer}`` -> the person, with FS's person-profile fields
   (``fodselsnummer``, ``fodselsdato``, ``navn{fornavn,etternavn}``, ``erDod``,
   ``privatEpost``, ``institusjonsEpost``, ``mobilTelefon``);
3. ``studenter?person.personlopenummer=`` -> ``items[]`` of the student at the institution:
   ``oppnaddKvalifikasjon[]`` (degrees, their credits in ``vekting.verdi``),
   ``programStudieretter[]`` (programmes and study-right periods), ``resultaterV2[]``
   (credits: ``gjeldendeVekting.verdi`` of passed results).

Calls 2 and 3 carry the field names of FS's person profile and student types as the
reference lists them; FS's own REST docs were not read. FS has no address-protection flag
(Folkeregisteret's grading is the authority), so FS persons are always protection
``unknown`` and their addresses are never read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from plugins.core.settings import RegistrySettings
from plugins.identity import Country

from .errors import MalformedResponse, reading
from .http import RegistryHttp, build_session, json_body
from .models import Degree, Programme, ProtectionLevel, RegistryName, RegistryPerson, StudyFacts
from .protocol import OnePersonPerCall
from .values import date_or_none, decimal_or_none, name_in, text_or_none

GRAVITEE_KEY_HEADER = "X-Gravitee-Api-Key"
_LANGUAGES = ("nb", "nn", "en")


class FsAdapter(OnePersonPerCall):
    """Students of the institution whose FS database the credentials open."""

    name = RegistryName.FS
    country = Country.NO

    def __init__(self, http: RegistryHttp, base_url: str) -> None:
        super().__init__(http)
        self._base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(
        cls, settings: RegistrySettings.Fs, policy: RegistrySettings.Http
    ) -> FsAdapter:
        headers = dict(settings.extra_headers)
        if settings.gravitee_api_key is not None:
            headers[GRAVITEE_KEY_HEADER] = settings.gravitee_api_key.get_secret_value()
        password = settings.password.get_secret_value() if settings.password else ""
        session = build_session(
            ca_bundle=settings.ca_bundle,
            headers=headers,
            auth=(settings.username, password),
        )
        return cls(RegistryHttp(cls.name, session, policy), settings.base_url)

    def _lookup(self, national_id: str) -> RegistryPerson | None:
        search = self._get(
            "personer",
            {
                "fodselsdato0": national_id[:6],
                "personnummer0": national_id[6:],
                "dbId": "true",
                "limit": "0",
            },
        )
        with reading(self.name, "person search"):
            items = search["items"] if search is not None else []
            if len(items) > 1:
                raise MalformedResponse(self.name, "several persons share one fødselsnummer")
            if not items:
                return None
            number = int(items[0]["id"]["personlopenummer"])
        person = self._get(f"personer/{number}")
        if person is None:
            return None
        students = self._get("studenter", {"person.personlopenummer": str(number)})
        with reading(self.name, "person"):
            return _person(national_id, number, person, (students or {}).get("items", []))

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any | None:
        response = self.http.request(
            "GET", f"{self._base_url}/{path}", params=params, headers={"Accept": "application/json"}
        )
        return None if response is None else json_body(self.name, response)


def _person(
    national_id: str, number: int, person: dict[str, Any], students: list[dict[str, Any]]
) -> RegistryPerson:
    name = person.get("navn") or {}
    emails = (text_or_none(person.get(k)) for k in ("privatEpost", "institusjonsEpost"))
    phone = text_or_none(person.get("mobilTelefon"))
    dead = person.get("erDod")
    if dead is not None and not isinstance(dead, bool):
        raise TypeError(f"erDod: expected true/false, got {dead!r}")
    return RegistryPerson(
        source=RegistryName.FS,
        national_id=national_id,
        registry_ref=str(number),
        first_name=text_or_none(name.get("fornavn")),
        last_name=text_or_none(name.get("etternavn")),
        birth_date=date_or_none(person.get("fodselsdato")),
        protection=ProtectionLevel.UNKNOWN,
        deceased=dead,
        emails=tuple(e for e in emails if e),
        phones=(phone,) if phone else (),
        study=_study(students),
    )


def _study(students: list[dict[str, Any]]) -> StudyFacts:
    degrees = [_degree(q) for s in students for q in s.get("oppnaddKvalifikasjon", [])]
    programmes = [_programme(p) for s in students for p in s.get("programStudieretter", [])]
    results = [r for s in students for r in s.get("resultaterV2", [])]
    return StudyFacts(
        degrees=tuple(degrees), programmes=tuple(programmes), credits=_credits(results)
    )


def _degree(achieved: dict[str, Any]) -> Degree:
    qualification = achieved["kvalifikasjon"]
    programme = achieved.get("studieprogram") or {}
    return Degree(
        title=name_in(qualification.get("navnAlleSprak"), *_LANGUAGES) or qualification["kode"],
        code=text_or_none(qualification.get("kode")),
        awarded_on=date_or_none(achieved.get("datoOppnadd")),
        programme=text_or_none(programme.get("kode")),
        level=text_or_none(qualification.get("studieniva")),
        credits=decimal_or_none((achieved.get("vekting") or {}).get("verdi")),
    )


def _programme(right: dict[str, Any]) -> Programme:
    programme = right["studieprogram"]
    period = right.get("studierettperiode") or {}
    return Programme(
        code=str(programme["kode"]),
        name=name_in(programme.get("navnAlleSprak"), *_LANGUAGES),
        start=date_or_none(period.get("fraDato")),
        end=date_or_none(period.get("tilDato")),
        status=text_or_none(right.get("studentstatus")),
    )


def _credits(results: list[dict[str, Any]]) -> Decimal | None:
    if not results:
        return None
    points = (
        decimal_or_none((r.get("gjeldendeVekting") or {}).get("verdi"))
        for r in results
        if r.get("erOppnadd") is True
    )
    return sum((p for p in points if p is not None), Decimal(0))

"""Folkeregisteret (Norway): Skatteetaten's REST look-up, per rettighetspakke.

``GET {base}/folkeregisteret/{rettighetspakke}/api/v1/personer/{fnr-or-dnr}`` (404 = not
found) and, for ``offentlig-med-hjemmel`` only, ``POST .../personer/bulkoppslag/`` with
``{"foedselsEllerDNummer": [...]}`` answering ``{"oppslag": [{"foedselsEllerDNummer",
"folkeregisterperson"}]}``. Both ask only for the parts used (``?part=navn&part=...``, the
register's data minimisation). Every attribute is a list of versions; the one with
``erGjeldende`` true is current. Authentication is a Maskinporten bearer token; a 429 carries
``Retry-After`` in milliseconds.

Protection comes from the ``adressegradering`` of the current addresses: ``ugradert`` is
none, ``fortrolig`` confidential, ``strengtFortrolig`` (also ``...Utland``) protected; no
graded address, or a grading not listed, is unknown. Deceased and emigrated come from the
current ``status`` (``doed``, ``utflyttet``), dated by when that status took effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plugins.core.settings import RegistrySettings
from plugins.identity import Country

from .errors import RegistryRejected, reading
from .http import RegistryHttp, build_session, json_body
from .maskinporten import MaskinportenAuth
from .models import Address, AddressKind, ProtectionLevel, RegistryName, RegistryPerson
from .protocol import OnePersonPerCall
from .values import date_or_none, text_or_none

BULK_PACKAGE = "offentlig-med-hjemmel"
PARTS = ("navn", "foedsel", "status", "bostedsadresse", "postadresse", "preferertKontaktadresse")
# The register documents no size limit for bulk look-ups; 100 keeps each body small.
BULK_SIZE = 100
_GRADED = ("bostedsadresse", "postadresse", "preferertKontaktadresse")
_GRADES = {
    "ugradert": ProtectionLevel.NONE,
    "fortrolig": ProtectionLevel.CONFIDENTIAL,
    "strengtfortrolig": ProtectionLevel.PROTECTED,
    "strengtfortroligutland": ProtectionLevel.PROTECTED,
}
# What a current status says; other statuses (ikkeBosatt, forsvunnet, ...) say nothing.
_DECEASED_BY_STATUS = {"doed": True, "bosatt": False, "utflyttet": False}
_EMIGRATED_BY_STATUS = {"utflyttet": True, "bosatt": False}
_SEVERITY = (
    ProtectionLevel.PROTECTED,
    ProtectionLevel.CONFIDENTIAL,
    ProtectionLevel.UNKNOWN,
    ProtectionLevel.NONE,
)


class FolkeregisteretAdapter(OnePersonPerCall):
    """People in the Norwegian population register, as the rights package allows."""

    name = RegistryName.FOLKEREGISTERET
    country = Country.NO

    def __init__(self, http: RegistryHttp, base_url: str, rights_package: str) -> None:
        super().__init__(http)
        self._people_url = (
            f"{base_url.rstrip('/')}/folkeregisteret/{rights_package}/api/v1/personer"
        )
        self._rights_package = rights_package

    @classmethod
    def from_settings(
        cls, settings: RegistrySettings.Folkeregisteret, policy: RegistrySettings.Http
    ) -> FolkeregisteretAdapter:
        token_http = RegistryHttp(cls.name, build_session(ca_bundle=settings.ca_bundle), policy)
        auth = MaskinportenAuth(settings.maskinporten, settings.scope, token_http)
        session = build_session(
            ca_bundle=settings.ca_bundle,
            headers={"Accept": "application/json", **settings.extra_headers},
            auth=auth,
        )
        http = RegistryHttp(cls.name, session, policy, retry_after_unit=0.001)
        return cls(http, settings.base_url, settings.rights_package)

    @property
    def supports_batch(self) -> bool:
        return self._rights_package == BULK_PACKAGE

    def lookup_many(self, national_ids: Sequence[str]) -> dict[str, RegistryPerson | None]:
        """Each person by canonical id; in bulk where the rights package allows it."""
        if not self.supports_batch:
            return super().lookup_many(national_ids)
        wanted = list(dict.fromkeys(self.canonical(n) for n in national_ids))
        found: dict[str, RegistryPerson | None] = dict.fromkeys(wanted)
        for start in range(0, len(wanted), BULK_SIZE):
            found.update(self._bulk(wanted[start : start + BULK_SIZE]))
        return found

    def _lookup(self, national_id: str) -> RegistryPerson | None:
        response = self.http.request(
            "GET", f"{self._people_url}/{national_id}", params={"part": PARTS}
        )
        if response is None:
            return None
        body = json_body(self.name, response)
        with reading(self.name, "person"):
            return _person(national_id, body)

    def _bulk(self, national_ids: list[str]) -> dict[str, RegistryPerson | None]:
        response = self.http.request(
            "POST",
            f"{self._people_url}/bulkoppslag/",
            params={"part": PARTS},
            json={"foedselsEllerDNummer": national_ids},
        )
        if response is None:
            raise RegistryRejected(self.name, "no bulk look-up service at the endpoint", 404)
        body = json_body(self.name, response)
        found: dict[str, RegistryPerson | None] = {}
        with reading(self.name, "bulk look-up"):
            for answer in body["oppslag"]:
                national_id = str(answer["foedselsEllerDNummer"])
                if national_id not in national_ids:
                    raise ValueError("answer for a number that was not asked for")
                person = answer.get("folkeregisterperson")
                found[national_id] = _person(national_id, person) if person else None
        return found


def _current(person: dict[str, Any], attribute: str) -> dict[str, Any] | None:
    """The version of ``attribute`` that is current (``erGjeldende``), or None."""
    versions = person.get(attribute) or []
    if not isinstance(versions, list):
        raise TypeError(f"{attribute}: expected a list of versions")
    return next((v for v in versions if v.get("erGjeldende") is True), None)


def _person(national_id: str, person: dict[str, Any]) -> RegistryPerson:
    name = _current(person, "navn") or {}
    birth = _current(person, "foedsel") or {}
    status = _current(person, "status") or {}
    state = status.get("status")
    since = date_or_none(status.get("gyldighetstidspunkt"))
    return RegistryPerson(
        source=RegistryName.FOLKEREGISTERET,
        national_id=national_id,
        first_name=text_or_none(name.get("fornavn")),
        middle_name=text_or_none(name.get("mellomnavn")),
        last_name=text_or_none(name.get("etternavn")),
        birth_date=date_or_none(birth.get("foedselsdato")),
        protection=_protection(person),
        addresses=_addresses(person),
        deceased=_DECEASED_BY_STATUS.get(state),
        deceased_on=since if state == "doed" else None,
        emigrated=_EMIGRATED_BY_STATUS.get(state),
        emigrated_on=since if state == "utflyttet" else None,
    )


def _protection(person: dict[str, Any]) -> ProtectionLevel:
    grades = {
        _GRADES.get(str(version["adressegradering"]).lower(), ProtectionLevel.UNKNOWN)
        for attribute in _GRADED
        if (version := _current(person, attribute)) is not None and "adressegradering" in version
    }
    return next((level for level in _SEVERITY if level in grades), ProtectionLevel.UNKNOWN)


def _addresses(person: dict[str, Any]) -> tuple[Address, ...]:
    found: list[Address] = []
    postal = _current(person, "postadresse")
    if postal and postal.get("postadresseIFrittFormat"):
        free = postal["postadresseIFrittFormat"]
        found.append(
            Address(
                kind=AddressKind.POSTAL,
                lines=tuple(str(line) for line in free.get("adresselinje", []) if line),
                postal_code=text_or_none(free.get("postnummer")),
                city=text_or_none(free.get("poststed")),
                country="NO",
            )
        )
    home = _current(person, "bostedsadresse")
    if home and home.get("matrikkeladresse"):
        lot = home["matrikkeladresse"]
        place = lot.get("poststed") or {}
        found.append(
            Address(
                kind=AddressKind.REGISTERED,
                care_of=text_or_none(lot.get("coAdressenavn")),
                postal_code=text_or_none(place.get("postnummer")),
                city=text_or_none(place.get("poststedsnavn")),
                country="NO",
            )
        )
    return tuple(found)

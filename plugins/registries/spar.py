"""SPAR (Sweden): Statens personadressregister's Personsök service, SOAP schema 2021.1.

Mutual TLS with the organisation certificate; every question carries an
``Identifieringsinformation`` block (customer numbers, assignment id, end user) and asks
for one ``IdNummer`` (12 digits). The answer ``SPARPersonsokningSvar`` holds zero or more
``PersonsokningSvarspost`` with ``Sekretessmarkering`` and ``SkyddadFolkbokforing``
(JA/NEJ), ``Namn`` and ``Persondetaljer`` (each possibly as dated versions; the current one
has ``DatumTill`` 9999-12-31), ``AvregistreringsorsakKod``/``Avregistreringsdatum`` and the
registered, special postal and foreign addresses. SPAR itself deletes name and address of
protected persons. An ``Undantag`` (exception) in the answer is SPAR refusing the question.
SPAR has no batch look-up in Personsök, so ``lookup_many`` asks once per person.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from plugins.core.settings import RegistrySettings
from plugins.identity import Country

from . import folkbokforing, soap
from .errors import MalformedResponse, RegistryRejected, reading
from .http import RegistryHttp, build_session, xml_body
from .models import Address, AddressKind, RegistryName, RegistryPerson
from .protocol import OnePersonPerCall
from .values import date_or_none

_SCHEMA = "http://statenspersonadressregister.se/schema"
QUESTION_NS = f"{_SCHEMA}/personsok/2021.1/personsokningfraga"
IDENTIFICATION_NS = f"{_SCHEMA}/komponent/metadata/identifieringsinformationWs-1.1"
SEARCH_NS = f"{_SCHEMA}/komponent/sok/personsokningsokparametrar-1.1"
PERSON_NS = f"{_SCHEMA}/komponent/person/person-1.2"
_CURRENT = "9999-12-31"
_YES, _NO = "JA", "NEJ"


class SparAdapter(OnePersonPerCall):
    """People registered in Sweden, for a customer with a SPAR decision."""

    name = RegistryName.SPAR
    country = Country.SE

    def __init__(self, http: RegistryHttp, settings: RegistrySettings.Spar) -> None:
        super().__init__(http)
        self._settings = settings

    @classmethod
    def from_settings(
        cls, settings: RegistrySettings.Spar, policy: RegistrySettings.Http
    ) -> SparAdapter:
        session = build_session(
            client_cert=settings.client_cert,
            ca_bundle=settings.ca_bundle,
            headers={**soap.SOAP_HEADERS, **settings.extra_headers},
        )
        return cls(RegistryHttp(cls.name, session, policy, definitive=soap.fault_text), settings)

    def _lookup(self, national_id: str) -> RegistryPerson | None:
        response = self.http.request(
            "POST", self._settings.endpoint_url, data=soap.envelope(self._question(national_id))
        )
        if response is None:
            raise RegistryRejected(self.name, "no Personsök service at the endpoint", 404)
        root = xml_body(self.name, response)
        with reading(self.name, "SPARPersonsokningSvar"):
            answer = next(soap.descendants(root, "SPARPersonsokningSvar"), None)
            if answer is None:
                raise MalformedResponse(self.name, "no SPARPersonsokningSvar in the answer")
            exception = soap.child(answer, "Undantag")
            if exception is not None:
                detail = " ".join(t.strip() for t in exception.itertext() if t.strip())
                raise RegistryRejected(self.name, f"Undantag: {detail}")
            posts = soap.children(answer, "PersonsokningSvarspost")
            if len(posts) > 1:
                raise MalformedResponse(self.name, "several answers for one IdNummer")
            return _person(national_id, posts[0]) if posts else None

    def _question(self, national_id: str) -> ET.Element:
        question = ET.Element(f"{{{QUESTION_NS}}}SPARPersonsokningFraga")
        identification = ET.SubElement(
            question, f"{{{IDENTIFICATION_NS}}}Identifieringsinformation"
        )
        for element, value in (
            ("KundNrLeveransMottagare", self._settings.customer_number),
            ("KundNrSlutkund", self._settings.end_customer_number),
            ("UppdragId", self._settings.assignment_id),
            ("SlutAnvandarId", self._settings.end_user_id),
        ):
            ET.SubElement(identification, f"{{{IDENTIFICATION_NS}}}{element}").text = value
        search = ET.SubElement(question, f"{{{SEARCH_NS}}}PersonsokningFraga")
        ET.SubElement(search, f"{{{PERSON_NS}}}IdNummer").text = national_id
        return question


def _person(national_id: str, post: ET.Element) -> RegistryPerson:
    if soap.text(post, "PersonId", "IdNummer") != national_id:
        raise ValueError("the answer is about another IdNummer")
    name = _current(soap.children(post, "Namn"))
    details = _current(soap.children(post, "Persondetaljer"))
    reason = soap.text(details, "AvregistreringsorsakKod")
    deregistered_on = date_or_none(soap.text(details, "Avregistreringsdatum"))
    return RegistryPerson(
        source=RegistryName.SPAR,
        national_id=national_id,
        first_name=soap.text(name, "Fornamn"),
        middle_name=soap.text(name, "Mellannamn"),
        last_name=soap.text(name, "Efternamn"),
        birth_date=date_or_none(soap.text(details, "Fodelsedatum")),
        protection=folkbokforing.protection(
            folkbokforing.flag(soap.text(post, "Sekretessmarkering"), _YES, _NO),
            folkbokforing.flag(soap.text(post, "SkyddadFolkbokforing"), _YES, _NO),
        ),
        addresses=_addresses(post),
        deceased=reason == folkbokforing.DECEASED,
        deceased_on=deregistered_on if reason == folkbokforing.DECEASED else None,
        emigrated=reason == folkbokforing.EMIGRATED,
        emigrated_on=deregistered_on if reason == folkbokforing.EMIGRATED else None,
    )


def _current(versions: list[ET.Element]) -> ET.Element | None:
    """The version valid now: open-ended (``DatumTill`` 9999-12-31) or the latest."""
    for version in versions:
        if soap.text(version, "DatumTill") in (None, _CURRENT):
            return version
    return max(versions, key=lambda v: soap.text(v, "DatumFrom") or "", default=None)


def _addresses(post: ET.Element) -> tuple[Address, ...]:
    found: list[Address] = []
    for name, kind in (
        ("SarskildPostadress", AddressKind.POSTAL),
        ("Folkbokforingsadress", AddressKind.REGISTERED),
    ):
        versions = [a for h in soap.children(post, name) for a in soap.children(h, "SvenskAdress")]
        current = _current(versions)
        if current is not None:
            found.append(folkbokforing.swedish_address(kind, current))
    foreign = _current(soap.children(post, "Utlandsadress"))
    if foreign is not None:
        found.append(folkbokforing.foreign_address(foreign))
    return tuple(found)

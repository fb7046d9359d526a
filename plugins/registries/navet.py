"""Navet (Sweden, authorities only): Skatteverket's online look-up, SOAP ``personpostXML``.

Mutual TLS with the authority's organisation certificate; each request names the order
(``Bestallning``: ``OrgNr``, ``BestallningsId``) and one ``PersonId``. The answer holds 0-1
``Folkbokforingspost`` (Epersondata.xsd / Navetavisering.xsd): ``Sekretessmarkering`` (J/N),
``Personpost`` with ``PersonId``, ``Avregistrering`` (``AV`` deceased, ``UV`` emigrated),
``Namn`` and ``Adresser`` (registered, special postal and foreign address). Navet has no
batch look-up in this service, so ``lookup_many`` asks once per person.

The element for skyddad folkbokföring (added in 2019) is read as ``SkyddadFolkbokforing``
(J/N); the reference could not confirm its name. Either flag missing means protection
``unknown``. A SOAP fault is Navet's answer to a request it refuses and is not retried.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from plugins.core.settings import RegistrySettings
from plugins.identity import Country, parse_national_id

from . import folkbokforing, soap
from .errors import MalformedResponse, RegistryRejected, reading
from .http import RegistryHttp, build_session, xml_body
from .models import Address, AddressKind, RegistryName, RegistryPerson
from .protocol import OnePersonPerCall
from .values import date_or_none

NAMESPACE = "http://xmls.skatteverket.se/se/skatteverket/folkbokforing/na/epersondata/V1"
_YES, _NO = "J", "N"


class NavetAdapter(OnePersonPerCall):
    """People registered in Sweden, as the ordering authority may see them."""

    name = RegistryName.NAVET
    country = Country.SE

    def __init__(self, http: RegistryHttp, endpoint_url: str, org_nr: str, order_id: str) -> None:
        super().__init__(http)
        self._endpoint_url = endpoint_url
        self._org_nr = org_nr
        self._order_id = order_id

    @classmethod
    def from_settings(
        cls, settings: RegistrySettings.Navet, policy: RegistrySettings.Http
    ) -> NavetAdapter:
        session = build_session(
            client_cert=settings.client_cert,
            ca_bundle=settings.ca_bundle,
            headers={**soap.SOAP_HEADERS, **settings.extra_headers},
        )
        http = RegistryHttp(cls.name, session, policy, definitive=soap.fault_text)
        return cls(http, settings.endpoint_url, settings.org_nr, settings.order_id)

    def _lookup(self, national_id: str) -> RegistryPerson | None:
        response = self.http.request(
            "POST", self._endpoint_url, data=soap.envelope(self._request(national_id))
        )
        if response is None:
            raise RegistryRejected(self.name, "no personpostXML service at the endpoint", 404)
        root = xml_body(self.name, response)
        with reading(self.name, "Folkbokforingsposter"):
            answer = next(soap.descendants(root, "PersonpostXMLResponse"), None)
            if answer is None:
                raise MalformedResponse(self.name, "no PersonpostXMLResponse in the answer")
            records = list(soap.descendants(answer, "Folkbokforingspost"))
            if len(records) > 1:
                raise MalformedResponse(self.name, "several records for one PersonId")
            return _person(records[0]) if records else None

    def _request(self, national_id: str) -> ET.Element:
        request = ET.Element(f"{{{NAMESPACE}}}PersonpostRequest")
        order = ET.SubElement(request, f"{{{NAMESPACE}}}Bestallning")
        ET.SubElement(order, f"{{{NAMESPACE}}}OrgNr").text = self._org_nr
        ET.SubElement(order, f"{{{NAMESPACE}}}BestallningsId").text = self._order_id
        ET.SubElement(request, f"{{{NAMESPACE}}}PersonId").text = national_id
        return request


def _person(record: ET.Element) -> RegistryPerson:
    person = soap.child(record, "Personpost")
    number = soap.text(person, "PersonId", "PersonNr") or soap.text(
        person, "PersonId", "TilldelatPersonNrSamordningsNr"
    )
    parsed = parse_national_id(number, Country.SE)
    if not parsed.valid:
        raise ValueError(f"PersonId is not a valid Swedish number ({parsed.reason})")
    reason = soap.text(person, "Avregistrering", "AvregistreringsorsakKod")
    deregistered_on = date_or_none(soap.text(person, "Avregistrering", "Avregistreringsdatum"))
    return RegistryPerson(
        source=RegistryName.NAVET,
        national_id=parsed.canonical,
        first_name=soap.text(person, "Namn", "Fornamn"),
        middle_name=soap.text(person, "Namn", "Mellannamn"),
        last_name=soap.text(person, "Namn", "Efternamn"),
        birth_date=parsed.birth_date,
        protection=folkbokforing.protection(
            folkbokforing.flag(soap.text(record, "Sekretessmarkering"), _YES, _NO),
            folkbokforing.flag(soap.text(record, "SkyddadFolkbokforing"), _YES, _NO),
        ),
        addresses=_addresses(soap.child(person, "Adresser")),
        deceased=reason == folkbokforing.DECEASED,
        deceased_on=deregistered_on if reason == folkbokforing.DECEASED else None,
        emigrated=reason == folkbokforing.EMIGRATED,
        emigrated_on=deregistered_on if reason == folkbokforing.EMIGRATED else None,
    )


def _addresses(addresses: ET.Element | None) -> tuple[Address, ...]:
    found = [
        folkbokforing.swedish_address(kind, element)
        for name, kind in (
            ("SarskildPostadress", AddressKind.POSTAL),
            ("Folkbokforingsadress", AddressKind.REGISTERED),
        )
        if (element := soap.child(addresses, name)) is not None
    ]
    foreign = soap.child(addresses, "Utlandsadress")
    if foreign is not None:
        found.append(folkbokforing.foreign_address(foreign))
    return tuple(found)

"""Navet's online look-up (SOAP ``personpostXML`` V2), as an authority sees it.

``POST /registries/navet/na/na_epersondata/V2/personpostXML`` with a ``PersonpostRequest``
(``Bestallning{OrgNr, BestallningsId}``, ``PersonId``) answers ``PersonpostXMLResponse``
with 0-1 ``Folkbokforingspost``. The order must be the one below and the client certificate
is checked through ``X-Sandbox-Client-Cert``; a wrong order or an unreadable request is a
SOAP fault carrying Navet's ``WebServiceFault{Felkod, Beskrivning}``.

Protection: ``confidential`` sets ``Sekretessmarkering`` J (the record is still delivered
to authorities); ``protected`` sets ``SkyddadFolkbokforing`` J and omits the addresses (the
real address is not in the register); ``unstated`` leaves both flags out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from werkzeug.wrappers import Response

from . import soap
from .seed import SeedAddress, SeedPerson

NAMESPACE = "http://xmls.skatteverket.se/se/skatteverket/folkbokforing/na/epersondata/V1"
ENDPOINT = "na/na_epersondata/V2/personpostXML"
CERT_SUBJECT = "navet-sandbox-authority"
ORG_NR = "162021004748"
ORDER_ID = "00000079-FO01-0001"
_ADDRESS_ELEMENTS = {"registered": "Folkbokforingsadress", "postal": "SarskildPostadress"}


class NavetEmulator(soap.SoapEmulator):
    """Navet for the sandbox authority "Kommun A"."""

    name = "navet"
    endpoint = ENDPOINT
    cert_subject = CERT_SUBJECT

    def operation(self, body: ET.Element | None) -> Response:
        if body is None or body.tag != f"{{{NAMESPACE}}}PersonpostRequest":
            return _fault(1, "Felaktig förfrågan: PersonpostRequest saknas")
        order = body.find(f"{{{NAMESPACE}}}Bestallning")
        if (
            soap.text_of(order, f"{{{NAMESPACE}}}OrgNr") != ORG_NR
            or soap.text_of(order, f"{{{NAMESPACE}}}BestallningsId") != ORDER_ID
        ):
            return _fault(2, "Beställningen finns inte för organisationen")
        national_id = soap.text_of(body, f"{{{NAMESPACE}}}PersonId") or ""
        if not (len(national_id) == 12 and national_id.isdigit()):
            return _fault(3, "PersonId ska vara 12 siffror")
        response = ET.Element(f"{{{NAMESPACE}}}PersonpostXMLResponse")
        records = soap.add(response, "Folkbokforingsposter")
        person = self.person(national_id)
        if person is not None:
            _record(records, national_id, person)
        return soap.answer(response)


def _fault(code: int, message: str) -> Response:
    detail = ET.Element(f"{{{NAMESPACE}}}WebServiceFault")
    soap.add(detail, f"{{{NAMESPACE}}}Felkod", code)
    soap.add(detail, f"{{{NAMESPACE}}}Beskrivning", message)
    return soap.fault("soap:Client", message, detail)


def _record(parent: ET.Element, national_id: str, person: SeedPerson) -> None:
    record = soap.add(parent, "Folkbokforingspost")
    if person.protection != "unstated":
        soap.add(record, "Sekretessmarkering", "J" if person.protection == "confidential" else "N")
        soap.add(record, "SkyddadFolkbokforing", "J" if person.protection == "protected" else "N")
    post = soap.add(record, "Personpost")
    soap.add(soap.add(post, "PersonId"), "PersonNr", national_id)
    ended = person.deceased_on or person.emigrated_on
    if ended is not None:
        deregistration = soap.add(post, "Avregistrering")
        soap.add(deregistration, "AvregistreringsorsakKod", "AV" if person.deceased_on else "UV")
        soap.add(deregistration, "Avregistreringsdatum", ended.isoformat())
    name = soap.add(post, "Namn")
    for tag, value in (
        ("Fornamn", person.first_name),
        ("Mellannamn", person.middle_name),
        ("Efternamn", person.last_name),
    ):
        if value:
            soap.add(name, tag, value)
    if person.protection != "protected" and person.addresses:
        addresses = soap.add(post, "Adresser")
        for address in person.addresses:
            _address(addresses, address)


def _address(parent: ET.Element, address: SeedAddress) -> None:
    if address.kind == "foreign":
        element = soap.add(parent, "Utlandsadress")
        for n, line in enumerate(address.lines[:3], start=1):
            soap.add(element, f"Utdelningsadress{n}", line)
        soap.add(element, "Land", address.country)
        return
    element = soap.add(parent, _ADDRESS_ELEMENTS[address.kind])
    if address.care_of:
        soap.add(element, "CareOf", address.care_of)
    for n, line in enumerate(address.lines[-2:], start=3 - min(2, len(address.lines))):
        soap.add(element, f"Utdelningsadress{n}", line)
    soap.add(element, "PostNr", address.postal_code)
    soap.add(element, "Postort", address.city)

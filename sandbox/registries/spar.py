"""SPAR Personsök (SOAP, schema 2021.1) for a customer with a SPAR decision.

``POST /registries/spar/2021.1/`` with ``SPARPersonsokningFraga``: the
``Identifieringsinformation`` must carry the customer numbers and assignment below and an
end user, and the client certificate is checked through ``X-Sandbox-Client-Cert``; a wrong
identification is a SOAP fault. The answer ``SPARPersonsokningSvar`` repeats the question,
holds 0-1 ``PersonsokningSvarspost`` and a ``UUID``; an ``IdNummer`` that is not 12 digits
gets an ``Undantag`` instead. As SPAR does, name and address of a protected person
(``confidential`` or ``protected``) are never released; only the flags are.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

from werkzeug.wrappers import Response

from plugins.identity import Country

from . import soap
from .seed import SeedAddress, SeedPerson, birth_date_of

ENDPOINT = "2021.1/"
CERT_SUBJECT = "spar-sandbox-customer"
CUSTOMER_NUMBER = "500243"
END_CUSTOMER_NUMBER = "500243"
ASSIGNMENT_ID = "637"
_SCHEMA = "http://statenspersonadressregister.se/schema"
QUESTION = f"{_SCHEMA}/personsok/2021.1/personsokningfraga"
ANSWER = f"{_SCHEMA}/personsok/2021.1/personsokningsvar"
IDENTIFICATION = f"{_SCHEMA}/komponent/metadata/identifieringsinformationWs-1.1"
SEARCH = f"{_SCHEMA}/komponent/sok/personsokningsokparametrar-1.1"
PERSON = f"{_SCHEMA}/komponent/person/person-1.2"
DATES = f"{_SCHEMA}/komponent/generellt/datumtid-1.1"
ADDRESS = f"{_SCHEMA}/komponent/person/adress/deladeadresselement-1.1"
PROTECTION = f"{_SCHEMA}/komponent/person/skyddadepersonuppgifter-1.1"
NAMES = f"{_SCHEMA}/komponent/person/namn/deladenamnelement-1.0"
NAME = f"{_SCHEMA}/komponent/person/namn/namn-1.0"
DEREGISTRATION = f"{_SCHEMA}/komponent/person/avregistrering-1.0"
DETAILS = f"{_SCHEMA}/komponent/person/persondetaljer-1.2"
REGISTERED = f"{_SCHEMA}/komponent/person/adress/folkbokforingsadress-1.1"
POSTAL = f"{_SCHEMA}/komponent/person/adress/sarskildpostadress-1.1"
FOREIGN = f"{_SCHEMA}/komponent/person/adress/utlandsadress-1.1"
EXCEPTION = f"{_SCHEMA}/komponent/sok/undantag-1.0"
_CURRENT = ("2019-12-02", "9999-12-31")
_ADDRESS_HOLDERS = {
    "registered": f"{{{REGISTERED}}}Folkbokforingsadress",
    "postal": f"{{{POSTAL}}}SarskildPostadress",
}


class SparEmulator(soap.SoapEmulator):
    """SPAR for the sandbox customer."""

    name = "spar"
    endpoint = ENDPOINT
    cert_subject = CERT_SUBJECT

    def operation(self, body: ET.Element | None) -> Response:
        if body is None or body.tag != f"{{{QUESTION}}}SPARPersonsokningFraga":
            return soap.fault("soap:Client", "SPARPersonsokningFraga saknas")
        identification = body.find(f"{{{IDENTIFICATION}}}Identifieringsinformation")
        expected = {
            "KundNrLeveransMottagare": CUSTOMER_NUMBER,
            "KundNrSlutkund": END_CUSTOMER_NUMBER,
            "UppdragId": ASSIGNMENT_ID,
        }
        if any(
            soap.text_of(identification, f"{{{IDENTIFICATION}}}{tag}") != value
            for tag, value in expected.items()
        ) or not soap.text_of(identification, f"{{{IDENTIFICATION}}}SlutAnvandarId"):
            return soap.fault("soap:Client", "Felaktig identifieringsinformation")
        search = body.find(f"{{{SEARCH}}}PersonsokningFraga")
        national_id = soap.text_of(search, f"{{{PERSON}}}IdNummer") or ""
        answer = ET.Element(f"{{{ANSWER}}}SPARPersonsokningSvar")
        asked = soap.add(answer, f"{{{SEARCH}}}PersonsokningFraga")
        soap.add(asked, f"{{{PERSON}}}IdNummer", national_id)
        if not (len(national_id) == 12 and national_id.isdigit()):
            exception = soap.add(answer, f"{{{EXCEPTION}}}Undantag")
            soap.add(exception, f"{{{EXCEPTION}}}Kod", "1")
            soap.add(exception, f"{{{EXCEPTION}}}Beskrivning", "Ogiltigt IdNummer")
        else:
            person = self.person(national_id)
            if person is not None:
                _post(answer, national_id, person)
        soap.add(answer, f"{{{ANSWER}}}UUID", uuid.uuid4())
        return soap.answer(answer)


def _dated(parent: ET.Element, tag: str) -> ET.Element:
    element = soap.add(parent, tag)
    soap.add(element, f"{{{DATES}}}DatumFrom", _CURRENT[0])
    soap.add(element, f"{{{DATES}}}DatumTill", _CURRENT[1])
    return element


def _post(parent: ET.Element, national_id: str, person: SeedPerson) -> None:
    post = soap.add(parent, f"{{{ANSWER}}}PersonsokningSvarspost")
    person_id = soap.add(post, f"{{{PERSON}}}PersonId")
    soap.add(person_id, f"{{{PERSON}}}IdNummer", national_id)
    soap.add(person_id, f"{{{PERSON}}}Typ", "PERSONNUMMER")
    protected = person.protection in ("confidential", "protected")
    if person.protection != "unstated":
        yes_no = {True: "JA", False: "NEJ"}
        soap.add(post, f"{{{PROTECTION}}}Sekretessmarkering", yes_no[protected])
        soap.add(
            post, f"{{{PROTECTION}}}SkyddadFolkbokforing", yes_no[person.protection == "protected"]
        )
    if not protected:
        name = _dated(post, f"{{{NAME}}}Namn")
        for tag, value in (
            ("Fornamn", person.first_name),
            ("Mellannamn", person.middle_name),
            ("Efternamn", person.last_name),
        ):
            if value:
                soap.add(name, f"{{{NAMES}}}{tag}", value)
    details = _dated(post, f"{{{DETAILS}}}Persondetaljer")
    soap.add(details, f"{{{DETAILS}}}Fodelsedatum", birth_date_of(national_id, person, Country.SE))
    if person.sex:
        soap.add(details, f"{{{DETAILS}}}Kon", "KVINNA" if person.sex == "female" else "MAN")
    ended = person.deceased_on or person.emigrated_on
    if ended is not None:
        code = "AV" if person.deceased_on else "UV"
        soap.add(details, f"{{{DEREGISTRATION}}}AvregistreringsorsakKod", code)
        soap.add(details, f"{{{DEREGISTRATION}}}Avregistreringsdatum", ended.isoformat())
    if not protected:
        for address in person.addresses:
            _address(post, address)


def _address(post: ET.Element, address: SeedAddress) -> None:
    if address.kind == "foreign":
        element = _dated(post, f"{{{FOREIGN}}}Utlandsadress")
        for n, line in enumerate(address.lines[:3], start=1):
            soap.add(element, f"{{{ADDRESS}}}Utdelningsadress{n}", line)
        soap.add(element, f"{{{ADDRESS}}}Land", address.country)
        return
    holder = soap.add(post, _ADDRESS_HOLDERS[address.kind])
    element = _dated(holder, f"{{{ADDRESS}}}SvenskAdress")
    if address.care_of:
        soap.add(element, f"{{{ADDRESS}}}CareOf", address.care_of)
    for n, line in enumerate(address.lines[-2:], start=3 - min(2, len(address.lines))):
        soap.add(element, f"{{{ADDRESS}}}Utdelningsadress{n}", line)
    soap.add(element, f"{{{ADDRESS}}}PostNr", address.postal_code)
    soap.add(element, f"{{{ADDRESS}}}Postort", address.city)

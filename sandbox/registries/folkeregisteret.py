"""Folkeregisteret's REST look-up (Norway), per rettighetspakke, behind Maskinporten.

Under ``/registries/folkeregisteret/folkeregisteret/{rettighetspakke}/api/v1/``:
``GET personer/{fnr-or-dnr}`` (404 when unknown) and, for ``offentlig-med-hjemmel`` only,
``POST personer/bulkoppslag/`` with ``{"foedselsEllerDNummer": [...]}``. ``?part=`` limits
the answer to the attributes named (``identifikasjonsnummer`` always comes). A bearer token
from the Maskinporten emulator with the package's scope is required (401 without a valid
token, 403 without the scope); errors carry ``{"kode", "melding"}``. Throttling answers 429
with ``Retry-After`` in milliseconds, as the register does.

Protection: ``none`` grades the addresses ``ugradert``, ``confidential`` ``fortrolig``;
``protected`` (``strengtFortrolig``) has no bostedsadresse (not stored) and only an "open"
postal address; ``unstated`` leaves the grading out.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from plugins.identity import Country

from .base import RegistryEmulator, json_answer, text_answer
from .maskinporten import MaskinportenEmulator
from .seed import SeedAddress, SeedPerson, birth_date_of

if TYPE_CHECKING:
    from ..core import Host

SCOPES = {
    "offentlig-med-hjemmel": "folkeregister:deling/offentligmedhjemmel",
    "offentlig-uten-hjemmel": "folkeregister:deling/offentligutenhjemmel",
}
BULK_PACKAGE = "offentlig-med-hjemmel"
RETRY_AFTER_MS = "200"
_PATH = re.compile(r"folkeregisteret/(?P<package>[a-z-]+)/api/v1/personer/(?P<rest>.*)")
_GRADES = {"none": "ugradert", "confidential": "fortrolig", "protected": "strengtFortrolig"}
_OPEN_ADDRESS = SeedAddress(
    kind="postal", lines=("Postboks 1 Sentrum",), postal_code="0101", city="OSLO"
)


class FolkeregisteretEmulator(RegistryEmulator):
    """The Norwegian population register for Maskinporten clients."""

    name = "folkeregisteret"

    def __init__(self, sandbox: Host, maskinporten: MaskinportenEmulator) -> None:
        super().__init__(sandbox)
        self._maskinporten = maskinporten

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        grant = self._maskinporten.grant_for(token) if scheme.lower() == "bearer" else None
        if grant is None:
            return _error(401, "Autentiseringsinformasjon mangler")
        match = _PATH.fullmatch(request.path[len(self.prefix) :])
        package = match["package"] if match else ""
        if package in SCOPES and SCOPES[package] not in grant.scopes:
            return _error(403, "Virksomheten mangler autorisasjon for tjenesten")
        return None

    def route_of(self, path: str) -> str:
        match = _PATH.fullmatch(path)
        if match is None:
            return path
        rest = "bulkoppslag/" if match["rest"].startswith("bulkoppslag") else "{id}"
        return f"folkeregisteret/{match['package']}/api/v1/personer/{rest}"

    def serve(self, request: Request, path: str) -> Response:
        match = _PATH.fullmatch(path)
        if match is None or match["package"] not in SCOPES:
            return _error(404, "Feil uri brukt")
        accept = request.headers.get("Accept", "")
        if accept and not any(t in accept for t in ("application/json", "*/*")):
            return _error(406, "Accept må være application/json")
        parts = set(request.args.getlist("part"))
        if match["rest"] in ("bulkoppslag", "bulkoppslag/"):
            return self._bulk(request, match["package"], parts)
        if request.method != "GET" or "/" in match["rest"]:
            return _error(404, "Feil uri brukt")
        person = self.person(match["rest"])
        if person is None:
            return _error(404, "Fant ikke person")
        return json_answer(_person(match["rest"], person, parts))

    def fault_answers(self) -> dict[str, Any]:
        answers = super().fault_answers()
        answers["429"] = lambda: _error(429, "For mange kall", {"Retry-After": RETRY_AFTER_MS})
        answers["500"] = lambda: _error(500, "Feil i tjenesten. Vennligst prøv igjen seinere.")
        return answers

    def malformed(self) -> Response:
        return Response('{"oppslag": [', status=200, content_type="application/json")

    def _bulk(self, request: Request, package: str, parts: set[str]) -> Response:
        if request.method != "POST":
            return text_answer(405, "Method Not Allowed")
        if package != BULK_PACKAGE:
            return _error(403, "Bulkoppslag gjelder kun offentlig-med-hjemmel")
        body = request.get_json(silent=True)
        numbers = body.get("foedselsEllerDNummer") if isinstance(body, dict) else None
        if not isinstance(numbers, list):
            return _error(400, "foedselsEllerDNummer mangler")
        answers = []
        for number in numbers:
            person = self.person(str(number))
            answer: dict[str, Any] = {"foedselsEllerDNummer": number}
            if person is not None:
                answer["folkeregisterperson"] = _person(str(number), person, parts)
            answers.append(answer)
        return json_answer({"oppslag": answers})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = json_answer({"kode": f"FREG-{status}", "melding": message}, status=status)
    response.headers.extend(headers or {})
    return response


def _version(**values: Any) -> dict[str, Any]:
    return {"erGjeldende": True, "kilde": "sandbox", **values}


def _person(number: str, person: SeedPerson, parts: set[str]) -> dict[str, Any]:
    kind = "dNummer" if int(number[0]) >= 4 else "foedselsnummer"
    document: dict[str, Any] = {
        "identifikasjonsnummer": [
            _version(status="iBruk", foedselsEllerDNummer=number, identifikatortype=kind)
        ],
        "navn": [
            _version(
                fornavn=person.first_name,
                mellomnavn=person.middle_name,
                etternavn=person.last_name,
            )
        ],
        "foedsel": [_version(foedselsdato=birth_date_of(number, person, Country.NO))],
        "status": [_status(person)],
        **_addresses(person),
    }
    return {
        name: value
        for name, value in document.items()
        if name == "identifikasjonsnummer" or not parts or name in parts
    }


def _status(person: SeedPerson) -> dict[str, Any]:
    if person.deceased_on is not None:
        return _version(status="doed", gyldighetstidspunkt=f"{person.deceased_on}T00:00:00+01:00")
    if person.emigrated_on is not None:
        return _version(
            status="utflyttet", gyldighetstidspunkt=f"{person.emigrated_on}T00:00:00+01:00"
        )
    return _version(status="bosatt")


def _graded(person: SeedPerson, **address: Any) -> dict[str, Any]:
    if person.protection == "unstated":
        return _version(**address)
    return _version(adressegradering=_GRADES[person.protection], **address)


def _addresses(person: SeedPerson) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    postal = next((a for a in person.addresses if a.kind == "postal"), None)
    home = next((a for a in person.addresses if a.kind == "registered"), None)
    if person.protection == "protected":
        postal, home = _OPEN_ADDRESS, None
    if postal is not None:
        free = {
            "adresselinje": list(postal.lines),
            "postnummer": postal.postal_code,
            "poststed": postal.city,
        }
        found["postadresse"] = [_graded(person, postadresseIFrittFormat=free)]
    if home is not None:
        lot = {
            "coAdressenavn": home.care_of or "",
            "poststed": {"postnummer": home.postal_code, "poststedsnavn": home.city},
        }
        found["bostedsadresse"] = [_graded(person, matrikkeladresse=lot)]
    return found

"""FS's REST API for one institution: person search, persons and students.

Serves, relative to ``/registries/fs/``: ``personer?fodselsdato0=&personnummer0=`` (search),
``personer/{personlopenummer}`` and ``studenter?person.personlopenummer=``, behind HTTP
Basic with the credentials below. FS carries no address protection, so the seed's
``protection`` is ignored, and FS person profiles carry no addresses here.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from plugins.identity import Country

from .base import RegistryEmulator, json_answer, text_answer
from .seed import SeedPerson, birth_date_of

USERNAME = "fs-sandbox"
PASSWORD = "fs-sandbox-password"
_FIRST_NUMBER = 100001
_PERSON = re.compile(r"personer/(?P<number>\d+)")


class FsEmulator(RegistryEmulator):
    """FS persons and students of the sandbox institution."""

    name = "fs"

    def new_ref(self, national_id: str, position: int) -> str:
        """A personløpenummer: the next in sequence."""
        return str(_FIRST_NUMBER + position)

    def authenticate(self, request: Request) -> Response | None:
        auth = request.authorization
        if auth and auth.type == "basic" and (auth.username, auth.password) == (USERNAME, PASSWORD):
            return None
        return text_answer(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="FS"'})

    def route_of(self, path: str) -> str:
        return "personer/{personlopenummer}" if _PERSON.fullmatch(path) else path

    def serve(self, request: Request, path: str) -> Response:
        if request.method != "GET":
            return text_answer(405, "Method Not Allowed")
        if path == "personer":
            args = request.args
            national_id = args.get("fodselsdato0", "") + args.get("personnummer0", "")
            return json_answer({"items": self._search(national_id)})
        match = _PERSON.fullmatch(path)
        if match:
            found = self.by_ref(match["number"])
            if found is None:
                return text_answer(404, "Not Found")
            return json_answer(self._profile(*found))
        if path == "studenter":
            found = self.by_ref(request.args.get("person.personlopenummer", ""))
            return json_answer({"items": [] if found is None else [_student(found[1])]})
        return text_answer(404, "Not Found")

    def malformed(self) -> Response:
        return Response('{"items": [{"id": ', status=200, content_type="application/json")

    def _search(self, national_id: str) -> list[dict[str, Any]]:
        if self.person(national_id) is None:
            return []
        number = int(self.ref_of(national_id))
        return [{"href": f"{self.base_url}/personer/{number}", "id": {"personlopenummer": number}}]

    def _profile(self, national_id: str, person: SeedPerson) -> dict[str, Any]:
        return {
            "href": f"{self.base_url}/personer/{self.ref_of(national_id)}",
            "personlopenummer": int(self.ref_of(national_id)),
            "fodselsnummer": national_id,
            "fodselsdato": birth_date_of(national_id, person, Country.NO),
            "navn": {"fornavn": person.first_name, "etternavn": person.last_name},
            "kjonn": {"female": "K", "male": "M"}.get(person.sex or ""),
            "erDod": person.deceased_on is not None,
            "privatEpost": person.email,
            "mobilTelefon": person.phone,
            "personDataKanHentesFraFolkeregisteret": True,
        }


def _names(name: str | None) -> dict[str, str | None]:
    return {"nb": name, "en": name}


def _student(person: SeedPerson) -> dict[str, Any]:
    return {
        "oppnaddKvalifikasjon": [
            {
                "datoOppnadd": d.awarded_on,
                "kvalifikasjon": {
                    "kode": d.code,
                    "navnAlleSprak": _names(d.title),
                    "studieniva": d.level,
                    "tilsvarerGrad": True,
                    "vitnemalsgivende": True,
                },
                "studieprogram": {"kode": d.programme} if d.programme else None,
                "vekting": (
                    None if d.credits is None
                    else {"verdi": str(d.credits), "vektingstype": "SP"}
                ),
            }
            for d in person.degrees
        ],
        "programStudieretter": [
            {
                "studieprogram": {"kode": p.code, "navnAlleSprak": _names(p.name)},
                "studierettperiode": {"fraDato": p.start, "tilDato": p.end},
                "studentstatus": p.status,
            }
            for p in person.programmes
        ],
        "resultaterV2": [
            {
                "erOppnadd": c.passed_on is not None,
                "emne": {"kode": c.code, "navnAlleSprak": _names(c.name)},
                "gjeldendeVekting": {"verdi": str(c.credits), "vektingstype": "SP"},
            }
            for c in person.courses
        ],
    }

"""The ``"registries"`` section of the sandbox seed file, validated.

Each registry holds people keyed by the national identity number that registry uses, in
canonical form (Sweden: 12 digits for Ladok, Navet, SPAR; Norway: 11 digits for FS and
Folkeregisteret). Every registry reads the same person fields, but a field a registry's
emulator does not serve is an error, never ignored (FS has no protection flag and no
addresses, Ladok and FS no emigration, only Ladok and FS have studies; :data:`SUPPORTED`
lists each emulator's fields). Unknown fields are errors too, so typos fail loudly::

    "registries": {
      "navet": {
        "197010632391": {
          "first_name": "Test", "last_name": "Testsson",
          "protection": "none",                 # none | confidential | protected | unstated
          "deceased_on": null, "emigrated_on": null,
          "addresses": [{"kind": "registered", "lines": ["Exempelgatan 1"],
                         "postal_code": "12345", "city": "STADEN"}]
        }
      },
      "ladok": {
        "197010632391": {
          "first_name": "Test", "last_name": "Testsson", "email": "test@example.se",
          "programmes": [{"code": "TCOMK", "name": "Civilingenjör datateknik",
                          "start": "2015-08-31", "end": "2020-06-07"}],
          "courses": [{"code": "DD1337", "name": "Programmering", "credits": "7.5",
                       "start": "2015-08-31", "end": "2015-10-27", "passed_on": "2015-10-20"}]
        }
      },
      "fs": {"09052400284": {"degrees": [{"code": "MAMN", "title": "Master i matematikk",
                                           "awarded_on": "2015-06-20"}]}},
      "maskinporten": {"my-client": {"public_key_pem": "-----BEGIN PUBLIC KEY-----...",
                                      "scopes": ["folkeregister:deling/offentligmedhjemmel"]}}
    }

``protection: "unstated"`` leaves the registry's protection field out of the answer (the
adapter must then treat the person as protected). ``birth_date`` defaults to the date in
the number. ``registry_ref`` is the Ladok student UID or FS personløpenummer (generated
when absent).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugins.identity import Country, parse_national_id


class _Seed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SeedAddress(_Seed):
    kind: Literal["registered", "postal", "foreign"] = "registered"
    care_of: str | None = None
    lines: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


class SeedProgramme(_Seed):
    code: str
    name: str | None = None
    start: date | None = None
    end: date | None = None
    status: str | None = None


class SeedCourse(_Seed):
    """A course registration; ``passed_on`` is the attested result's date (None: not passed)."""

    code: str
    name: str | None = None
    credits: Decimal = Decimal(0)
    start: date | None = None
    end: date | None = None
    passed_on: date | None = None


class SeedDegree(_Seed):
    """A degree awarded; Ladok also publishes it in its event feed (``UtfardatBevisEvent``)."""

    code: str
    title: str
    title_en: str | None = None
    awarded_on: date | None = None
    completed_on: date | None = None
    programme: str | None = None
    level: str | None = None
    credits: Decimal | None = None
    national_type: str | None = None


class SeedPerson(_Seed):
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    sex: Literal["female", "male"] | None = None
    protection: Literal["none", "confidential", "protected", "unstated"] = "none"
    deceased_on: date | None = None
    emigrated_on: date | None = None
    addresses: tuple[SeedAddress, ...] = ()
    email: str | None = None
    phone: str | None = None
    registry_ref: str | None = None
    programmes: tuple[SeedProgramme, ...] = ()
    courses: tuple[SeedCourse, ...] = ()
    degrees: tuple[SeedDegree, ...] = ()


class SeedClient(_Seed):
    """A Maskinporten client: its public key (PEM) and the scopes it may get."""

    public_key_pem: str
    scopes: tuple[str, ...] = ()


_NAMES = frozenset({"first_name", "last_name", "birth_date", "registry_ref"})
_POPULATION = _NAMES | {"middle_name", "protection", "deceased_on", "emigrated_on", "addresses"}
_STUDIES = frozenset({"email", "phone", "sex", "deceased_on", "programmes", "courses", "degrees"})
# What each emulator serves of a person (and of their programmes, courses and degrees).
SUPPORTED: dict[str, dict[str, frozenset[str]]] = {
    "navet": {"person": _POPULATION},
    "spar": {"person": _POPULATION | {"sex"}},
    "folkeregisteret": {"person": _POPULATION},
    "ladok": {
        "person": _NAMES | _STUDIES | {"protection", "addresses"},
        "programmes": frozenset({"code", "name", "start", "end"}),
        "courses": frozenset({"code", "name", "credits", "start", "end", "passed_on"}),
        "degrees": frozenset({"code", "title", "title_en", "awarded_on", "completed_on",
                              "credits", "national_type"}),
    },
    "fs": {
        "person": _NAMES | _STUDIES,
        "programmes": frozenset({"code", "name", "start", "end", "status"}),
        "courses": frozenset({"code", "name", "credits", "passed_on"}),
        "degrees": frozenset({"code", "title", "awarded_on", "programme", "level", "credits"}),
    },
}


def unsupported(registry: str, people: dict[str, SeedPerson]) -> list[str]:
    """What a seed gives ``registry``'s people that its emulator does not serve."""
    served = SUPPORTED[registry]
    found: set[str] = set()
    for person in people.values():
        found |= {f for f in person.model_fields_set if f not in served["person"]}
        for part in ("programmes", "courses", "degrees"):
            for item in getattr(person, part):
                found |= {
                    f"{part}.{f}" for f in item.model_fields_set
                    if f not in served.get(part, frozenset())
                }
    return sorted(found)


def _keyed(people: dict[str, SeedPerson], country: Country) -> dict[str, SeedPerson]:
    for key in people:
        result = parse_national_id(key, country)
        if not result.valid or result.canonical != key:
            raise ValueError(f"{key!r} is not a canonical {country} identity number")
    return people


class RegistriesSeed(_Seed):
    """The whole ``"registries"`` section."""

    ladok: dict[str, SeedPerson] = Field(default_factory=dict)
    fs: dict[str, SeedPerson] = Field(default_factory=dict)
    navet: dict[str, SeedPerson] = Field(default_factory=dict)
    spar: dict[str, SeedPerson] = Field(default_factory=dict)
    folkeregisteret: dict[str, SeedPerson] = Field(default_factory=dict)
    maskinporten: dict[str, SeedClient] = Field(default_factory=dict)

    @field_validator("ladok", "navet", "spar")
    @classmethod
    def _swedish_keys(cls, people: dict[str, SeedPerson]) -> dict[str, SeedPerson]:
        return _keyed(people, Country.SE)

    @field_validator("fs", "folkeregisteret")
    @classmethod
    def _norwegian_keys(cls, people: dict[str, SeedPerson]) -> dict[str, SeedPerson]:
        return _keyed(people, Country.NO)

    @model_validator(mode="after")
    def _served(self) -> RegistriesSeed:
        problems = [
            f"{registry}: {', '.join(fields)}"
            for registry in SUPPORTED
            if (fields := unsupported(registry, getattr(self, registry)))
        ]
        if problems:
            raise ValueError(
                "the seed gives what these emulators do not serve: " + "; ".join(problems)
            )
        return self


def birth_date_of(national_id: str, person: SeedPerson, country: Country) -> date | None:
    """The seeded birth date, else the one in the number."""
    if person.birth_date is not None:
        return person.birth_date
    result = parse_national_id(national_id, country)
    return result.birth_date if result.valid else None

"""What any registry says about a person, in one registry-neutral shape (pure).

Adapters translate each registry's own fields into :class:`RegistryPerson`. Two rules are
enforced here rather than trusted to every adapter:

- the protection level defaults to ``unknown``: a registry that does not say is never read
  as "unprotected";
- addresses are kept only for an unprotected person (``none``); for any other level they are
  dropped on construction, so no later step can store them by mistake.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class RegistryName(StrEnum):
    LADOK = "ladok"
    FS = "fs"
    NAVET = "navet"
    SPAR = "spar"
    FOLKEREGISTERET = "folkeregisteret"


class ProtectionLevel(StrEnum):
    """How a person's address is protected.

    ``confidential``: Swedish sekretessmarkering, Norwegian fortrolig. ``protected``: Swedish
    skyddad folkbokföring, Norwegian strengt fortrolig, or a protected Ladok identity.
    ``unknown``: the registry did not say, which is treated like protection.
    """

    NONE = "none"
    CONFIDENTIAL = "confidential"
    PROTECTED = "protected"
    UNKNOWN = "unknown"


class AddressKind(StrEnum):
    """Which of a person's addresses: registered (folkbokföring/bosted), postal, foreign."""

    REGISTERED = "registered"
    POSTAL = "postal"
    FOREIGN = "foreign"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Frozen):
    kind: AddressKind
    care_of: str | None = None
    lines: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


class Degree(_Frozen):
    """A degree or qualification awarded.

    ``title`` is the title in the register's first language (Swedish, Norwegian), else
    English; ``key`` the register's own id of the certificate (Ladok ``UtfardatBevisUID``);
    ``national_type`` the national degree type (Ladok: its UID, the register's own list of
    types has no documented path); ``institution`` the issuing institution's id.
    """

    title: str
    code: str | None = None
    awarded_on: date | None = None
    programme: str | None = None
    level: str | None = None
    key: str | None = None
    title_en: str | None = None
    national_type: str | None = None
    credits: Decimal | None = None
    completed_on: date | None = None
    institution: str | None = None


class Programme(_Frozen):
    """A programme the person was admitted to, with the period of the study right."""

    code: str
    name: str | None = None
    start: date | None = None
    end: date | None = None
    status: str | None = None


class Enrolment(_Frozen):
    """A course registration and its study period."""

    code: str
    name: str | None = None
    credits: Decimal | None = None
    start: date | None = None
    end: date | None = None


class StudyFacts(_Frozen):
    """What a student register (Ladok, FS) knows about studies.

    ``credits`` is the sum of passed (attested) results; None when the register gave none.
    """

    degrees: tuple[Degree, ...] = ()
    programmes: tuple[Programme, ...] = ()
    enrolments: tuple[Enrolment, ...] = ()
    credits: Decimal | None = None


class RegistryPerson(_Frozen):
    """One person as one registry sees them.

    ``national_id`` is the canonical key (see :mod:`plugins.identity`); ``registry_ref`` is the
    registry's own id where it has one (Ladok student UID, FS personløpenummer).
    ``deceased``/``emigrated`` are None when the registry does not report them. ``emails`` and
    ``phones`` are what a student register holds; enrichment never writes them over what the
    person told us.
    """

    source: RegistryName
    national_id: str
    registry_ref: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    protection: ProtectionLevel = ProtectionLevel.UNKNOWN
    addresses: tuple[Address, ...] = ()
    deceased: bool | None = None
    deceased_on: date | None = None
    emigrated: bool | None = None
    emigrated_on: date | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    study: StudyFacts | None = None

    @model_validator(mode="before")
    @classmethod
    def _withhold_protected_addresses(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("protection", ProtectionLevel.UNKNOWN) != (
            ProtectionLevel.NONE
        ):
            return {**data, "addresses": ()}
        return data

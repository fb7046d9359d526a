"""Degree events of a student register's feed, in one register-neutral shape (pure).

Ladok publishes a change to an issued certificate (``UtfardatBevis``) as one of these events
(names from Ladok's examen schema): issued (``UtfardatBevisEvent``), corrected
(``UtfardatBevisRattatEvent``, and the deprecated ``UtfardatBevisUppdateradEvent`` it
replaced), changed (``UtfardatBevisAndratEvent``), a new national degree type
(``UtfardatBevisNyNationellBevistypEvent``) — all four carry the whole certificate — removed
(``UtfardatBevisBorttagetEvent``) and moved to the student identity that replaced the old
one, the same physical person (``UtfardatBevisFlyttatEvent``: only the certificate and the
new ``StudentUID``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class DegreeEventKind(StrEnum):
    ISSUED = "issued"
    CORRECTED = "corrected"
    CHANGED = "changed"
    REMOVED = "removed"
    MOVED = "moved"


LADOK_EVENTS: dict[str, DegreeEventKind] = {
    "UtfardatBevisEvent": DegreeEventKind.ISSUED,
    "UtfardatBevisRattatEvent": DegreeEventKind.CORRECTED,
    "UtfardatBevisUppdateradEvent": DegreeEventKind.CORRECTED,
    "UtfardatBevisAndratEvent": DegreeEventKind.CHANGED,
    "UtfardatBevisNyNationellBevistypEvent": DegreeEventKind.CHANGED,
    "UtfardatBevisBorttagetEvent": DegreeEventKind.REMOVED,
    "UtfardatBevisFlyttatEvent": DegreeEventKind.MOVED,
}


class DegreeEvent(BaseModel):
    """One change to one issued certificate, as the feed published it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DegreeEventKind
    certificate: str
    student: str | None = None
    title_ref: str | None = None
    national_type: str | None = None
    issued_on: date | None = None
    completed_on: date | None = None
    credits: Decimal | None = None
    institution: str | None = None


class DegreeTitle(BaseModel):
    """A degree title of the register's reference data (Ladok ``Bevisbenamning``)."""

    model_config = ConfigDict(frozen=True)

    code: str | None = None
    sv: str | None = None
    en: str | None = None

"""What the registries know about the people of a registration workload.

One place for the registry facts the benchmarks and the reliability tests seed the sandbox
with, so both measure and check the same kinds of people: a degree's worth of passed
credits (the alumni rule holds), too few credits (it does not), and a registered address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar, Generic, TypeVar

from stdnum import luhn

CaseT = TypeVar("CaseT")

DEGREE = [{"code": "DA1001", "name": "Datateknik", "credits": "90", "start": "2010-08-30",
           "end": "2012-06-03", "passed_on": "2012-06-01"}]
"""Ladok courses of a graduate: 90 passed credits."""

FEW_CREDITS = [{"code": "DA1002", "name": "Intro", "credits": "7.5", "start": "2020-08-31",
                "end": "2020-10-25", "passed_on": "2020-10-20"}]
"""Ladok courses of someone who took one short course."""

ADDRESS = [{"kind": "registered", "lines": ["Storgatan 1"], "postal_code": "11122",
            "city": "STOCKHOLM"}]
"""Navet's registered address (never written for a protected identity)."""


def personnummer_of(index: int, first_born: date) -> str:
    """Person ``index``'s valid 12-digit personnummer: one birth date each from
    ``first_born``, birth number 238 and its Luhn check digit."""
    born = first_born + timedelta(days=index)
    return born.strftime("%Y%m%d") + "238" + luhn.calc_check_digit(born.strftime("%y%m%d") + "238")


@dataclass(frozen=True)
class WorkloadPerson(Generic[CaseT]):
    """Person ``index`` of a workload, of one kind of registration (``case``); each workload
    gives its people their own range of birth dates (``FIRST_BORN``)."""

    FIRST_BORN: ClassVar[date] = date(1950, 1, 1)
    index: int
    case: CaseT

    @property
    def national_id(self) -> str:
        """A valid 12-digit personnummer, one birth date per person."""
        return personnummer_of(self.index, self.FIRST_BORN)

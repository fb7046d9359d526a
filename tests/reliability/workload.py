"""A mixed workload of registrations for the reliability tests, and what must hold after it.

People already in Dataverse (registered alumnus, alumnus, student), new people the registries
know (a degree, a protected identity, too few credits), new people nobody knows, and new
people who register twice with different e-mail addresses. :func:`seed` puts them in the
sandbox and the registries; :func:`submit` creates their registrations as the form does;
:class:`Writes` counts the committed updates of each registration; :func:`check` asserts the
invariants, read straight from the store:

- every registration has the status its case allows (one of each for a pair);
- every registration was written exactly once (one committed update);
- one person per real person (per identity number), and no other person created;
- one open review task per registration in review, none for the others;
- no address on a protected identity.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from bench.workload import ADDRESS, DEGREE, FEW_CREDITS, WorkloadPerson
from plugins.core.schema_map import SchemaMap
from plugins.registration.model import Status
from sandbox.app import Sandbox
from sandbox.store import ChangeEvent

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pipeline_env import PipelineEnv

MAP = SchemaMap()
REG, CONTACT, TASK = MAP.registration, MAP.contact, MAP.task
REGISTERED = REG.status_values[Status.APPROVED_REGISTERED_ALUMNUS]
APPROVED = REG.status_values[Status.APPROVED_ALUMNUS]
NOT_APPROVED = REG.status_values[Status.NOT_APPROVED]
ALUMNUS, REGISTERED_ALUMNUS, STUDENT = (
    str(CONTACT.category_values[c]) for c in ("Alumnus", "RegisteredAlumnus", "Student")
)


@dataclass(frozen=True)
class Case:
    """Who a person is to Dataverse and the registries, and what their registration gets."""

    name: str
    status: int
    categories: str | None = None  # in Dataverse with these categories; None: new
    courses: list[dict[str, str]] | None = None  # None: unknown to Ladok
    protection: str | None = None  # None: unknown to Navet
    registrations: int = 1


CASES = (
    Case("registered alumnus", REGISTERED, categories=f"{ALUMNUS},{REGISTERED_ALUMNUS}"),
    Case("alumnus", APPROVED, categories=ALUMNUS),
    Case("student", NOT_APPROVED, categories=STUDENT),
    Case("new, degree", APPROVED, courses=DEGREE, protection="none"),
    Case("new, protected identity", APPROVED, courses=DEGREE, protection="protected"),
    Case("new, 7.5 credits", NOT_APPROVED, courses=FEW_CREDITS, protection="none"),
    Case("new, unknown to the registries", NOT_APPROVED),
    # The first registration creates the person, the second finds them.
    Case("new, degree, registers twice", APPROVED, courses=DEGREE, protection="none",
         registrations=2),
)


@dataclass(frozen=True)
class Person(WorkloadPerson[Case]):
    """One real person of the workload."""

    FIRST_BORN: ClassVar[date] = date(1940, 1, 1)

    def form(self, copy: int) -> dict[str, Any]:
        """Registration ``copy`` as the form fills it in (the number as people type it)."""
        number = self.national_id
        return {
            REG.first_name: "Ada", REG.last_name: f"Person{self.index}",
            REG.email: f"person{self.index}.{copy}@example.org",
            REG.national_id: f"{number[:8]}-{number[8:]}",
        }


@dataclass(frozen=True)
class Submitted:
    """A registration created for a person."""

    person: Person
    registration_id: str


class Writes:
    """Counts the committed updates of each registration (a listener on the store)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        sandbox.store.listeners.append(self)

    def before_commit(self, events: list[ChangeEvent]) -> None:
        """Nothing: a transaction may still roll back."""

    def after_commit(self, events: list[ChangeEvent]) -> None:
        """Count the updates of registrations."""
        with self._lock:
            self.counts.update(e.row_id for e in events
                               if e.table == REG.table and e.message == "Update")


def people(count: int) -> list[Person]:
    """People, the cases in turn, with at least ``count`` registrations between them."""
    result: list[Person] = []
    while sum(p.case.registrations for p in result) < count:
        index = len(result)
        result.append(Person(index, CASES[index % len(CASES)]))
    return result


def seed(everyone: list[Person]) -> dict[str, Any]:
    """The people already in Dataverse, and what the registries know."""
    contacts, ladok, navet = [], {}, {}
    for person in everyone:
        case, number = person.case, person.national_id
        name = {"first_name": "Ada", "last_name": f"Person{person.index}"}
        if case.categories is not None:
            contacts.append({CONTACT.first_name: "Ada", CONTACT.last_name: f"Person{person.index}",
                             CONTACT.emails[0]: f"person{person.index}.0@example.org",
                             CONTACT.national_id: number, CONTACT.categories: case.categories})
        if case.courses is not None:
            ladok[number] = {**name, "courses": case.courses}
        if case.protection is not None:
            navet[number] = {**name, "protection": case.protection, "addresses": ADDRESS}
    return {"rows": {CONTACT.table: contacts}, "registries": {"ladok": ladok, "navet": navet}}


def submit(env: PipelineEnv, everyone: list[Person]) -> list[Submitted]:
    """Create every registration (each person's copies), as the self-service form does."""
    submitted = []
    for person in everyone:
        for copy in range(person.case.registrations):
            submitted.append(Submitted(person, env.create_registration(**person.form(copy))))
    return submitted


def check(
    sandbox: Sandbox, everyone: list[Person], submitted: list[Submitted], writes: Writes
) -> None:
    """Assert the workload's invariants (see the module docstring)."""
    store = sandbox.store
    tasks = Counter(
        getattr(row.values.get(TASK.regarding), "id", None)
        for row in store.rows(TASK.table) if row.values.get(TASK.state) == TASK.open_state
    )
    statuses: dict[int, list[int]] = {}
    for item in submitted:
        row = store.get(REG.table, item.registration_id)
        assert row is not None
        status = row.values.get(REG.status)
        statuses.setdefault(item.person.index, []).append(status)
        assert writes.counts[item.registration_id] == 1, item.person.case.name
        assert tasks[item.registration_id] == (1 if status == NOT_APPROVED else 0)
    for person in everyone:
        expected = [person.case.status] + [REGISTERED] * (person.case.registrations - 1)
        assert sorted(statuses[person.index]) == sorted(expected), person.case.name
    contacts = Counter(row.values.get(CONTACT.national_id) for row in store.rows(CONTACT.table))
    assert contacts == Counter(person.national_id for person in everyone)
    protected = [row for row in store.rows(CONTACT.table)
                 if row.values.get(CONTACT.protection_level)
                 == CONTACT.protection_values["protected"]]
    assert len(protected) == sum(1 for p in everyone if p.case.protection == "protected")
    for row in protected:
        assert not any(row.values.get(c) for c in (CONTACT.address_line1, CONTACT.city))

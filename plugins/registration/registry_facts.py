"""What the registries say about a person nobody matched.

The institution names one student register (Ladok or FS: studies, for the alumni rule) and
one population register (Navet, SPAR or Folkeregisteret: name, address, protection) in
:class:`~plugins.core.settings.RegistrationSettings`; either may be ``none``. Both are asked
by canonical identity number. The answer says whether any of them knows the person, which
ones did, the study facts (and the student register's own record of the person, whose id
finds the degrees recorded from its event feed), and the person to create the contact
from: the population register's view when it has one (it is the authority on names and
addresses), else the student register's, never with an address when either register
marks the identity as protected.

A batch of registrations asks a register that looks people up in batches
(``supports_batch``: Folkeregisteret with the ``offentlig-med-hjemmel`` rights package) once
for every number of the batch (:meth:`Registries.prefetched`); the others are still asked
person by person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from plugins.core.settings import RegistrationSettings
from plugins.identity import Country
from plugins.registries.errors import RegistryError
from plugins.registries.models import ProtectionLevel, RegistryName, RegistryPerson, StudyFacts
from plugins.registries.protocol import RegistryAdapter

from .decision import RegistryAnswer

_STRICTNESS = {
    ProtectionLevel.NONE: 0,
    ProtectionLevel.CONFIDENTIAL: 1,
    ProtectionLevel.PROTECTED: 2,
}


class RegistryConfigurationError(ValueError):
    """The registries named in the registration settings cannot be used as configured."""


class RegistryFacts(BaseModel):
    """The registries' answer about one person."""

    model_config = ConfigDict(frozen=True)

    answer: RegistryAnswer = RegistryAnswer.NOT_ASKED
    source: str | None = None
    study: StudyFacts | None = None
    person: RegistryPerson | None = None
    student: RegistryPerson | None = None


@dataclass(frozen=True)
class _BatchAnswer:
    """One register's answer to a batch look-up: each number asked, by canonical number
    (None: the register does not know the person), or the error the look-up failed with."""

    people: Mapping[str, RegistryPerson | None]
    error: RegistryError | None = None


class Registries:
    """The student and population register the registration pipeline asks."""

    def __init__(
        self, student: RegistryAdapter | None = None, population: RegistryAdapter | None = None
    ) -> None:
        self.student = student
        self.population = population
        self._batches: dict[RegistryName, _BatchAnswer] = {}

    @classmethod
    def from_adapters(
        cls, adapters: Mapping[RegistryName, RegistryAdapter], settings: RegistrationSettings
    ) -> Registries:
        """Pick the configured registers from the enabled adapters; close the others."""
        student = _pick(adapters, settings.student_registry, settings.national_id_country)
        population = _pick(adapters, settings.population_registry, settings.national_id_country)
        for adapter in adapters.values():
            if adapter is not student and adapter is not population:
                adapter.close()
        return cls(student, population)

    def close(self) -> None:
        """Release the adapters' connections."""
        for adapter in (self.student, self.population):
            if adapter is not None:
                adapter.close()

    def prefetched(self, national_ids: Sequence[str]) -> Registries:
        """These registers, with each one that looks people up in batches asked once for
        every number of ``national_ids`` (canonical); :meth:`ask` on the result answers
        those numbers from that look-up and asks the other registers person by person.

        A failed batch look-up is not raised here: :meth:`ask` raises its error for each
        number of the batch, as a failed look-up of that one person would, so only the
        registrations that needed the register fail.
        """
        view = Registries(self.student, self.population)
        wanted = list(dict.fromkeys(national_ids))
        if not wanted:
            return view
        for adapter in (self.student, self.population):
            if adapter is None or not adapter.supports_batch:
                continue
            try:
                answer = _BatchAnswer(adapter.lookup_many(wanted))
            except RegistryError as exc:
                answer = _BatchAnswer(dict.fromkeys(wanted), exc)
            view._batches[adapter.name] = answer
        return view

    def ask(self, national_id: str | None) -> RegistryFacts:
        """Look ``national_id`` (canonical) up in each register.

        Without a configured register the answer is ``NOT_CONFIGURED``; without an identity
        number it is ``NOT_ASKED``.

        A registry failure raises :class:`~plugins.registries.errors.RegistryError`.
        """
        if self.student is None and self.population is None:
            return RegistryFacts(answer=RegistryAnswer.NOT_CONFIGURED)
        if national_id is None:
            return RegistryFacts()
        student = self._lookup(self.student, national_id)
        population = self._lookup(self.population, national_id)
        found = [p for p in (student, population) if p is not None]
        if not found:
            return RegistryFacts(answer=RegistryAnswer.NOT_FOUND)
        return RegistryFacts(
            answer=RegistryAnswer.FOUND,
            source=", ".join(p.source.value for p in found),
            study=student.study if student else None,
            person=_protected_as_strictly(found[-1], found),
            student=student,
        )

    def _lookup(self, adapter: RegistryAdapter | None, national_id: str) -> RegistryPerson | None:
        if adapter is None:
            return None
        batch = self._batches.get(adapter.name)
        # A number the batch did not carry is asked on its own, so a caller asking outside
        # the batch still gets the register's answer.
        if batch is None or national_id not in batch.people:
            return adapter.lookup(national_id)
        if batch.error is not None:
            raise batch.error
        return batch.people[national_id]


def _pick(
    adapters: Mapping[RegistryName, RegistryAdapter], name: str, country: Country
) -> RegistryAdapter | None:
    if name == "none":
        return None
    adapter = adapters.get(RegistryName(name))
    if adapter is None:
        raise RegistryConfigurationError(
            f"the registration pipeline asks {name}, but REGISTRIES__{name.upper()}__ENABLED "
            "is not true"
        )
    if adapter.country is not country:
        raise RegistryConfigurationError(
            f"{name} serves {adapter.country.value} identity numbers, but registrations carry "
            f"{country.value} numbers (REGISTRATION__NATIONAL_ID_COUNTRY)"
        )
    return adapter


def _protected_as_strictly(
    person: RegistryPerson, views: list[RegistryPerson]
) -> RegistryPerson:
    """``person`` with the strictest protection any register stated explicitly."""
    stated = [v.protection for v in views if v.protection in _STRICTNESS]
    strictest = max(stated, key=_STRICTNESS.__getitem__, default=person.protection)
    if person.protection not in _STRICTNESS or _STRICTNESS[strictest] <= _STRICTNESS[
        person.protection
    ]:
        return person
    # Validated anew so the model drops the address for the stricter level.
    return RegistryPerson.model_validate({**person.model_dump(), "protection": strictest})

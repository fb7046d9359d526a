"""A batch's registry look-ups: registers with batch look-ups asked once, the others person
by person, the answers the same as one look-up at a time (fake adapters, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from plugins.identity import Country
from plugins.registration.decision import RegistryAnswer
from plugins.registration.registry_facts import Registries
from plugins.registries.errors import RegistryError, RegistryUnavailable
from plugins.registries.models import ProtectionLevel, RegistryName, RegistryPerson

KARI, OLA, NOBODY = "09052400284", "01018036742", "15050551242"


class FakeRegister:
    """A register that knows ``people`` and records every call; ``fail`` makes every
    look-up fail."""

    country = Country.NO

    def __init__(
        self, name: RegistryName, people: dict[str, RegistryPerson], *, batch: bool,
        fail: RegistryError | None = None,
    ) -> None:
        self.name = name
        self.people = people
        self.batch = batch
        self.fail = fail
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    @property
    def supports_batch(self) -> bool:
        return self.batch

    def lookup(self, national_id: str) -> RegistryPerson | None:
        self.calls.append(("lookup", (national_id,)))
        if self.fail is not None:
            raise self.fail
        return self.people.get(national_id)

    def lookup_many(self, national_ids: Sequence[str]) -> dict[str, RegistryPerson | None]:
        self.calls.append(("lookup_many", tuple(national_ids)))
        if self.fail is not None:
            raise self.fail
        return {n: self.people.get(n) for n in national_ids}

    def close(self) -> None:
        """Nothing to release."""


def person(source: RegistryName, national_id: str, protection: ProtectionLevel) -> RegistryPerson:
    return RegistryPerson(source=source, national_id=national_id, first_name="Kari",
                          last_name="Nordmann", protection=protection)


def registers(fail: RegistryError | None = None) -> tuple[FakeRegister, FakeRegister]:
    """FS (no batch look-up) and Folkeregisteret (in bulk, failing with ``fail``)."""
    fs = FakeRegister(RegistryName.FS, {
        KARI: person(RegistryName.FS, KARI, ProtectionLevel.UNKNOWN),
    }, batch=False)
    folkeregisteret = FakeRegister(RegistryName.FOLKEREGISTERET, {
        KARI: person(RegistryName.FOLKEREGISTERET, KARI, ProtectionLevel.NONE),
        OLA: person(RegistryName.FOLKEREGISTERET, OLA, ProtectionLevel.PROTECTED),
    }, batch=True, fail=fail)
    return fs, folkeregisteret


def test_the_batch_register_is_asked_once_and_answers_as_one_at_a_time() -> None:
    fs, folkeregisteret = registers()
    one_at_a_time = Registries(fs, folkeregisteret)
    expected = {n: one_at_a_time.ask(n) for n in (KARI, OLA, NOBODY)}
    fs.calls.clear()
    folkeregisteret.calls.clear()

    batch = one_at_a_time.prefetched([KARI, OLA, NOBODY, KARI])
    answers = {n: batch.ask(n) for n in (KARI, OLA, NOBODY)}

    assert answers == expected
    assert answers[NOBODY].answer is RegistryAnswer.NOT_FOUND
    assert answers[OLA].person is not None
    assert answers[OLA].person.protection is ProtectionLevel.PROTECTED
    assert folkeregisteret.calls == [("lookup_many", (KARI, OLA, NOBODY))]
    # The register without batch look-ups is still asked person by person.
    assert fs.calls == [("lookup", (KARI,)), ("lookup", (OLA,)), ("lookup", (NOBODY,))]


def test_a_failed_batch_look_up_fails_each_of_its_numbers_only() -> None:
    down = RegistryUnavailable("folkeregisteret", "HTTP 500 (after 2 attempts)")
    fs, folkeregisteret = registers(fail=down)
    batch = Registries(fs, folkeregisteret).prefetched([KARI, OLA])

    for number in (KARI, OLA):
        with pytest.raises(RegistryError) as caught:
            batch.ask(number)
        assert caught.value is down
    assert folkeregisteret.calls == [("lookup_many", (KARI, OLA))]


def test_nothing_is_looked_up_for_an_empty_batch_and_a_number_outside_it_is_asked_alone() -> None:
    fs, folkeregisteret = registers()
    registries = Registries(fs, folkeregisteret)
    assert registries.prefetched([]).ask(KARI).answer is RegistryAnswer.FOUND
    assert folkeregisteret.calls == [("lookup", (KARI,))]

    folkeregisteret.calls.clear()
    registries.prefetched([KARI]).ask(OLA)
    assert folkeregisteret.calls == [("lookup_many", (KARI,)), ("lookup", (OLA,))]

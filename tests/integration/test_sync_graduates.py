"""New graduates against the sandbox and the FS emulator: categories, resume, tombstones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sync_harness import SCHEMA, add_contact, client_for, seeded_registry

from plugins.core.settings import SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category
from plugins.registries import RegistryUnavailable
from plugins.registries.models import RegistryName
from plugins.registries.protocol import RegistryAdapter
from plugins.sync.graduates import CHECKPOINT, NewGraduates
from plugins.sync.repository import Checkpoints, Tombstones
from plugins.sync.tombstone import identity_hash
from sandbox.app import Sandbox

NOW = datetime(2025, 6, 23, 3, 0, tzinfo=UTC)
KEY = "t" * 40
GRADUATE = "09052400284"
STUDYING = "41018036736"
ERASED = "01018036742"
DEGREE = {"code": "MAMN", "title": "Master i matematikk", "awarded_on": "2025-06-20"}
FS = {
    GRADUATE: {"first_name": "Kari", "degrees": [DEGREE]},
    STUDYING: {"first_name": "Ola"},
    ERASED: {"first_name": "Per", "degrees": [DEGREE]},
}
C = SCHEMA.contact
STUDENT = str(C.category_values[Category.STUDENT])
STUDENT_AND_ALUMNUS = C.categories_text(frozenset({Category.STUDENT, Category.ALUMNUS}))


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


@pytest.fixture
def fs(sandbox: Sandbox, tmp_path: Path) -> Iterator[RegistryAdapter]:
    with seeded_registry(sandbox, RegistryName.FS, FS, tmp_path / "k.pem") as adapter:
        yield adapter


def graduates(client: DataverseClient, registry: RegistryAdapter, **settings: int) -> NewGraduates:
    return NewGraduates(
        client,
        C,
        Checkpoints(client, SCHEMA.checkpoint),
        Tombstones(client, SCHEMA.tombstone),
        registry,
        SyncSettings.Graduates(enabled=True, student_registry="fs", **settings),
        KEY,
    )


def categories(client: DataverseClient, contact_id: str) -> str | None:
    row = client.get(C.entity_set, contact_id, select=(C.categories,))
    assert row is not None
    return row[C.categories]


def students(client: DataverseClient) -> dict[str, str]:
    return {
        number: add_contact(client, mp_nationalid=number, mp_personcategories=STUDENT)
        for number in (GRADUATE, STUDYING, ERASED)
    }


def test_graduated_students_become_alumni_and_erased_people_are_skipped(
    client: DataverseClient, fs: RegistryAdapter
) -> None:
    ids = students(client)
    Tombstones(client, SCHEMA.tombstone).add(identity_hash(ERASED, KEY), NOW)
    report = graduates(client, fs).run(NOW)
    assert (report.checked, report.graduated, report.erased_skipped) == (3, 1, 1)
    assert report.finished
    assert categories(client, ids[GRADUATE]) == STUDENT_AND_ALUMNUS
    assert categories(client, ids[STUDYING]) == STUDENT
    assert categories(client, ids[ERASED]) == STUDENT
    checkpoint = Checkpoints(client, SCHEMA.checkpoint).read(CHECKPOINT)
    assert (checkpoint.value, checkpoint.last_successful_run) == (None, NOW)

    again = graduates(client, fs).run(NOW)
    assert (again.checked, again.graduated) == (2, 0)  # the new alumnus is no candidate


def test_registry_outage_leaves_the_checkpoint_and_the_next_run_resumes(
    sandbox: Sandbox, client: DataverseClient, fs: RegistryAdapter
) -> None:
    students(client)
    first = graduates(client, fs, batch_size=1, max_students_per_run=1).run(NOW)
    assert (first.checked, first.finished) == (1, False)
    checkpoints = Checkpoints(client, SCHEMA.checkpoint)
    position = checkpoints.read(CHECKPOINT).value
    assert position is not None

    sandbox.registries.fs.script("503", "503")
    with pytest.raises(RegistryUnavailable):
        graduates(client, fs, batch_size=1).run(NOW)
    assert checkpoints.read(CHECKPOINT).value == position
    assert checkpoints.read(CHECKPOINT).last_successful_run is None

    resumed = graduates(client, fs, batch_size=1).run(NOW)
    assert (resumed.checked, resumed.finished) == (2, True)
    ids = [row[C.id] for row in client.query(C.entity_set, select=(C.id, C.categories))]
    alumni = [i for i in ids if categories(client, i) == STUDENT_AND_ALUMNUS]
    assert len(alumni) == 2  # the graduate and (no tombstone here) the other degree holder

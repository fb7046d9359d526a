"""The Ladok degree feed against the sandbox and the Ladok emulator's Atom feed: degrees
recorded, graduates made alumni, corrections, removals and moves, exactly once, resumable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pipeline_env import personnummer
from sync_harness import SCHEMA, add_contact, client_for, rows

from plugins.core.settings import RegistrySettings, SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category
from plugins.registries import MalformedResponse
from plugins.registries.ladok_feed import LadokFeedReader
from plugins.sync.degree_feed import CHECKPOINT, DegreeFeed, DegreeFeedReport
from plugins.sync.repository import Checkpoints, Tombstones
from plugins.sync.tombstone import identity_hash
from sandbox.app import Sandbox
from sandbox.registries.ladok import TRUNCATED
from sandbox.registries.seed import SeedDegree

NOW = datetime(2025, 6, 23, 3, 0, tzinfo=UTC)
KEY = "k" * 40
GRADUATE = personnummer("19900101", "238")
NEWCOMER = personnummer("19850505", "238")
ERASED = personnummer("19770606", "238")
OTHER = personnummer("19920202", "239")
MASTER = {"code": "F2MSC", "title": "Teknologie masterexamen", "title_en": "Master of Science",
          "awarded_on": "2019-06-14", "completed_on": "2019-06-01", "credits": "120",
          "national_type": "Masterexamen"}
C, D = SCHEMA.contact, SCHEMA.degree
ALUMNUS = str(C.category_values[Category.ALUMNUS])


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


@pytest.fixture
def reader(sandbox: Sandbox, tmp_path: Path) -> Iterator[LadokFeedReader]:
    http = RegistrySettings.Http(max_attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.02)
    settings = sandbox.registries.client_settings(tmp_path / "k.pem", http=http)
    instance = LadokFeedReader.from_settings(settings.ladok, settings.http)
    try:
        yield instance
    finally:
        instance.close()


def seed(sandbox: Sandbox, people: dict[str, Any], page_size: int = 100) -> None:
    sandbox.registries.ladok.feed.page_size = page_size
    sandbox.registries.load_seed({"ladok": people})


def run(client: DataverseClient, reader: LadokFeedReader, **settings: Any) -> DegreeFeedReport:
    feed = SyncSettings.DegreeFeed(enabled=True, **settings)
    return DegreeFeed(client, SCHEMA, reader, feed, KEY).run(NOW)


def degrees(client: DataverseClient) -> list[dict[str, Any]]:
    return rows(client, D.entity_set, orderby=())


def contact(client: DataverseClient, contact_id: str) -> dict[str, Any]:
    row = client.get(C.entity_set, contact_id, select=(C.categories, C.student_ref))
    assert row is not None
    return row


def test_a_degree_event_records_the_degree_and_makes_the_person_an_alumnus(
    sandbox: Sandbox, client: DataverseClient, reader: LadokFeedReader
) -> None:
    person = add_contact(client, mp_nationalid=GRADUATE, mp_personcategories="100000002")
    seed(sandbox, {GRADUATE: {"first_name": "Greta", "degrees": [MASTER]},
                   NEWCOMER: {"first_name": "Nils", "degrees": [MASTER]}})
    report = run(client, reader)
    assert (report.degree_events, report.recorded, report.alumni) == (2, 2, 1)
    assert (report.without_contact, report.finished) == (1, True)
    uid = sandbox.registries.ladok.ref_of(GRADUATE)
    assert contact(client, person)[C.student_ref] == uid
    assert set(contact(client, person)[C.categories].split(",")) == {"100000000", "100000002"}
    [row] = [r for r in degrees(client) if r[D.student_ref] == uid]
    assert (row[D.title_sv], row[D.title_en], row[D.code]) == (
        "Teknologie masterexamen", "Master of Science", "F2MSC")
    assert (row[D.issued_on], row[D.completed_on]) == ("2019-06-14", "2019-06-01")
    assert Decimal(str(row[D.credits])) == 120
    assert (row[D.institution], row[D.source], row[D.removed]) == ("96", "ladok", False)
    assert row[f"_{D.person}_value"] == person
    assert row[D.key].startswith("ladok:")
    [unlinked] = [r for r in degrees(client) if r[D.student_ref] != uid]
    assert unlinked[f"_{D.person}_value"] is None  # found again by student id at registration


def test_a_feed_read_twice_records_nothing_twice(
    sandbox: Sandbox, client: DataverseClient, reader: LadokFeedReader
) -> None:
    add_contact(client, mp_nationalid=GRADUATE)
    seed(sandbox, {GRADUATE: {"degrees": [MASTER]}})
    run(client, reader)
    before = degrees(client)
    again = run(client, reader)
    assert (again.events, again.recorded) == (0, 0)
    # Forgetting the checkpoint reads the whole feed again: the same rows, no new ones.
    Checkpoints(client, SCHEMA.checkpoint).save_position(CHECKPOINT, None)
    replayed = run(client, reader)
    assert replayed.recorded == 1
    after = degrees(client)
    assert [r[D.id] for r in after] == [r[D.id] for r in before]
    assert [r[D.issued_on] for r in after] == [r[D.issued_on] for r in before]


def test_corrected_removed_and_moved_events_change_the_record(
    sandbox: Sandbox, client: DataverseClient, reader: LadokFeedReader
) -> None:
    ladok = sandbox.registries.ladok
    first = add_contact(client, mp_nationalid=GRADUATE)
    second = add_contact(client, mp_nationalid=OTHER, emailaddress1="other@example.se")
    seed(sandbox, {GRADUATE: {"degrees": [MASTER]}, OTHER: {"first_name": "Olle"}})
    run(client, reader)
    issued = ladok.certificate(GRADUATE, SeedDegree.model_validate(MASTER))

    ladok.publish("UtfardatBevisRattatEvent", replace(issued, issued_on=date(2019, 6, 20)))
    run(client, reader)
    [row] = degrees(client)
    assert row[D.issued_on] == "2019-06-20"

    ladok.publish("UtfardatBevisFlyttatEvent", issued, to_student=ladok.ref_of(OTHER))
    run(client, reader)
    [row] = degrees(client)
    assert (row[D.student_ref], row[f"_{D.person}_value"]) == (ladok.ref_of(OTHER), second)
    assert row[D.issued_on] == "2019-06-20"  # a move keeps what was recorded
    assert contact(client, second)[C.student_ref] == ladok.ref_of(OTHER)

    ladok.publish("UtfardatBevisBorttagetEvent", issued)
    run(client, reader)
    [row] = degrees(client)
    assert row[D.removed] is True
    assert ALUMNUS in contact(client, first)[C.categories]


def test_a_broken_page_is_read_again_and_never_skips_events(
    sandbox: Sandbox, client: DataverseClient, reader: LadokFeedReader
) -> None:
    ladok = sandbox.registries.ladok
    seed(sandbox, {GRADUATE: {"degrees": [MASTER]}}, page_size=10)
    ladok.feed.publish_other(25)
    ladok.script(TRUNCATED)
    report = run(client, reader)
    assert (report.events, report.recorded, report.finished) == (26, 1, True)

    ladok.feed.publish_other(3)
    seed(sandbox, {NEWCOMER: {"degrees": [MASTER]}}, page_size=10)
    checkpoints = Checkpoints(client, SCHEMA.checkpoint)
    position = checkpoints.read(CHECKPOINT).value
    ladok.script(TRUNCATED, TRUNCATED, TRUNCATED)
    with pytest.raises(MalformedResponse):
        run(client, reader)
    assert checkpoints.read(CHECKPOINT).value == position
    resumed = run(client, reader)
    assert (resumed.events, resumed.recorded) == (4, 1)
    assert len(degrees(client)) == 2


def test_the_first_run_starts_at_the_configured_page_and_later_runs_catch_up(
    sandbox: Sandbox, client: DataverseClient, reader: LadokFeedReader
) -> None:
    ladok = sandbox.registries.ladok
    seed(sandbox, {GRADUATE: {"degrees": [MASTER]}}, page_size=10)  # event 1, page 1
    ladok.feed.publish_other(49)  # pages 1-5
    first = run(client, reader, start_page=3, max_pages_per_run=2)
    assert (first.pages, first.events, first.recorded, first.finished) == (2, 20, 0, False)
    seed(sandbox, {NEWCOMER: {"degrees": [MASTER]}}, page_size=10)  # page 6
    rest = run(client, reader, start_page=3)  # page 4 again (nothing new on it), 5 and 6
    assert (rest.pages, rest.events, rest.recorded, rest.finished) == (3, 11, 1, True)
    assert [r[D.student_ref] for r in degrees(client)] == [ladok.ref_of(NEWCOMER)]


def test_an_erased_persons_degree_is_not_recorded(
    sandbox: Sandbox, client: DataverseClient, reader: LadokFeedReader
) -> None:
    Tombstones(client, SCHEMA.tombstone).add(identity_hash(ERASED, KEY), NOW)
    seed(sandbox, {ERASED: {"degrees": [MASTER]}})
    report = run(client, reader)
    assert (report.degree_events, report.recorded, report.erased_skipped) == (1, 0, 1)
    assert degrees(client) == []


def test_a_degree_recorded_before_its_person_existed_is_linked_by_the_next_run(
    sandbox: Sandbox, client: DataverseClient, reader: LadokFeedReader
) -> None:
    seed(sandbox, {NEWCOMER: {"degrees": [MASTER]}})
    assert run(client, reader).without_contact == 1
    # A registration creates the person with the student id, after the last run.
    uid = sandbox.registries.ladok.ref_of(NEWCOMER)
    person = add_contact(client, mp_nationalid=NEWCOMER, mp_studentref=uid)
    report = run(client, reader)
    assert (report.linked, report.events) == (1, 0)
    [row] = degrees(client)
    assert row[f"_{D.person}_value"] == person
    assert run(client, reader).linked == 0  # linked once

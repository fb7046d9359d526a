"""Erasure requests against the sandbox: the office's row, the timer's job, the CLI, and an
erased person not coming back through upkeep, the graduates job or a registration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sync_harness import SCHEMA, SandboxTokens, add_contact, client_for, rows, seeded_registry

from plugins.admin import connection
from plugins.cli import main
from plugins.core.events import DataverseEvent
from plugins.core.settings import RegistrationSettings, Settings, SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category, Status
from plugins.registration.service import RegistrationService
from plugins.registries.models import RegistryName
from plugins.sync.graduates import NewGraduates
from plugins.sync.jobs import SyncJobs
from plugins.sync.repository import Checkpoints, Tombstones
from plugins.sync.tombstone import identity_hash
from plugins.sync.upkeep import RegisterUpkeep
from sandbox.app import Sandbox

NOW = datetime(2025, 6, 23, 2, 0, tzinfo=UTC)
KEY = "e" * 40
SWEDE = "197010632391"
OTHER_SWEDE = "198112289874"
NORWEGIAN = "09052400284"
C = SCHEMA.contact
R = SCHEMA.erasure_request
REG = SCHEMA.registration
E = SCHEMA.email
STUDENT = str(C.category_values[Category.STUDENT])
HOME = {"kind": "registered", "lines": ["Exempelgatan 1"], "postal_code": "12345", "city": "STADEN"}


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def jobs(client: DataverseClient, mode: str = "delete") -> SyncJobs:
    settings = Settings(
        sync=SyncSettings(
            tombstone_key=KEY, erasure=SyncSettings.Erasure(enabled=True, mode=mode)
        )
    )
    return SyncJobs(settings, client)


def request(client: DataverseClient, **values: Any) -> str:
    record = {R.name: "Request 2025-06", R.status: R.status_values["requested"], **values}
    return str(client.create(R.entity_set, record).id)


def for_contact(contact_id: str) -> dict[str, str]:
    return {f"{R.person_nav}@odata.bind": odata.bind(C.entity_set, contact_id)}


def sent_email(client: DataverseClient, contact_id: str) -> str:
    record = {
        E.subject: "Welcome",
        E.description: "Dear Alma",
        E.direction: True,
        f"{E.regarding_contact_nav}@odata.bind": odata.bind(C.entity_set, contact_id),
    }
    return str(client.create(E.entity_set, record).id)


def registration(client: DataverseClient, national_id: str, **values: Any) -> str:
    record = {
        REG.name: "registration",
        REG.first_name: "Alma",
        REG.last_name: "Alumn",
        REG.email: "alma@example.se",
        REG.national_id: national_id,
        REG.status: REG.status_values[Status.RECEIVED],
        **values,
    }
    return str(client.create(REG.entity_set, record).id)


def contacts_with(client: DataverseClient, national_id: str) -> list[dict[str, Any]]:
    return rows(client, C.entity_set, select=(C.id,), filter=odata.eq(C.national_id, national_id))


def test_office_request_erases_the_person_and_the_row_keeps_no_identity_number(
    client: DataverseClient,
) -> None:
    person = add_contact(client, mp_nationalid=SWEDE)
    registration(client, SWEDE, **{f"{REG.person_nav}@odata.bind": odata.bind("contacts", person)})
    sent_email(client, person)
    by_contact = request(client, **for_contact(person))
    by_number = request(client, **{R.national_id: "19" + OTHER_SWEDE[2:8] + "-" + OTHER_SWEDE[8:]})
    invalid = request(client, **{R.national_id: "19701063239X"})

    report = jobs(client).erasure(NOW)

    assert report is not None and (report.done, report.failed) == (2, 1)
    assert rows(client, C.entity_set, select=(C.id,)) == []
    assert rows(client, REG.entity_set, select=(REG.id,)) == []
    assert rows(client, E.entity_set, select=(E.id,)) == []
    hashes = {row[SCHEMA.tombstone.identity_hash] for row in rows(client, "mp_tombstones")}
    assert hashes == {identity_hash(SWEDE, KEY), identity_hash(OTHER_SWEDE, KEY)}
    done = client.get(R.entity_set, by_number)
    assert done is not None
    assert done[R.status] == R.status_values["done"] and done[R.national_id] is None
    assert "no contact" in done[R.result] and done[R.processed_on]
    first = client.get(R.entity_set, by_contact)
    assert first is not None
    assert "contact deleted; 1 registration(s), 1 e-mail(s)" in first[R.result]
    refused = client.get(R.entity_set, invalid)
    assert refused is not None and refused[R.status] == R.status_values["failed"]
    # A second run finds nothing left to do.
    again = jobs(client).erasure(NOW)
    assert again is not None and again.processed == 0


def test_anonymise_mode_keeps_a_blank_inactive_contact(client: DataverseClient) -> None:
    person = add_contact(client, mp_nationalid=SWEDE, mobilephone="+46701234567")
    request(client, **for_contact(person))

    report = jobs(client, mode="anonymise").erasure(NOW)

    assert report is not None and report.done == 1
    row = client.get(C.entity_set, person)
    assert row is not None
    assert (row[C.last_name], row[C.first_name], row[C.emails[0]]) == ("Erased", None, None)
    assert (row[C.national_id], row[C.mobile_phone], row[C.channels]) == (None, None, None)
    assert row[C.no_communication] is True and row[C.state] == 1


def test_erased_person_does_not_come_back_through_upkeep_graduates_or_registration(
    sandbox: Sandbox, client: DataverseClient, tmp_path: Path
) -> None:
    swede = add_contact(client, mp_nationalid=SWEDE)
    student = add_contact(client, mp_nationalid=NORWEGIAN, mp_personcategories=STUDENT)
    request(client, **for_contact(swede))
    request(client, **for_contact(student))
    assert jobs(client).erasure(NOW).done == 2  # type: ignore[union-attr]
    tombstones = Tombstones(client, SCHEMA.tombstone)

    # An import that ignores tombstones brings both back; the jobs leave them alone.
    add_contact(client, mp_nationalid=SWEDE)
    add_contact(client, mp_nationalid=NORWEGIAN, mp_personcategories=STUDENT)
    navet_people = {SWEDE: {"first_name": "Test", "last_name": "T", "addresses": [HOME]}}
    with seeded_registry(sandbox, RegistryName.NAVET, navet_people, tmp_path / "n.pem") as navet:
        upkeep = RegisterUpkeep(
            client, C, tombstones, navet, SyncSettings.Upkeep(enabled=True), KEY
        ).run(NOW)
    assert (upkeep.erased_skipped, upkeep.refreshed) == (1, 0)
    degree = {"code": "MAMN", "title": "Master", "awarded_on": "2025-06-20"}
    fs_people = {NORWEGIAN: {"first_name": "Kari", "degrees": [degree]}}
    with seeded_registry(sandbox, RegistryName.FS, fs_people, tmp_path / "f.pem") as fs:
        graduates = NewGraduates(
            client, C, Checkpoints(client, SCHEMA.checkpoint), tombstones, fs,
            SyncSettings.Graduates(enabled=True, student_registry="fs"), KEY,
        ).run(NOW)
    assert (graduates.erased_skipped, graduates.graduated) == (1, 0)

    # A later registration is refused with its reason, and creates nobody.
    for row in rows(client, C.entity_set, select=(C.id,)):
        client.delete(C.entity_set, row[C.id])
    service = RegistrationService(
        client, RegistrationSettings(), SCHEMA, clock=lambda: NOW, tombstone_key=KEY
    )
    refused = service.process(registration(client, SWEDE), None)
    assert (refused.status, refused.reason) == ("NotApproved", "erased-person")
    assert contacts_with(client, SWEDE) == []
    row = client.get(REG.entity_set, refused.registration_id or "")
    assert row is not None and "erased on request" in row[REG.explanation]
    # Someone never erased is still created from the form.
    created = service.process(registration(client, OTHER_SWEDE), None)
    assert created.reason == "unknown-to-registries"
    assert len(contacts_with(client, OTHER_SWEDE)) == 1


def test_cli_dry_run_writes_nothing_and_the_run_erases(
    sandbox: Sandbox,
    client: DataverseClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(connection, "token_provider_for", lambda settings: SandboxTokens(sandbox))
    monkeypatch.setenv("DATAVERSE__URL", sandbox.base_url)
    monkeypatch.setenv("DATAVERSE__RETRY_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("SYNC__TOMBSTONE_KEY", KEY)
    person = add_contact(client, mp_nationalid=SWEDE)
    sent_email(client, person)

    assert main(["erase", "--dry-run", SWEDE, OTHER_SWEDE]) == 0
    out = capsys.readouterr().out
    assert SWEDE not in out and OTHER_SWEDE not in out
    assert f"done       {person}" not in out and "**********91" in out
    assert "contact deleted; 0 registration(s), 1 e-mail(s)" in out
    assert "dry run, nothing was written: 2 of 2 done" in out
    assert len(rows(client, C.entity_set, select=(C.id,))) == 1
    assert rows(client, R.entity_set, select=(R.id,)) == []
    assert rows(client, "mp_tombstones") == []

    assert main(["erase", person, "not-a-number"]) == 1
    out = capsys.readouterr().out
    assert f"done       {person}: contact deleted" in out
    assert "failed" in out and "1 of 2 done" in out
    assert rows(client, C.entity_set, select=(C.id,)) == []
    # The request is recorded like the office's; a bad argument makes no row.
    [recorded] = rows(client, R.entity_set)
    assert recorded[R.status] == R.status_values["done"] and recorded[R.national_id] is None


def test_a_created_request_is_carried_out_when_its_event_arrives(
    client: DataverseClient,
) -> None:
    person = add_contact(client, mp_nationalid=SWEDE)
    request_id = request(client, **for_contact(person))
    requests = jobs(client).erasure_requests()
    created = DataverseEvent(
        source="webhook", message="Create", table=R.table, record_id=request_id, stage=40,
        mode=1,
    )
    outcome = requests.handle_event(created, NOW)
    assert outcome is not None and outcome.status == "done"
    assert rows(client, C.entity_set, select=(C.id,)) == []
    # A second delivery of the same event finds the request done and changes nothing.
    assert requests.handle_event(created, NOW) is None

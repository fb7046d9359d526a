"""Register upkeep and erasure against the sandbox and the Navet emulator."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sync_harness import (
    SCHEMA,
    add_contact,
    add_membership,
    client_for,
    rows,
    seeded_registry,
)

from plugins.core.settings import SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.registries import RegistryPerson, RegistryUnavailable
from plugins.registries.models import RegistryName
from plugins.registries.protocol import RegistryAdapter
from plugins.sync.erasure import Erasure
from plugins.sync.repository import Tombstones
from plugins.sync.tombstone import identity_hash
from plugins.sync.upkeep import RegisterUpkeep
from sandbox.app import Sandbox

NOW = datetime(2025, 6, 23, 2, 0, tzinfo=UTC)
KEY = "k" * 40
ORDINARY = "197010632391"
PROTECTED = "198112289874"
DECEASED = "191212121212"
EMIGRATED = "196501011230"
UNKNOWN = "200001011238"
HOME = {"kind": "registered", "lines": ["Exempelgatan 1"], "postal_code": "12345", "city": "STADEN"}
PERSON = {"first_name": "Test", "last_name": "Testsson", "addresses": [HOME]}
NAVET = {
    ORDINARY: PERSON,
    PROTECTED: {**PERSON, "first_name": "Hemlig", "protection": "protected"},
    DECEASED: {**PERSON, "first_name": "Gammal", "deceased_on": "2020-01-01"},
    EMIGRATED: {**PERSON, "first_name": "Borta", "emigrated_on": "2019-05-01"},
}
C = SCHEMA.contact


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


@pytest.fixture
def navet(sandbox: Sandbox, tmp_path: Path) -> Iterator[RegistryAdapter]:
    with seeded_registry(sandbox, RegistryName.NAVET, NAVET, tmp_path / "mp.pem") as adapter:
        yield adapter


def upkeep(
    client: DataverseClient, registry: RegistryAdapter, **settings: Any
) -> RegisterUpkeep:
    return RegisterUpkeep(
        client,
        C,
        Tombstones(client, SCHEMA.tombstone),
        registry,
        SyncSettings.Upkeep(enabled=True, **settings),
        KEY,
    )


def contact(client: DataverseClient, contact_id: str) -> dict[str, Any]:
    row = client.get(C.entity_set, contact_id)
    assert row is not None
    return row


def test_stale_contacts_are_refreshed_and_flagged(
    client: DataverseClient, navet: RegistryAdapter
) -> None:
    ids = {
        number: add_contact(client, mp_nationalid=number, address1_line1="Gammal väg 2",
                            address1_postalcode="99999")
        for number in (ORDINARY, PROTECTED, DECEASED, EMIGRATED, UNKNOWN)
    }
    report = upkeep(client, navet).run(NOW)
    assert (report.selected, report.refreshed, report.unknown_to_registry) == (5, 5, 1)

    ordinary = contact(client, ids[ORDINARY])
    assert (ordinary["firstname"], ordinary["address1_line1"]) == ("Test", "Exempelgatan 1")
    assert ordinary["mp_protectionlevel"] == C.protection_values["none"]
    protected = contact(client, ids[PROTECTED])
    assert protected["address1_line1"] is None and protected["address1_postalcode"] is None
    assert protected["mp_protectionlevel"] == C.protection_values["protected"]
    deceased = contact(client, ids[DECEASED])
    assert deceased["mp_deceased"] is True and deceased["mp_nocommunication"] is True
    emigrated = contact(client, ids[EMIGRATED])
    assert emigrated["mp_emigrated"] is True and emigrated["mp_nocommunication"] is True
    unknown = contact(client, ids[UNKNOWN])
    assert unknown["firstname"] == "Alma"  # the registry did not know them: only stamped
    for contact_id in ids.values():
        assert contact(client, contact_id)["mp_lastenrichedon"] == "2025-06-23T02:00:00Z"


def test_fresh_contacts_and_contacts_without_identity_number_are_left_alone(
    client: DataverseClient, navet: RegistryAdapter
) -> None:
    recent = (NOW - timedelta(days=3)).isoformat()
    fresh = add_contact(client, mp_nationalid=ORDINARY, mp_lastenrichedon=recent)
    add_contact(client)
    stale = add_contact(
        client, mp_nationalid=PROTECTED, mp_lastenrichedon=(NOW - timedelta(days=40)).isoformat()
    )
    report = upkeep(client, navet, max_age_days=30).run(NOW)
    assert report.selected == 1
    assert contact(client, fresh)["firstname"] == "Alma"
    assert contact(client, stale)["firstname"] == "Hemlig"


def test_about_one_write_request_per_batch(
    client: DataverseClient, navet: RegistryAdapter
) -> None:
    for number in (ORDINARY, PROTECTED, DECEASED, EMIGRATED, UNKNOWN):
        add_contact(client, mp_nationalid=number)
    client.request_counter.reset()
    upkeep(client, navet, batch_size=2).run(NOW)
    # One read of the stale contacts, one of the tombstones, one UpdateMultiple per batch.
    assert client.request_counter.by_method() == {"GET": 2, "POST": 3}


def test_invalid_identity_numbers_are_reported_by_record_id(
    client: DataverseClient, navet: RegistryAdapter
) -> None:
    norwegian = add_contact(client, mp_nationalid="09052400284")
    add_contact(client, mp_nationalid=ORDINARY)
    report = upkeep(client, navet).run(NOW)
    assert report.invalid_ids == [norwegian]
    assert report.refreshed == 1


class FailingAfter:
    """The Navet adapter, with Navet failing (over HTTP) from the ``calls``-th batch on."""

    def __init__(self, sandbox: Sandbox, adapter: RegistryAdapter, calls: int) -> None:
        self._sandbox = sandbox
        self._adapter = adapter
        self._left = calls
        self.name = adapter.name
        self.country = adapter.country

    @property
    def supports_batch(self) -> bool:
        return self._adapter.supports_batch

    def lookup(self, national_id: str) -> RegistryPerson | None:
        return self._adapter.lookup(national_id)

    def lookup_many(self, national_ids: Sequence[str]) -> dict[str, RegistryPerson | None]:
        self._left -= 1
        if self._left <= 0:
            self._sandbox.registries.navet.script("503", "503")
        return self._adapter.lookup_many(national_ids)

    def close(self) -> None:
        self._adapter.close()


def test_registry_outage_mid_run_keeps_the_done_batches_and_the_next_run_resumes(
    sandbox: Sandbox, client: DataverseClient, navet: RegistryAdapter
) -> None:
    ids = [add_contact(client, mp_nationalid=n) for n in (ORDINARY, PROTECTED, DECEASED, EMIGRATED)]
    failing = FailingAfter(sandbox, navet, calls=2)
    with pytest.raises(RegistryUnavailable):
        upkeep(client, failing, batch_size=2).run(NOW)  # type: ignore[arg-type]
    stamped = [contact(client, i)["mp_lastenrichedon"] is not None for i in ids]
    assert sorted(stamped) == [False, False, True, True]  # the first batch of two was written

    report = upkeep(client, navet, batch_size=2).run(NOW + timedelta(hours=1))
    assert (report.selected, report.refreshed) == (2, 2)
    assert all(contact(client, i)["mp_lastenrichedon"] for i in ids)


def test_erased_person_is_gone_and_never_recreated(
    client: DataverseClient, navet: RegistryAdapter
) -> None:
    person = add_contact(client, mp_nationalid=ORDINARY)
    add_membership(client, person, NOW.date(), None)
    r = SCHEMA.registration
    client.create(r.entity_set, {r.name: "registration", r.national_id: ORDINARY})
    erasure = Erasure(client, SCHEMA, KEY)
    assert erasure.erase(person, NOW)
    assert rows(client, C.entity_set, select=(C.id,)) == []
    assert rows(client, SCHEMA.membership.entity_set, select=(SCHEMA.membership.id,)) == []
    assert rows(client, r.entity_set, select=(r.id,)) == []
    [tombstone] = rows(client, SCHEMA.tombstone.entity_set)
    assert tombstone[SCHEMA.tombstone.identity_hash] == identity_hash(ORDINARY, KEY)
    assert ORDINARY not in str(tombstone)
    assert erasure.is_erased(ORDINARY) and not erasure.is_erased(PROTECTED)
    assert not erasure.erase(person, NOW)

    report = upkeep(client, navet).run(NOW)
    assert report.selected == 0
    assert rows(client, C.entity_set, select=(C.id,)) == []

    # An import that ignores tombstones brings them back: upkeep does not refresh them.
    again = add_contact(client, mp_nationalid=ORDINARY)
    report = upkeep(client, navet).run(NOW)
    assert (report.erased_skipped, report.refreshed) == (1, 0)
    assert contact(client, again)["mp_lastenrichedon"] is None


def test_pages_are_handled_as_they_arrive(sandbox: Sandbox, navet: RegistryAdapter) -> None:
    numbers = [ORDINARY, PROTECTED, DECEASED, EMIGRATED, UNKNOWN]
    with client_for(sandbox, page_size=2) as paged:
        for number in numbers:
            add_contact(paged, mp_nationalid=number)
        sandbox.request_log.clear()
        report = upkeep(paged, navet, batch_size=2).run(NOW)
    order = [
        "read" if entry.method == "GET" and "/contacts" in entry.path else "write"
        for entry in sandbox.request_log.entries()
        if "/contacts" in entry.path
    ]
    assert (report.selected, report.refreshed) == (5, 5)
    # Three pages of two, three writes of at most two: the first write goes out before
    # the last page is read.
    assert order.count("read") == 3 and order.count("write") == 3
    assert order.index("write") < len(order) - 1 - order[::-1].index("read")

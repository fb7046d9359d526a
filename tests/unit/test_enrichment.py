"""Enrichment rules: minimal changes, protected identities, deceased/emigrated, own contacts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from plugins.core.schema import product_schema
from plugins.core.schema_map import ContactMap
from plugins.registries.models import (
    Address,
    AddressKind,
    ProtectionLevel,
    RegistryName,
    RegistryPerson,
)
from plugins.sync.enrichment import contact_changes, enrichment_patch

COLUMNS = ContactMap()
NOW = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
POSTAL = Address(
    kind=AddressKind.POSTAL,
    care_of="Berg",
    lines=("Box 12", "Lgh 1102"),
    postal_code="11122",
    city="STOCKHOLM",
    country="SE",
)
REGISTERED = Address(
    kind=AddressKind.REGISTERED,
    lines=("Exempelgatan 1",),
    postal_code="12345",
    city="STADEN",
    country="SE",
)
ADDRESS_COLUMNS = (
    "address1_line1",
    "address1_line2",
    "address1_postalcode",
    "address1_city",
    "address1_country",
)


def person(**overrides: object) -> RegistryPerson:
    values: dict[str, object] = {
        "source": RegistryName.NAVET,
        "national_id": "197010632391",
        "first_name": "Test",
        "last_name": "Testsson",
        "birth_date": date(1970, 10, 3),
        "protection": ProtectionLevel.NONE,
        "addresses": (REGISTERED,),
        "deceased": False,
        "emigrated": False,
    }
    values.update(overrides)
    return RegistryPerson.model_validate(values)


def current_contact(**overrides: object) -> dict[str, object]:
    """A contact that already holds exactly what ``person()`` says."""
    contact: dict[str, object] = {
        "contactid": "c1",
        "firstname": "Test",
        "lastname": "Testsson",
        "birthdate": "1970-10-03",
        "address1_line1": "Exempelgatan 1",
        "address1_line2": None,
        "address1_postalcode": "12345",
        "address1_city": "STADEN",
        "address1_country": "SE",
        "mp_deceased": False,
        "mp_emigrated": False,
        "mp_nocommunication": False,
        "mp_protectionlevel": 100000000,
        "mp_registrysource": "navet",
        "mp_lastenrichedon": "2024-01-01T00:00:00Z",
        "emailaddress1": "test@example.se",
        "telephone1": "+46 8 123 45",
        "mobilephone": "+46 70 123 45 67",
    }
    contact.update(overrides)
    return contact


# ------------------------------------------------------------- nothing differs


def test_nothing_differs_nothing_changes() -> None:
    assert contact_changes(person(), current_contact()) == {}


def test_a_lookup_always_stamps_last_enriched_even_without_changes() -> None:
    assert enrichment_patch(person(), current_contact(), NOW) == {
        "mp_lastenrichedon": "2025-06-01T12:30:00Z"
    }


def test_a_lookup_that_found_nobody_only_stamps() -> None:
    assert enrichment_patch(None, current_contact(), NOW) == {
        "mp_lastenrichedon": "2025-06-01T12:30:00Z"
    }


def test_the_stamp_is_written_in_utc() -> None:
    local = NOW.astimezone(timezone(timedelta(hours=2)))
    assert enrichment_patch(None, {}, local)["mp_lastenrichedon"] == "2025-06-01T12:30:00Z"


def test_a_naive_stamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        enrichment_patch(None, {}, datetime(2025, 6, 1, 12, 30))


def test_blank_and_unset_values_count_as_equal() -> None:
    contact = current_contact(address1_line2="", mp_deceased=None, mp_emigrated=None)
    assert contact_changes(person(), contact) == {}


# ------------------------------------------------------------- a new person


def test_empty_contact_gets_everything_the_registry_knows() -> None:
    assert contact_changes(person(addresses=(POSTAL, REGISTERED)), {"contactid": "c1"}) == {
        "firstname": "Test",
        "lastname": "Testsson",
        "birthdate": "1970-10-03",
        "address1_line1": "c/o Berg",
        "address1_line2": "Box 12, Lgh 1102",
        "address1_postalcode": "11122",
        "address1_city": "STOCKHOLM",
        "address1_country": "SE",
        "mp_protectionlevel": 100000000,
        "mp_registrysource": "navet",
    }


def test_only_the_differing_columns_change() -> None:
    changes = contact_changes(person(last_name="Berg", source=RegistryName.SPAR), current_contact())
    assert changes == {"lastname": "Berg", "mp_registrysource": "spar"}


def test_names_the_registry_does_not_give_are_kept() -> None:
    assert contact_changes(person(first_name=None, birth_date=None), current_contact()) == {}


# ------------------------------------------------------------- addresses


def test_postal_address_is_preferred_over_registered() -> None:
    changes = contact_changes(person(addresses=(REGISTERED, POSTAL)), current_contact())
    assert changes == {
        "address1_line1": "c/o Berg",
        "address1_line2": "Box 12, Lgh 1102",
        "address1_postalcode": "11122",
        "address1_city": "STOCKHOLM",
    }


def test_a_changed_line_replaces_the_stale_second_line() -> None:
    contact = current_contact(address1_line1="Gamla vägen 2", address1_line2="Lgh 9")
    changes = contact_changes(person(), contact)
    assert changes == {"address1_line1": "Exempelgatan 1", "address1_line2": None}


def test_foreign_address_when_it_is_the_only_one() -> None:
    abroad = Address(kind=AddressKind.FOREIGN, lines=("1 Main St", "Springfield"), country="USA")
    changes = contact_changes(person(addresses=(abroad,)), current_contact())
    assert changes["address1_line1"] == "1 Main St"
    assert changes["address1_country"] == "USA"


def test_no_address_from_the_registry_leaves_the_address_alone() -> None:
    assert contact_changes(person(addresses=()), current_contact()) == {}


@pytest.mark.parametrize(
    "level",
    [ProtectionLevel.CONFIDENTIAL, ProtectionLevel.PROTECTED, ProtectionLevel.UNKNOWN],
)
def test_any_protection_clears_the_address_and_never_writes_one(level: ProtectionLevel) -> None:
    protected = person(protection=level, addresses=(POSTAL,))
    contact = current_contact(address1_line2="Lgh 1102")
    assert contact_changes(protected, contact) == {
        **dict.fromkeys(ADDRESS_COLUMNS),
        "mp_protectionlevel": COLUMNS.protection_values[level.value],
    }


def test_a_missing_protection_field_is_unknown_and_blocks_addresses() -> None:
    unsaid = RegistryPerson(
        source=RegistryName.FS, national_id="09052400284", addresses=(REGISTERED,)
    )
    changes = contact_changes(unsaid, {"contactid": "c1"})
    assert changes["mp_protectionlevel"] == 100000003
    assert all(changes.get(c) is None for c in ADDRESS_COLUMNS)


def test_protected_person_with_no_stored_address_changes_only_the_level() -> None:
    contact = current_contact(**dict.fromkeys(ADDRESS_COLUMNS))
    assert contact_changes(person(protection=ProtectionLevel.PROTECTED), contact) == {
        "mp_protectionlevel": 100000002
    }


def test_a_protected_person_already_cleared_changes_nothing() -> None:
    contact = current_contact(mp_protectionlevel=100000002, **dict.fromkeys(ADDRESS_COLUMNS, ""))
    assert contact_changes(person(protection=ProtectionLevel.PROTECTED), contact) == {}


# ------------------------------------------------------------- deceased / emigrated


def test_deceased_person_is_flagged_and_no_outreach_is_sent() -> None:
    dead = person(deceased=True, deceased_on=date(2024, 12, 24))
    assert contact_changes(dead, current_contact()) == {
        "mp_deceased": True,
        "mp_nocommunication": True,
    }


def test_emigrated_person_is_flagged_and_no_outreach_is_sent() -> None:
    assert contact_changes(person(emigrated=True), current_contact()) == {
        "mp_emigrated": True,
        "mp_nocommunication": True,
    }


def test_alive_again_clears_the_flag_but_not_no_communication() -> None:
    contact = current_contact(mp_deceased=True, mp_nocommunication=True)
    assert contact_changes(person(deceased=False), contact) == {"mp_deceased": False}


def test_a_registry_that_does_not_report_death_leaves_the_flags() -> None:
    contact = current_contact(mp_deceased=True, mp_emigrated=True, mp_nocommunication=True)
    assert contact_changes(person(deceased=None, emigrated=None), contact) == {}


# ------------------------------------------------------------- own contact details


def test_self_reported_email_and_phone_are_never_overwritten() -> None:
    registry = person(emails=("registry@example.se",), phones=("+46 70 000 00 00",))
    for contact in (current_contact(), current_contact(emailaddress1=None, telephone1=None)):
        changes = enrichment_patch(registry, contact, NOW)
        assert not {"emailaddress1", "emailaddress2", "telephone1", "mobilephone"} & set(changes)


# ------------------------------------------------------------- schema map


def test_column_names_come_from_the_schema_map() -> None:
    custom = ContactMap(first_name="new_givenname", last_enriched_on="new_checkedon")
    patch = enrichment_patch(person(first_name="Other"), current_contact(), NOW, custom)
    assert patch["new_givenname"] == "Other"
    assert "new_checkedon" in patch
    assert "firstname" not in patch


def test_default_columns_and_choices_exist_in_the_product_schema() -> None:
    schema = product_schema()
    contact = schema.table("contact")
    used = (
        COLUMNS.first_name,
        COLUMNS.last_name,
        COLUMNS.birth_date,
        COLUMNS.address_line1,
        COLUMNS.address_line2,
        COLUMNS.postal_code,
        COLUMNS.city,
        COLUMNS.country,
        COLUMNS.deceased,
        COLUMNS.emigrated,
        COLUMNS.no_communication,
        COLUMNS.protection_level,
        COLUMNS.registry_source,
        COLUMNS.last_enriched_on,
    )
    assert all(column in contact.columns for column in used)
    choice = schema.choices[contact.columns[COLUMNS.protection_level].choices or ""]
    for level in ProtectionLevel:
        assert choice.options[COLUMNS.protection_values[level.value]].lower() == level.value

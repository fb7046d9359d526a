"""Registry enrichment of a contact: the minimal column changes (pure).

From what a registry says about a person and the contact's current column values, compute
only the columns that must change. The rules:

- names and birth date are taken from the registry when it gives them;
- protection level and registry source are always brought up to date;
- any protection marking, or a registry that did not say (``unknown``), clears the address
  columns and never writes an address; an unprotected person gets their preferred address
  (postal, else registered, else foreign) written as one unit;
- a deceased or emigrated person is flagged, and ``no communication`` is set so no outreach
  is sent; a registry that reports them alive or resident clears that flag, but
  ``no communication`` is never cleared here (it may have other reasons);
- the person's own e-mail addresses and phone numbers are never written;
- nothing differs, nothing changes: :func:`contact_changes` is then empty.

:func:`enrichment_patch` adds the one exception: the last-enriched time is stamped on every
look-up, also when nothing changed and when the registry did not know the person, so the
register shows when each person was last checked.

Column names and choice numbers come from the schema map (:class:`ContactMap`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from plugins.core.schema_map import ContactMap
from plugins.registries.models import Address, AddressKind, ProtectionLevel, RegistryPerson

ADDRESS_PREFERENCE = (AddressKind.POSTAL, AddressKind.REGISTERED, AddressKind.FOREIGN)
_DEFAULT_COLUMNS = ContactMap()


def contact_changes(
    person: RegistryPerson, contact: Mapping[str, Any], columns: ContactMap = _DEFAULT_COLUMNS
) -> dict[str, Any]:
    """The columns of ``contact`` that differ from what ``person`` says; empty when none do."""
    desired = {
        **_names(person, columns),
        **_status(person, columns),
        **_address(person, columns),
        columns.protection_level: columns.protection_values[person.protection.value],
        columns.registry_source: person.source.value,
    }
    return {
        column: value for column, value in desired.items() if not _same(contact.get(column), value)
    }


def enrichment_patch(
    person: RegistryPerson | None,
    contact: Mapping[str, Any],
    enriched_at: datetime,
    columns: ContactMap = _DEFAULT_COLUMNS,
) -> dict[str, Any]:
    """The update after a look-up: the changes plus the last-enriched stamp.

    ``person`` is None when the registry did not know the person: then only the stamp is
    written. ``enriched_at`` must be timezone-aware; it is written in UTC.
    """
    if enriched_at.tzinfo is None:
        raise ValueError("enriched_at must be timezone-aware")
    changes = contact_changes(person, contact, columns) if person is not None else {}
    stamp = enriched_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {**changes, columns.last_enriched_on: stamp}


def _names(person: RegistryPerson, columns: ContactMap) -> dict[str, Any]:
    given = {
        columns.first_name: person.first_name,
        columns.last_name: person.last_name,
        columns.birth_date: person.birth_date.isoformat() if person.birth_date else None,
    }
    return {column: value for column, value in given.items() if value is not None}


def _status(person: RegistryPerson, columns: ContactMap) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    if person.deceased is not None:
        flags[columns.deceased] = person.deceased
    if person.emigrated is not None:
        flags[columns.emigrated] = person.emigrated
    if person.deceased or person.emigrated:
        flags[columns.no_communication] = True
    return flags


def _address(person: RegistryPerson, columns: ContactMap) -> dict[str, Any]:
    address_columns = (
        columns.address_line1,
        columns.address_line2,
        columns.postal_code,
        columns.city,
        columns.country,
    )
    if person.protection is not ProtectionLevel.NONE:
        return dict.fromkeys(address_columns)
    address = _preferred(person.addresses)
    if address is None:
        return {}
    lines = ([f"c/o {address.care_of}"] if address.care_of else []) + list(address.lines)
    values = (
        lines[0] if lines else None,
        ", ".join(lines[1:]) or None,
        address.postal_code,
        address.city,
        address.country,
    )
    return dict(zip(address_columns, values, strict=True))


def _preferred(addresses: tuple[Address, ...]) -> Address | None:
    for kind in ADDRESS_PREFERENCE:
        for address in addresses:
            if address.kind is kind:
                return address
    return None


def _same(current: Any, desired: Any) -> bool:
    """Equal as Dataverse stores them: blank is empty, an unset flag is false."""
    if isinstance(desired, bool):
        return bool(current) is desired
    return _plain(current) == _plain(desired)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, date):
        return value.isoformat()
    return value

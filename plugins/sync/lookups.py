"""Which contacts of a batch a registry is asked about (pure).

The register jobs (:mod:`.upkeep`, :mod:`.graduates`) look contacts up by identity number.
A number that does not parse is reported by contact id, and a person erased on request (a
tombstone, :mod:`.tombstone`) is never asked about; both are counted in the job's report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from plugins.core.schema_map import ContactMap
from plugins.identity import Country, parse_national_id

from .tombstone import identity_hash


class SkipReport(Protocol):
    """The part of a job's report that counts the contacts not looked up."""

    invalid_ids: list[str]
    erased_skipped: int


def contacts_to_look_up(
    batch: Iterable[dict[str, Any]],
    columns: ContactMap,
    country: Country,
    tombstone_key: str | None,
    erased: frozenset[str],
    report: SkipReport,
) -> dict[str, dict[str, Any]]:
    """The batch's contacts by canonical identity number, leaving out (and reporting) those
    with an invalid number and, when there is a ``tombstone_key``, those in ``erased``."""
    wanted: dict[str, dict[str, Any]] = {}
    for row in batch:
        parsed = parse_national_id(str(row[columns.national_id]), country)
        if not parsed.valid:
            report.invalid_ids.append(str(row[columns.id]))
        elif tombstone_key and identity_hash(parsed.canonical, tombstone_key) in erased:
            report.erased_skipped += 1
        else:
            wanted[parsed.canonical] = row
    return wanted

"""Register upkeep: refresh contacts from the population register, in batches.

Contacts with an identity number whose last enrichment (``mp_lastenrichedon``) is older
than ``max_age_days``, or who were never enriched, are read page by page and handled as the
pages arrive: looked up in the configured population register ``batch_size`` at a time, and
each batch's changes, computed by the pure
:func:`~plugins.sync.enrichment.enrichment_patch`, written with one ``UpdateMultiple`` per
batch (about one write request per ``batch_size`` contacts, plus one read per 5,000). The
next batch is looked up while the previous one is being written, and no more than a page,
the batch being looked up and the batch being written are held at once, however many
contacts there are.
That also settles the rules: deceased and emigrated people are flagged and set to no
communication, a protected identity's address columns are cleared, and every contact looked
up is stamped, so a run that fails part-way resumes with the contacts not yet stamped.

``UpdateMultiple`` never creates a row, so a contact erased while the run was going on is
not brought back (an ``UpsertMultiple`` by id would recreate it); a contact whose identity
number carries a tombstone is not refreshed at all. A registry outage stops the run with
the batches done so far written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from plugins.core.schema_map import ContactMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registries.protocol import RegistryAdapter

from .enrichment import enrichment_patch
from .lookups import contacts_to_look_up
from .repository import MappedTable, Tombstones

log = logging.getLogger(__name__)


@dataclass
class UpkeepReport:
    """What one upkeep run did (counts only: no personal data)."""

    selected: int = 0
    refreshed: int = 0
    unknown_to_registry: int = 0
    erased_skipped: int = 0
    invalid_ids: list[str] = field(default_factory=list)


class RegisterUpkeep:
    """Refreshes stale contacts from one population register."""

    def __init__(
        self,
        client: DataverseClient,
        columns: ContactMap,
        tombstones: Tombstones,
        registry: RegistryAdapter,
        settings: SyncSettings.Upkeep,
        tombstone_key: str | None,
    ) -> None:
        self._client = client
        self._columns = columns
        self._tombstones = tombstones
        self._registry = registry
        self._settings = settings
        self._key = tombstone_key

    def run(self, now: datetime) -> UpkeepReport:
        """One run at ``now`` (timezone-aware)."""
        report = UpkeepReport()
        erased: frozenset[str] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="upkeep-write") as writer:
            writing: Future[int] | None = None
            try:
                for batch in _batches(self.stale_contacts(now), self._settings.batch_size):
                    report.selected += len(batch)
                    if erased is None:
                        erased = self._tombstones.all_hashes() if self._key else frozenset()
                    # Looked up while the previous batch is still being written.
                    updates = self._updates(batch, erased, now, report)
                    if writing is not None:
                        report.refreshed += writing.result()
                    writing = writer.submit(self._write, updates) if updates else None
            finally:
                # A failed look-up stops the run; what was being written is written first.
                if writing is not None:
                    report.refreshed += writing.result()
        log.info(
            "upkeep: %d selected, %d refreshed, %d unknown to %s, %d erased, %d invalid",
            report.selected, report.refreshed, report.unknown_to_registry,
            self._registry.name, report.erased_skipped, len(report.invalid_ids),
        )
        return report

    def stale_contacts(self, now: datetime) -> Iterator[dict[str, Any]]:
        """Active contacts with an identity number not enriched for ``max_age_days``, read
        page by page as the caller goes on (at most ``max_contacts_per_run``)."""
        columns = self._columns
        cutoff = now - timedelta(days=self._settings.max_age_days)
        stale = odata.or_(
            odata.eq(columns.last_enriched_on, None), odata.lt(columns.last_enriched_on, cutoff)
        )
        rows = self._client.query(
            columns.entity_set,
            select=self.columns_read(),
            filter=odata.and_(
                odata.ne(columns.national_id, None), odata.eq(columns.state, 0), stale
            ),
            orderby=(odata.asc(columns.id),),
        )
        return islice(rows, self._settings.max_contacts_per_run)

    def columns_read(self) -> tuple[str, ...]:
        """The contact columns enrichment compares (``$select``)."""
        c = self._columns
        return (
            c.id, c.national_id, c.first_name, c.last_name, c.birth_date,
            c.address_line1, c.address_line2, c.postal_code, c.city, c.country,
            c.protection_level, c.deceased, c.emigrated, c.no_communication, c.registry_source,
        )

    def _updates(
        self,
        batch: list[dict[str, Any]],
        erased: frozenset[str],
        now: datetime,
        report: UpkeepReport,
    ) -> list[dict[str, Any]]:
        """The batch's rows looked up in the register, as the changes to write."""
        columns = self._columns
        wanted = contacts_to_look_up(
            batch, columns, self._registry.country, self._key, erased, report
        )
        if not wanted:
            return []
        people = self._registry.lookup_many(list(wanted))
        updates = []
        for national_id, row in wanted.items():
            person = people.get(national_id)
            if person is None:
                report.unknown_to_registry += 1
            patch = enrichment_patch(person, row, now, columns)
            updates.append({columns.id: row[columns.id], **patch})
        return updates

    def _write(self, updates: list[dict[str, Any]]) -> int:
        self._client.update_multiple(
            MappedTable.of(self._columns), updates, chunk_size=self._settings.batch_size
        )
        return len(updates)


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in lists of at most ``size``, taken as they come."""
    while batch := list(islice(rows, size)):
        yield batch

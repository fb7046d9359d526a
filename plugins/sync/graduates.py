"""New graduates: students the student register shows with a degree become alumni.

Neither Ladok nor FS offers a look-up of "degrees issued since a date" that the reference
could confirm (Ladok's degree endpoint is unverified; FS's change streams are GraphQL), so
the job works through the contacts that are students and not yet alumni, in contact-id
order, ``batch_size`` at a time: each batch is looked up in the configured student register
and every student with a degree awarded (:func:`~plugins.sync.graduation.awarded_degree`)
gets the category Alumnus in one ``UpdateMultiple``. Contacts only change, never get created
here, and a contact whose identity number carries a tombstone is skipped.

The checkpoint (``mp_checkpoint`` named ``graduates``) holds the id of the last contact of
the last batch written. A run continues after it, so a run that stopped (a registry outage,
``max_students_per_run``) resumes where it was, and an outage leaves it where it was; when a
run reaches the last student it records a successful run and starts from the beginning
next time.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plugins.core.schema_map import ContactMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category
from plugins.registries.protocol import RegistryAdapter

from .graduation import alumnus_categories, awarded_degree
from .lookups import contacts_to_look_up
from .repository import Checkpoints, MappedTable, Tombstones

log = logging.getLogger(__name__)

CHECKPOINT = "graduates"


@dataclass
class GraduatesReport:
    """What one run did (counts and record ids only)."""

    checked: int = 0
    graduated: int = 0
    erased_skipped: int = 0
    finished: bool = False
    invalid_ids: list[str] = field(default_factory=list)


class NewGraduates:
    """Turns graduated students into alumni, resumably."""

    def __init__(
        self,
        client: DataverseClient,
        columns: ContactMap,
        checkpoints: Checkpoints,
        tombstones: Tombstones,
        registry: RegistryAdapter,
        settings: SyncSettings.Graduates,
        tombstone_key: str | None,
    ) -> None:
        self._client = client
        self._columns = columns
        self._checkpoints = checkpoints
        self._tombstones = tombstones
        self._registry = registry
        self._settings = settings
        self._key = tombstone_key

    def run(self, now: datetime) -> GraduatesReport:
        """One run at ``now``: up to ``max_students_per_run`` students from the checkpoint."""
        report = GraduatesReport()
        position = self._checkpoints.read(CHECKPOINT).value
        erased = self._tombstones.all_hashes() if self._key else frozenset()
        while report.checked < self._settings.max_students_per_run:
            batch = self._students(position)
            if not batch:
                report.finished = True
                self._checkpoints.save_success(CHECKPOINT, now, None)
                break
            self._graduate(batch, erased, now, report)
            position = str(batch[-1][self._columns.id])
            self._checkpoints.save_position(CHECKPOINT, position)
            report.checked += len(batch)
        log.info(
            "graduates: %d students checked in %s, %d graduated, %d erased, finished %s",
            report.checked, self._registry.name, report.graduated, report.erased_skipped,
            report.finished,
        )
        return report

    def _students(self, after: str | None) -> list[dict[str, Any]]:
        c = self._columns
        clauses = [
            odata.ne(c.national_id, None),
            odata.eq(c.state, 0),
            odata.contain_values(c.categories, [c.category_values[Category.STUDENT]]),
            odata.contain_values(
                c.categories, [c.category_values[Category.ALUMNUS]], contain=False
            ),
        ]
        if after is not None:
            clauses.append(odata.gt(c.id, uuid.UUID(after)))
        rows = self._client.query(
            c.entity_set,
            select=(c.id, c.national_id, c.categories),
            filter=odata.and_(*clauses),
            orderby=(odata.asc(c.id),),
            top=self._settings.batch_size,
        )
        return list(rows)

    def _graduate(
        self,
        batch: list[dict[str, Any]],
        erased: frozenset[str],
        now: datetime,
        report: GraduatesReport,
    ) -> None:
        c = self._columns
        wanted = contacts_to_look_up(batch, c, self._registry.country, self._key, erased, report)
        if not wanted:
            return
        people = self._registry.lookup_many(list(wanted))
        updates = []
        for national_id, row in wanted.items():
            person = people.get(national_id)
            if person is None or awarded_degree(person.study, now.date()) is None:
                continue
            categories = alumnus_categories(row.get(c.categories), c)
            if categories is not None:
                updates.append({c.id: row[c.id], c.categories: categories})
        if updates:
            self._client.update_multiple(MappedTable.of(c), updates)
            report.graduated += len(updates)


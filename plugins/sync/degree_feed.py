"""The Ladok degree feed: degrees Ladok issues, recorded on the person, graduates made alumni.

A run reads Ladok's event feed (:mod:`plugins.registries.ladok_feed`) forward from the
checkpoint ``ladok-degree-feed`` (``mp_checkpoint``), which holds the page and the last entry
recorded. The first run has none: it starts at the recent page, follows the archive links
back to the configured ``start_page`` (reading only each page's head) and reads forward from
there. Each later run continues where the last stopped, page after page through
``next-archive``, so runs that were missed are caught up, up to ``max_pages_per_run``.

Only the ``UtfardatBevis*`` events are kept. Every ``flush_events`` of them (and at the end)
they are recorded in one go, then the checkpoint moves:

1. folded per certificate (:mod:`.degree_changes`);
2. each student UID mapped to a contact: by the student id stored on the contact, else by
   the personnummer Ladok gives for the UID (``studentinformation/student/{uid}``), whose
   contact then gets the student id; a person erased on request (tombstone) is left out;
3. the degrees upserted by certificate key in UpsertMultiple requests (rows of students
   without a contact keep the student id, so a later registration finds them);
4. the contacts with a degree issued get the category Alumnus (UpdateMultiple).

Writes happen before the checkpoint moves and are keyed, so a run that stops between them
writes the same values again next time: every event counts once. A page that cannot be read
fails the run and leaves the checkpoint where it was.

Each run first links the degrees recorded before their person existed to the contacts
created since the last successful run that carry the student id (a registration writes it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.degrees.repository import DegreeTable
from plugins.identity import Country, parse_national_id
from plugins.registries.degree_events import DegreeEvent, DegreeTitle
from plugins.registries.errors import MalformedResponse
from plugins.registries.ladok_feed import FeedPage, LadokFeedReader
from plugins.registries.models import RegistryName

from .degree_changes import CertificateChange, degree_row, fold
from .graduation import alumnus_categories
from .repository import Checkpoints, MappedTable, Tombstones, chunks, lookup_value

log = logging.getLogger(__name__)

CHECKPOINT = "ladok-degree-feed"
SOURCE = RegistryName.LADOK.value
_IN_CHUNK = 100


@dataclass
class DegreeFeedReport:
    """What one run did (counts only)."""

    pages: int = 0
    events: int = 0
    degree_events: int = 0
    recorded: int = 0
    alumni: int = 0
    without_contact: int = 0
    erased_skipped: int = 0
    linked: int = 0
    finished: bool = False


@dataclass(frozen=True)
class Position:
    """Where the feed was read to: a page, and the last entry of it recorded (None: none)."""

    page: str
    entry: str | None

    def text(self) -> str:
        return json.dumps({"page": self.page, "entry": self.entry})

    @classmethod
    def of(cls, text: str | None) -> Position | None:
        if not text:
            return None
        value = json.loads(text)
        return cls(str(value["page"]), value.get("entry"))


class DegreeFeed:
    """Reads Ladok's degree events into the degree table, resumably, exactly once."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        reader: LadokFeedReader,
        settings: SyncSettings.DegreeFeed,
        tombstone_key: str | None,
    ) -> None:
        self._client = client
        self._schema = schema
        self._reader = reader
        self._settings = settings
        self._key = tombstone_key
        self._checkpoints = Checkpoints(client, schema.checkpoint)
        self._tombstones = Tombstones(client, schema.tombstone)
        self._degrees = DegreeTable(client, schema.degree)
        self._titles: dict[str, DegreeTitle] | None = None

    def run(self, now: datetime) -> DegreeFeedReport:
        """Read from the checkpoint to the newest page (or ``max_pages_per_run`` pages)."""
        report = DegreeFeedReport()
        checkpoint = self._checkpoints.read(CHECKPOINT)
        self._link_new_people(checkpoint.last_successful_run, report)
        position = Position.of(checkpoint.value)
        url, after = (
            (position.page, position.entry) if position else (self._first_page(), None)
        )
        pending: list[DegreeEvent] = []
        reached: Position | None = None
        while url is not None and report.pages < self._settings.max_pages_per_run:
            page = self._reader.page(url)
            report.pages += 1
            for entry in _after(page, after):
                report.events += 1
                if entry.event is not None:
                    pending.append(entry.event)
            last = page.entries[-1].id if page.entries else after
            reached = Position(page.url, last)
            if len(pending) >= self._settings.flush_events:
                self._record(pending, report)
                self._checkpoints.save_position(CHECKPOINT, reached.text())
                pending = []
            url, after = page.next, None
        report.finished = url is None
        self._record(pending, report)
        if reached is not None:
            if report.finished:
                self._checkpoints.save_success(CHECKPOINT, now, reached.text())
            else:
                self._checkpoints.save_position(CHECKPOINT, reached.text())
        log.info(
            "degree feed: %d pages, %d events, %d degree events, %d recorded, %d new alumni, "
            "%d without contact, %d erased skipped, %d linked to new people, finished %s",
            report.pages, report.events, report.degree_events, report.recorded, report.alumni,
            report.without_contact, report.erased_skipped, report.linked, report.finished,
        )
        return report

    def _link_new_people(self, since: datetime | None, report: DegreeFeedReport) -> None:
        """Link the degrees recorded before their person existed to the contacts created
        (by a registration, with the student id) since the last successful run."""
        if since is None:
            return
        c, d = self._schema.contact, self._schema.degree
        people = {
            str(row[c.student_ref]): str(row[c.id])
            for row in self._client.query(
                c.entity_set, select=(c.id, c.student_ref),
                filter=odata.and_(odata.ne(c.student_ref, None), odata.ge(c.created_on, since)),
            )
        }
        links = []
        for part in chunks(sorted(people), _IN_CHUNK):
            for row in self._client.query(
                d.entity_set, select=(d.id, d.student_ref),
                filter=odata.and_(
                    odata.eq(d.source, SOURCE), odata.in_(d.student_ref, part),
                    odata.eq(lookup_value(d.person), None),
                ),
            ):
                person = people[str(row[d.student_ref])]
                links.append({d.id: row[d.id], f"{d.person_nav}@odata.bind":
                              odata.bind(c.entity_set, person)})
        if links:
            self._client.update_multiple(MappedTable.of(d), links)
        report.linked += len(links)

    def _first_page(self) -> str:
        """The page to start from on the first run: back from the recent page to the start."""
        page = self._reader.page(self._reader.recent_url, entries=False)
        while page.previous is not None and (
            page.number is None or page.number > self._settings.start_page
        ):
            page = self._reader.page(page.previous, entries=False)
        return page.url

    def _record(self, events: list[DegreeEvent], report: DegreeFeedReport) -> None:
        if not events:
            return
        report.degree_events += len(events)
        changes = fold(events)
        people = self._people({c.student for c in changes if c.student}, report)
        kept = [c for c in changes if c.student is None or people.get(c.student, "") is not None]
        report.erased_skipped += len(changes) - len(kept)
        titles = self._titles_for(kept)
        c = self._schema.contact
        rows = [
            degree_row(
                change, SOURCE, titles, self._schema.degree, c.entity_set,
                self._contact_id(people, change),
            )
            for change in kept
        ]
        self._degrees.upsert(rows)
        report.recorded += len(rows)
        report.without_contact += sum(1 for ch in kept if self._contact_id(people, ch) is None)
        self._make_alumni(kept, people, report)

    @staticmethod
    def _contact_id(people: dict[str, Any], change: CertificateChange) -> str | None:
        row = people.get(change.student or "")
        return None if not row else str(row["id"])

    def _people(self, students: set[str], report: DegreeFeedReport) -> dict[str, Any]:
        """Student UID -> {"id", "categories", "ref"} of its contact, ``{}`` when there is
        none, None when the person was erased on request."""
        c = self._schema.contact
        found: dict[str, Any] = {}
        columns = (c.id, c.student_ref, c.categories)
        for part in chunks(sorted(students), _IN_CHUNK):
            for row in self._client.query(
                c.entity_set, select=columns, filter=odata.in_(c.student_ref, part)
            ):
                found[str(row[c.student_ref])] = _person(row, c.id, c.categories, True)
        numbers: dict[str, str] = {}
        for student in sorted(students - found.keys()):
            number = self._reader.personnummer(student)
            parsed = parse_national_id(number or "", Country.SE)
            if parsed.valid:
                numbers[parsed.canonical] = student
            else:
                found[student] = {}
        erased = self._erased(numbers)
        for number in erased:
            found[numbers.pop(number)] = None
        for part in chunks(sorted(numbers), _IN_CHUNK):
            for row in self._client.query(
                c.entity_set, select=(c.id, c.national_id, c.categories),
                filter=odata.in_(c.national_id, part),
            ):
                student = numbers.pop(str(row[c.national_id]), None)
                if student is not None:
                    found[student] = _person(row, c.id, c.categories, False)
        for student in numbers.values():
            found[student] = {}
        return found

    def _erased(self, numbers: dict[str, str]) -> set[str]:
        if not self._key or not numbers:
            return set()
        return set(self._tombstones.erased(numbers, self._key))

    def _titles_for(self, changes: list[CertificateChange]) -> dict[str, DegreeTitle]:
        wanted = {c.record.title_ref for c in changes if c.record and c.record.title_ref}
        if self._titles is None or not wanted <= self._titles.keys():
            self._titles = self._reader.titles()
        missing = wanted - self._titles.keys()
        if missing:
            # Recorded without a title rather than holding the feed up: a correction event
            # or the next issue of the title fills it in.
            log.warning("degree feed: %d degree title(s) not in Ladok's reference data",
                        len(missing))
        return self._titles

    def _make_alumni(
        self, changes: list[CertificateChange], people: dict[str, Any], report: DegreeFeedReport
    ) -> None:
        c = self._schema.contact
        updates: dict[str, dict[str, Any]] = {}
        for change in changes:
            person = people.get(change.student or "")
            if not person:
                continue
            values: dict[str, Any] = {}
            if not person["ref"]:
                values[c.student_ref] = change.student
            if change.record is not None and change.removed is False:
                categories = alumnus_categories(person["categories"], c)
                if categories is not None:
                    values[c.categories] = categories
            if values:
                updates.setdefault(person["id"], {c.id: person["id"]}).update(values)
        if updates:
            self._client.update_multiple(MappedTable.of(c), list(updates.values()))
            report.alumni += sum(1 for u in updates.values() if c.categories in u)


def _person(row: dict[str, Any], id_column: str, categories: str, by_ref: bool) -> dict[str, Any]:
    return {"id": str(row[id_column]), "categories": row.get(categories), "ref": by_ref}


def _after(page: FeedPage, entry: str | None) -> tuple[Any, ...]:
    """The page's entries after ``entry`` (all of them for None)."""
    if entry is None:
        return page.entries
    ids = [e.id for e in page.entries]
    if entry not in ids:
        raise MalformedResponse(
            SOURCE, "the checkpoint's entry is not on its page: the feed changed under it"
        )
    return page.entries[ids.index(entry) + 1 :]

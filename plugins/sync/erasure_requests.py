"""Erasure requests: the office's rows (``mp_erasurerequest``) carried out.

The office creates a request naming the contact (the lookup) or, for someone who may not be
in the register, the identity number. With the step ``erasure request created`` registered
(``member-plugins register`` adds it when ``SYNC__ERASURE__ENABLED``), the dispatcher hands
the new row to :meth:`ErasureRequests.handle_event` at once; :meth:`ErasureRequests.run`
(the erasure timer) takes
the requests still ``Requested``, erases each through :class:`~plugins.sync.erasure.Erasure`
and writes the outcome on the row: ``Done`` (with a one-line summary, counts only),
``NotFound`` (the contact named is gone and no identity number was given) or ``Failed`` (an
identity number that is not valid). The identity number is cleared from the row once the
request is done: the tombstone is then the only trace of it, and the row records that the
request was carried out and when.

A request is processed at most once in effect: erasing is idempotent, so a run that crashed
half-way repeats the request at the next run and finishes it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plugins.core.events import DataverseEvent
from plugins.core.schema_map import ErasureRequestMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import DataverseError, NotFoundError
from plugins.identity import Country, NationalId, parse_national_id

from .erasure import Erasure, ErasureResult
from .repository import lookup_value

log = logging.getLogger(__name__)


class ErasureFailure(Exception):
    """Dataverse failed while a request was carried out: worth delivering the event again
    (erasing is idempotent)."""


@dataclass(frozen=True)
class Target:
    """Whom one request (or one CLI argument) names: a contact id, an identity number, or
    an identity number that is not valid (``invalid``)."""

    contact_id: str | None = None
    national_id: str | None = None
    invalid: bool = False


def parse_target(text: str, country: Country | str) -> Target:
    """A contact id (a GUID) or an identity number of ``country``, as given on the CLI."""
    try:
        return Target(contact_id=str(uuid.UUID(text.strip())))
    except ValueError:
        parsed = parse_national_id(text, country)
        if not isinstance(parsed, NationalId):
            return Target(invalid=True)
        return Target(national_id=parsed.canonical)


@dataclass(frozen=True)
class RequestOutcome:
    """What became of one request: its new status and the summary written on it."""

    request_id: str
    status: str
    summary: str
    results: tuple[ErasureResult, ...] = ()


@dataclass
class ErasureRunReport:
    """What one run did (counts only)."""

    processed: int = 0
    done: int = 0
    not_found: int = 0
    failed: int = 0
    outcomes: list[RequestOutcome] = field(default_factory=list)


class ErasureRequests:
    """Carries out the office's erasure requests."""

    def __init__(
        self,
        client: DataverseClient,
        columns: ErasureRequestMap,
        erasure: Erasure,
        country: Country | str,
    ) -> None:
        self._client = client
        self._columns = columns
        self._erasure = erasure
        self._country = country

    def run(self, now: datetime, limit: int) -> ErasureRunReport:
        """Process up to ``limit`` requests still Requested, oldest first."""
        report = ErasureRunReport()
        for request_id in self.pending(limit):
            outcome = self.process(request_id, now)
            if outcome is None:
                continue
            report.processed += 1
            report.outcomes.append(outcome)
            if outcome.status == "done":
                report.done += 1
            elif outcome.status == "not-found":
                report.not_found += 1
            else:
                report.failed += 1
        log.info(
            "erasure requests: %d processed, %d done, %d not found, %d failed",
            report.processed, report.done, report.not_found, report.failed,
        )
        return report

    @property
    def table(self) -> str:
        """The table whose created rows this acts on (the dispatcher routes by it)."""
        return self._columns.table

    def handle_event(self, event: DataverseEvent, now: datetime) -> RequestOutcome | None:
        """A request row was created (the step ``erasure request created``): carry it out at
        once instead of at the next timer run; ErasureFailure when Dataverse failed."""
        if event.table != self.table or event.message != "Create":
            return None
        try:
            with DataverseClient.correlation(event.correlation_id):
                return self.process(event.record_id, now)
        except DataverseError as exc:
            raise ErasureFailure(f"erasure request {event.record_id}: {exc}") from exc

    def pending(self, limit: int) -> list[str]:
        """Ids of requests still Requested (or never given a status), oldest first."""
        r = self._columns
        requested = r.status_values["requested"]
        rows = self._client.query(
            r.entity_set,
            select=(r.id,),
            filter=odata.and_(
                odata.or_(odata.eq(r.status, requested), odata.eq(r.status, None)),
                odata.eq(r.state, 0),
            ),
            orderby=(odata.asc(r.created_on),),
            top=limit,
        )
        return [str(row[r.id]) for row in rows]

    def create(self, target: Target, name: str) -> str:
        """A new request row for ``target`` (the CLI records its requests like the office)."""
        r = self._columns
        record: dict[str, Any] = {r.name: name, r.status: r.status_values["requested"]}
        if target.contact_id:
            record[f"{r.person_nav}@odata.bind"] = odata.bind("contacts", target.contact_id)
        if target.national_id:
            record[r.national_id] = target.national_id
        return str(self._client.create(r.entity_set, record).id)

    def process(self, request_id: str, now: datetime) -> RequestOutcome | None:
        """Carry out one request; None when it is gone or no longer Requested."""
        r = self._columns
        try:
            row = self._client.get(
                r.entity_set, request_id, select=(r.status, lookup_value(r.person), r.national_id)
            ) or {}
        except NotFoundError:
            return None
        if row.get(r.status) not in (None, r.status_values["requested"]):
            return None
        raw_id = row.get(r.national_id)
        parsed = parse_national_id(str(raw_id), self._country) if raw_id else None
        target = Target(
            contact_id=row.get(lookup_value(r.person)),
            national_id=parsed.canonical if isinstance(parsed, NationalId) else None,
            invalid=parsed is not None and not isinstance(parsed, NationalId),
        )
        outcome = self._erase(request_id, target, now)
        update: dict[str, Any] = {
            r.status: r.status_values[outcome.status],
            r.result: outcome.summary[:200],
            r.processed_on: now,
        }
        if outcome.status == "done":
            update[r.national_id] = None
        self._client.update(r.entity_set, request_id, update)
        return outcome

    def dry_run(self, target: Target, now: datetime) -> RequestOutcome:
        """What processing a request for ``target`` would do; nothing is written."""
        return self._erase("(dry run)", target, now, dry_run=True)

    def _erase(
        self, request_id: str, target: Target, now: datetime, *, dry_run: bool = False
    ) -> RequestOutcome:
        if target.invalid:
            return RequestOutcome(request_id, "failed", "the identity number is not valid")
        results: list[ErasureResult] = []
        if target.contact_id:
            result = self._erasure.erase_person(target.contact_id, now, dry_run=dry_run)
            if result is not None:
                results.append(result)
        if target.national_id:
            results += self._erasure.erase_identity(target.national_id, now, dry_run=dry_run)
        if not results:
            return RequestOutcome(request_id, "not-found", "no such contact; nothing to erase")
        summary = "; ".join(dict.fromkeys(result.summary() for result in results))
        return RequestOutcome(request_id, "done", summary, tuple(results))


"""Reading and writing the registration pipeline's rows, through the Dataverse client only.

Every read the pipeline needs before a decision is one ``$batch`` of GETs (one round trip):
the registration by id, and the contacts that share its canonical identity number or its
e-mail address in any of the three e-mail columns or the e-mail key (with the contacts' own
registrations when the registration is an unregistration). Every write is one change set (see
:mod:`plugins.registration.writeback`).

The client's errors become the pipeline's (:mod:`plugins.registration.errors`): a missing
registration is :class:`RegistrationGone`; a refused change set (412 stale ETag or existing
key, 404 vanished row) is :class:`StaleWrite`; throttling, unavailability and connection
failures that outlasted the client's retries are :class:`TransientFailure`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.batch import BatchPartResult, BatchRequest, results_by_item
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import (
    BatchError,
    NotFoundError,
    PreconditionFailedError,
    ResponseError,
    ThrottledError,
    TransientError,
    TransportError,
    error_from_response,
)
from plugins.degrees.repository import DegreeTable
from plugins.identity import Country
from plugins.registries.models import Degree

from .errors import RegistrationError, RegistrationGone, StaleWrite, TransientFailure
from .model import Status
from .records import (
    ContactRecord,
    RegistrationRecord,
    TaskRecord,
    contact_columns,
    contact_record,
    degrees_expand,
    linked_registrations,
    lookup_property,
    registration_columns,
    registration_record,
)

TECHNICAL = (ThrottledError, TransientError, TransportError)


@dataclass(frozen=True)
class ContactLookup:
    """Which contacts may be the person: by canonical number and/or normalised e-mail, and
    the person a registration made through a self-service link is linked to."""

    national_id: str | None
    email: str | None
    with_registrations: bool = False
    linked_id: str | None = None

    @classmethod
    def of(
        cls,
        national_id: str | None,
        email: str | None,
        with_registrations: bool,
        linked_id: str | None = None,
    ) -> ContactLookup | None:
        """A lookup, or None when there is nothing to look up by."""
        if national_id is None and email is None and linked_id is None:
            return None
        return cls(national_id, email, with_registrations, linked_id)


@dataclass(frozen=True)
class DecisionRead:
    """What the first round trip returned."""

    record: RegistrationRecord
    lookup: ContactLookup | None
    contacts: tuple[ContactRecord, ...]


@dataclass(frozen=True)
class AdminRead:
    """A registration with its person and its open review tasks."""

    record: RegistrationRecord
    person: ContactRecord | None
    open_tasks: tuple[TaskRecord, ...]


class RegistrationRepository:
    """The registration pipeline's reads and writes."""

    def __init__(self, client: DataverseClient, schema: SchemaMap, country: Country) -> None:
        self.client = client
        self.schema = schema
        self.country = country

    def read_for_decision(
        self, registration_id: str, lookup: ContactLookup | None
    ) -> DecisionRead:
        """The registration and the contacts ``lookup`` finds, in one ``$batch``."""
        batch = BatchRequest()
        batch.get(self._registration_path(registration_id, expand=(self._proof(),)))
        if lookup is not None:
            batch.get(self._contacts_path(lookup))
        results = self._read(batch)
        record = registration_record(_body(results[0]), self.schema)
        contacts = self._contacts(_body(results[1])) if lookup is not None else ()
        return DecisionRead(record=record, lookup=lookup, contacts=contacts)

    def read_many(
        self, lookups: Mapping[str, ContactLookup | None]
    ) -> dict[str, DecisionRead | RegistrationError]:
        """What :meth:`read_for_decision` reads, for many registrations in one ``$batch``;
        per registration the read, or why it failed (:class:`RegistrationGone`,
        :class:`TransientFailure`). A failure of the whole batch raises TransientFailure."""
        batch = BatchRequest()
        for registration_id, lookup in lookups.items():
            batch.get(self._registration_path(registration_id))
            if lookup is not None:
                batch.get(self._contacts_path(lookup))
        with _translated():
            results = iter(self.client.execute_batch(batch, continue_on_error=True))
        reads: dict[str, DecisionRead | RegistrationError] = {}
        for registration_id, lookup in lookups.items():
            registration = next(results)
            contacts = next(results) if lookup is not None else None
            failed = next((p for p in (registration, contacts) if p and not p.ok), None)
            if registration.status == 404:
                reads[registration_id] = RegistrationGone(f"registration {registration_id}")
            elif failed is not None:
                reads[registration_id] = _part_failure(failed)
            else:
                reads[registration_id] = DecisionRead(
                    record=registration_record(_body(registration), self.schema),
                    lookup=lookup,
                    contacts=self._contacts(_body(contacts)) if contacts else (),
                )
        return reads

    def apply_many(self, batch: BatchRequest) -> list[RegistrationError | None]:
        """Send change sets (one per registration) in one ``$batch`` that goes on past a
        failed one; per change set None when written, :class:`StaleWrite` when refused
        with 412/404 or rolled back by a 502/503/504 (both: read, decide and write again),
        :class:`TransientFailure` for any other failure. A failure of the whole batch
        raises TransientFailure."""
        with _translated():
            results = self.client.execute_batch(batch, continue_on_error=True)
        outcomes: list[RegistrationError | None] = []
        for group in results_by_item(batch, results):
            failed = next((part for part in group if not part.ok), None)
            if not group:
                outcomes.append(TransientFailure("Dataverse did not answer this change set"))
            elif failed is None:
                outcomes.append(None)
            elif failed.status in (404, 412, 502, 503, 504):
                outcomes.append(StaleWrite(f"HTTP {failed.status}"))
            else:
                outcomes.append(_part_failure(failed))
        return outcomes

    def read_contacts(self, lookup: ContactLookup) -> tuple[ContactRecord, ...]:
        """The contacts ``lookup`` finds (when the registration differed from the event)."""
        batch = BatchRequest()
        batch.get(self._contacts_path(lookup))
        return self._contacts(_body(self._read(batch)[0]))

    def read_for_admin(self, registration_id: str) -> AdminRead:
        """The registration with its person and its open review tasks, in one ``$batch``."""
        m, t = self.schema.registration, self.schema.task
        batch = BatchRequest()
        person = odata.Expand(m.person_nav, select=contact_columns(self.schema.contact))
        batch.get(self._registration_path(registration_id, expand=(person,)))
        open_tasks = odata.eq(
            lookup_property(t.regarding), uuid.UUID(registration_id)
        ) & odata.eq(t.state, t.open_state)
        batch.get(_collection(t.entity_set, select=[t.id], filter=open_tasks))
        results = self._read(batch)
        row = _body(results[0])
        record = registration_record(row, self.schema)
        person_row = row.get(m.person_nav)
        tasks = tuple(
            TaskRecord(id=str(task[t.id]).lower(), etag=task.get("@odata.etag"))
            for task in _body(results[1]).get("value", [])
        )
        return AdminRead(
            record=record,
            person=contact_record(person_row, self.schema, self.country) if person_row else None,
            open_tasks=tasks,
        )

    def received_until(self, cutoff: datetime, limit: int) -> list[str]:
        """Ids of registrations still Received (or without status) created at ``cutoff`` or
        earlier, oldest first (``createdon`` has whole seconds, so the cutoff's second counts)."""
        m = self.schema.registration
        received = odata.eq(m.status, m.status_values[Status.RECEIVED]) | odata.eq(m.status, None)
        with _translated():
            rows = self.client.query(
                m.entity_set,
                select=[m.id],
                filter=received & odata.le(m.created_on, cutoff),
                orderby=[odata.asc(m.created_on)],
                top=limit,
            )
            return [str(row[m.id]).lower() for row in rows]

    def recorded_degrees(
        self, students: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Degree]]:
        """The degrees the degree table holds for each (register, student ref) of
        ``students``, in one read."""
        with _translated():
            return DegreeTable(self.client, self.schema.degree).for_students(students)

    def team_ids(self, name: str) -> list[str]:
        """The ids of the teams called ``name`` (at most two: one is the answer wanted)."""
        t = self.schema.team
        with _translated():
            rows = self.client.query(
                t.entity_set, select=[t.id], filter=odata.eq(t.name, name), top=2
            )
            return [str(row[t.id]).lower() for row in rows]

    def apply(self, batch: BatchRequest) -> list[BatchPartResult]:
        """Send one change set; :class:`StaleWrite` when Dataverse refused it (412/404)."""
        with _translated():
            try:
                return self.client.execute_batch(batch)
            except BatchError as exc:
                if isinstance(exc.error, PreconditionFailedError | NotFoundError):
                    raise StaleWrite(str(exc)) from exc
                raise

    # ----------------------------------------------------------------- internals

    def _read(self, batch: BatchRequest) -> list[BatchPartResult]:
        with _translated():
            try:
                return self.client.execute_batch(batch)
            except BatchError as exc:
                # The registration is the first GET: a 404 there means it is gone.
                if isinstance(exc.error, NotFoundError) and exc.part.index == 0:
                    raise RegistrationGone(str(exc)) from exc
                raise

    def _proof(self) -> odata.Expand:
        """The link a registration names as its proof, with what shows whether it is one."""
        links = self.schema.selfservice_link
        return odata.Expand(
            self.schema.registration.proof_nav,
            select=[lookup_property(links.person), links.used_on],
        )

    def _registration_path(
        self, registration_id: str, expand: tuple[odata.Expand, ...] = ()
    ) -> str:
        m = self.schema.registration
        query = odata.query_string(select=registration_columns(m), expand=expand)
        return odata.with_query(odata.entity_path(m.entity_set, registration_id), query)

    def _contacts_path(self, lookup: ContactLookup) -> str:
        c, m = self.schema.contact, self.schema.registration
        clauses = []
        if lookup.national_id is not None:
            clauses.append(odata.eq(c.national_id, lookup.national_id))
        if lookup.email is not None:
            clauses += [odata.eq(column, lookup.email) for column in (*c.emails, c.email_key)]
        if lookup.linked_id is not None:
            clauses.append(odata.eq(c.id, uuid.UUID(lookup.linked_id)))
        expand = (
            (odata.Expand(m.person_registrations_nav, select=[m.id, m.status]),)
            if lookup.with_registrations
            else ()
        ) + (degrees_expand(self.schema.degree),)
        return _collection(
            c.entity_set, select=contact_columns(c), filter=odata.or_(*clauses), expand=expand
        )

    def _contacts(self, body: Mapping[str, Any]) -> tuple[ContactRecord, ...]:
        m = self.schema.registration
        return tuple(
            contact_record(
                row,
                self.schema,
                self.country,
                linked_registrations(row.get(m.person_registrations_nav) or [], m),
            )
            for row in body.get("value", [])
        )


def _collection(
    entity_set: str,
    *,
    select: list[str],
    filter: odata.Filter,
    expand: tuple[odata.Expand, ...] = (),
) -> str:
    query = odata.query_string(select=select, filter=filter, expand=expand)
    return odata.with_query(odata.encode_path(odata.identifier(entity_set)), query)


def _body(part: BatchPartResult) -> dict[str, Any]:
    body = part.json()
    return body if isinstance(body, dict) else {}


@contextmanager
def _translated() -> Iterator[None]:
    """Technical failures that outlasted the client's retries become TransientFailure."""
    try:
        yield
    except TECHNICAL as exc:
        raise TransientFailure(f"Dataverse: {_described(exc)}", retry_after=_wait(exc)) from exc
    except BatchError as exc:
        if isinstance(exc.error, TECHNICAL):
            raise TransientFailure(
                f"Dataverse: {_described(exc.error)}", retry_after=_wait(exc.error)
            ) from exc
        raise


def _part_failure(part: BatchPartResult) -> TransientFailure:
    """A failed part of a batch that goes on past failures, as the pipeline's failure."""
    error = error_from_response(part.status, part.headers, part.body)
    return TransientFailure(f"Dataverse: {_described(error)}", retry_after=_wait(error))


def _wait(error: Exception) -> float | None:
    return error.retry_after if isinstance(error, ThrottledError) else None


def _described(error: Exception) -> str:
    """A short account of a failure (an error body can be a whole multipart answer)."""
    if isinstance(error, ResponseError):
        code = f" {error.code}" if error.code else ""
        return f"{type(error).__name__} (HTTP {error.status}{code})"
    return f"{type(error).__name__}: {error}"

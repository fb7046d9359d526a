"""Deciding many registrations at once: one read ``$batch``, one write ``$batch``.

A Service Bus batch of N events costs two Dataverse requests per part of
``REGISTRATION__BATCH_PART_SIZE`` registrations instead of 2N: one ``$batch`` of GETs (each
registration and the contacts its event points at) and one ``$batch`` holding one change set
per registration, sent with ``odata.continue-on-error`` so one registration's 412 never
rolls back or stops another's. The parts of a batch run side by side, so one part's registry
look-ups overlap another's Dataverse requests; a part size of 100 or more makes a batch of
100 one read and one write. Every per-registration guarantee of
:meth:`RegistrationService.process` holds: the registration is re-read, written with
``If-Match``, a new person is created with a create-only upsert on the identity number, a
change set refused with 412/404 is read and decided again (the refused ones together, at
most ``max_attempts`` rounds), and every status carries its reason and evidence.

Registry look-ups are issued together where the registry allows: each registration of a
part is first checked and matched, then a register that looks people up in batches
(Folkeregisteret with the ``offentlig-med-hjemmel`` rights package) is asked once for the
part, about exactly the people the one-by-one path would ask about (a valid registration
nobody matched, not erased, with an identity number: :func:`~.decision.registry_number`),
and registers without batch look-ups are asked person by person, side by side. A failed
batch look-up fails only the registrations that needed it, with the :class:`TransientFailure`
a failed look-up gives one registration. Where the alumni rule asks for a degree that the
student register's facts do not show, the degrees recorded for those students (from the
register's event feed) are read for the whole part in one query, a third request; if it
fails, only those registrations wait. Events that are not registration creates
(an administrator's decision, another table, the pipeline's own writes) go one by one
through :meth:`RegistrationService.handle_event`. The same registration twice in one batch
is decided once and both events get that outcome.

A failure never spreads: each event gets its own :class:`Outcome` or
:class:`TransientFailure`, and only a failure of a whole ``$batch`` (Dataverse throttling the
request itself) fails every registration that was in it.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from plugins.core.events import DataverseEvent
from plugins.core.logging import log_context
from plugins.core.metrics import count_decision
from plugins.dataverse.batch import BatchRequest
from plugins.dataverse.client import DataverseClient

from .errors import RegistrationError, RegistrationGone, StaleWrite, TransientFailure
from .repository import ContactLookup, DecisionRead
from .service import Outcome, Pending, RegistrationService, log_outcome

log = logging.getLogger(__name__)

Result = Outcome | TransientFailure
In = TypeVar("In")
Out = TypeVar("Out")
# Registry look-ups at once per part.
REGISTRY_PARALLELISM = 8


class BatchProcessor:
    """Handles a list of events with as few Dataverse round trips as they allow."""

    def __init__(self, service: RegistrationService) -> None:
        self.service = service

    def handle(self, events: Sequence[DataverseEvent]) -> list[Result]:
        """One result per event, in order."""
        service = self.service
        results: list[Result | None] = [None] * len(events)
        creates: dict[str, list[int]] = {}
        lookups: dict[str, ContactLookup | None] = {}
        for index, event in enumerate(events):
            if self._batchable(event):
                if event.record_id not in creates:
                    lookups[event.record_id] = service.hints(event)
                creates.setdefault(event.record_id, []).append(index)
                continue
            try:
                results[index] = service.handle_event(event)
            except TransientFailure as exc:
                results[index] = exc
        if lookups:
            # One $batch carries one correlation id: the first event's, so a batch of one
            # is followed end to end as before; each outcome is logged with its own event's.
            first = events[creates[next(iter(creates))][0]]
            correlation_id = first.correlation_id or str(uuid.uuid4())
            events_by_id = {rid: events[indexes[0]] for rid, indexes in creates.items()}
            with log_context(correlation_id=correlation_id), DataverseClient.correlation(
                correlation_id
            ):
                decided = self._process_in_parts(lookups)
            for registration_id, result in decided.items():
                event = events_by_id[registration_id]
                with log_context(
                    registration_id=registration_id, correlation_id=event.correlation_id,
                    operation_id=event.operation_id,
                ):
                    log_outcome(
                        f"{event.message} event ({event.source}, batch {correlation_id})",
                        result,
                    )
            for registration_id, indexes in creates.items():
                for index in indexes:
                    results[index] = decided[registration_id]
        return [result for result in results if result is not None]

    def process(self, lookups: dict[str, ContactLookup | None]) -> dict[str, Result]:
        """Decide and write every registration of ``lookups`` (id -> what its event said
        about the person); re-read and decide again those refused as stale."""
        settings = self.service.settings
        results: dict[str, Result] = {}
        pending = dict(lookups)
        for attempt in range(1, settings.max_attempts + 1):
            if not pending:
                break
            stale = self._round(pending, attempt, results)
            pending = {registration_id: lookups[registration_id] for registration_id in stale}
        for registration_id in pending:
            results[registration_id] = TransientFailure(
                f"the registration kept changing during {settings.max_attempts} attempts"
            )
        return results

    # --------------------------------------------------------------- internals

    def _process_in_parts(self, lookups: dict[str, ContactLookup | None]) -> dict[str, Result]:
        """:meth:`process` on parts of at most ``batch_part_size`` registrations side by
        side, so one part's registry look-ups overlap another's ``$batch`` (a batch of 100
        in parts of 25: eight Dataverse requests)."""
        ids = list(lookups)
        size = self.service.settings.batch_part_size
        parts = [
            {rid: lookups[rid] for rid in ids[start : start + size]}
            for start in range(0, len(ids), size)
        ]
        if len(parts) == 1:
            return self.process(lookups)
        results: dict[str, Result] = {}
        with ThreadPoolExecutor(len(parts), thread_name_prefix="registration-part") as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, self.process, part) for part in parts
            ]
            for future in futures:
                results.update(future.result())
        return results

    def _batchable(self, event: DataverseEvent) -> bool:
        service = self.service
        return (
            event.table == service.schema.registration.table
            and event.message == "Create"
            and not service.own(event)
        )

    def _round(
        self, lookups: dict[str, ContactLookup | None], attempt: int, results: dict[str, Result]
    ) -> list[str]:
        """One read, the decisions, one write; the ids refused as stale."""
        service = self.service
        try:
            reads = service.repository.read_many(lookups)
        except TransientFailure as exc:
            results.update(dict.fromkeys(lookups, exc))
            return []
        decided = self._decide(reads, results)
        batch = BatchRequest()
        written: list[Pending] = []
        for pending in decided:
            if service.plan(pending, batch) is None:
                results[pending.registration_id] = _outcome(pending, attempt, written=False)
            else:
                written.append(pending)
        if not written:
            return []
        try:
            answers = service.repository.apply_many(batch)
        except TransientFailure as exc:
            results.update({pending.registration_id: exc for pending in written})
            return []
        stale = []
        for pending, answer in zip(written, answers, strict=True):
            if isinstance(answer, StaleWrite):
                log.info("registration %s: changed while deciding (attempt %d), re-reading",
                         pending.registration_id, attempt)
                stale.append(pending.registration_id)
            elif isinstance(answer, TransientFailure):
                results[pending.registration_id] = answer
            else:
                count_decision(str(pending.decision.status))
                results[pending.registration_id] = _outcome(pending, attempt, written=True)
        return stale

    def _decide(
        self, reads: dict[str, DecisionRead | RegistrationError], results: dict[str, Result]
    ) -> list[Pending]:
        """The decisions on what was read: each registration considered, then the registers
        that look up in batches asked once for the numbers the decisions rest on, the other
        look-ups side by side."""
        ready: dict[str, DecisionRead] = {}
        for registration_id, read in reads.items():
            if isinstance(read, RegistrationGone):
                results[registration_id] = Outcome(
                    registration_id=registration_id, result="gone",
                    detail="the registration no longer exists",
                )
            elif isinstance(read, TransientFailure):
                results[registration_id] = read
            elif isinstance(read, DecisionRead):
                ready[registration_id] = read
        service = self.service
        considered = _side_by_side(service.consider, ready, results)
        # Only the numbers a decision rests on: a register logs every look-up.
        registries = service.registries.prefetched(
            [number for c in considered.values() if (number := c.registry_number) is not None]
        )
        answers = _side_by_side(lambda c: service.ask(c, registries), considered, results)
        wanted = {
            registration_id: student for registration_id, answer in answers.items()
            if (student := service.degrees_wanted(considered[registration_id], answer))
        }
        degrees = {}
        if wanted:
            try:
                degrees = service.repository.recorded_degrees(wanted.values())
            except TransientFailure as exc:
                # Only the registrations whose decision rests on recorded degrees wait.
                results.update(dict.fromkeys(wanted, exc))
                answers = {key: a for key, a in answers.items() if key not in wanted}
        concluding = {key: (considered[key], answer) for key, answer in answers.items()}
        return list(_side_by_side(
            lambda item: service.conclude(*item, degrees), concluding, results
        ).values())


def _side_by_side(
    work: Callable[[In], Out], items: dict[str, In], failures: dict[str, Result]
) -> dict[str, Out]:
    """``work`` on each item in worker threads (each keeping the batch's log context and
    correlation id); a :class:`TransientFailure` goes to ``failures`` under its id."""
    workers = max(1, min(REGISTRY_PARALLELISM, len(items)))
    with ThreadPoolExecutor(workers, thread_name_prefix="registration") as pool:
        futures = {
            key: pool.submit(contextvars.copy_context().run, work, item)
            for key, item in items.items()
        }
    done: dict[str, Out] = {}
    for key, future in futures.items():
        try:
            done[key] = future.result()
        except TransientFailure as exc:
            failures[key] = exc
    return done


def _outcome(pending: Pending, attempts: int, *, written: bool) -> Outcome:
    return RegistrationService.outcome(
        pending.registration_id, pending.decision, attempts, written=written
    )

"""Recording payments: from a bank file (BgMax, Nets OCR giro) or a provider's webhook.

A bank file is read in two passes (memory stays flat whatever its size):

1. the whole file is checked (:func:`plugins.dues.bgmax.check`): a malformed line stops the
   import with its line number **before anything is written**;
2. the payments are applied in chunks of ``chunk_size``. Each chunk is one Dataverse change
   set: the payment rows (``CreateMultiple``; their keys are alternate keys, so a payment
   recorded before fails the change set and the chunk is redone without it), the invoices'
   new paid amounts and statuses (each conditional on the ETag read), the memberships the
   payments extend (``UpdateMultiple``), and the file's checkpoint (how many payments are
   applied). A chunk is applied completely or not at
   all; an import that stops (Dataverse unavailable, a concurrent change) is resumed by
   reading the same file again, from its checkpoint.

So a file is all-or-nothing per chunk and resumable by checkpoint; a malformed file is
nothing at all. A file read again after it was imported records nothing (its digest is
known); a payment reported by two files is recorded once (its key names the bank's own
deposit and position). Payments that match no invoice are recorded without one, on the
review list (:mod:`.matching`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.batch import ACTION_PREFIX, BatchRequest
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import BatchError, PreconditionFailedError
from plugins.sync.lifecycle import MembershipStatus

from . import bgmax, nets
from .bankfile import BankFileError, BankPayment, FileSummary
from .matching import Applied, PaymentRow, apply_payments
from .nets import NetsReader
from .references import normalise_reference
from .store import DuesStore

log = logging.getLogger(__name__)

_ATTEMPTS = 3
CREATE_MULTIPLE = "CreateMultiple"
UPDATE_MULTIPLE = "UpdateMultiple"
_READ_BYTES = 1 << 20


@dataclass
class ImportReport:
    """What an import did (counts only; no payer's data)."""

    file_format: str = ""
    payments: int = 0
    total: Decimal = Decimal(0)
    already_imported: bool = False
    resumed_from: int = 0
    recorded: int = 0
    duplicates: int = 0
    matched: int = 0
    for_review: int = 0
    memberships_extended: int = 0
    test_file: bool = False
    by_match: dict[str, int] = field(default_factory=dict)


class PaymentRecorder:
    """Matches payments to invoices and writes them, one change set per chunk."""

    def __init__(self, client: DataverseClient, schema: SchemaMap, chunk_size: int) -> None:
        self._client = client
        self._schema = schema
        self._store = DuesStore(client, schema)
        self._chunk_size = chunk_size

    def record(
        self,
        payments: Iterable[BankPayment],
        source: str,
        report: ImportReport,
        checkpoint: Callable[[int], dict[str, Any]] | None = None,
        start: int = 0,
    ) -> None:
        """Record ``payments`` chunk by chunk; ``checkpoint(position)`` gives the file row's
        address and update written with each chunk (``start`` payments were done before)."""
        position = start
        iterator = iter(payments)
        while chunk := list(islice(iterator, self._chunk_size)):
            position += len(chunk)
            self._chunk(chunk, source, report, checkpoint(position) if checkpoint else None)

    def _chunk(
        self,
        chunk: list[BankPayment],
        source: str,
        report: ImportReport,
        checkpoint: dict[str, Any] | None,
    ) -> None:
        # The first attempt assumes no payment of the chunk is recorded yet (the checkpoint
        # says so for a file); a payment another file or a provider recorded makes the change
        # set fail on its key, and the next attempt leaves the recorded ones out.
        known: set[str] = set()
        for attempt in range(1, _ATTEMPTS + 1):
            fresh = [p for p in chunk if p.key not in known and f"{p.key}-1" not in known]
            references = {normalise_reference(r) for p in fresh for r in p.references}
            invoices = self._store.invoices_by_reference(references) if references else {}
            applied = apply_payments(fresh, invoices, source)
            try:
                self._write(applied, source, checkpoint)
            except BatchError as exc:
                if not isinstance(exc.error, PreconditionFailedError) or attempt == _ATTEMPTS:
                    raise
                log.info("payments: a payment or an invoice changed meanwhile; chunk read again")
                known = self._store.existing_payment_keys(_all_keys(chunk))
                continue
            report.duplicates += len(chunk) - len(fresh)
            report.recorded += len(applied.rows)
            report.memberships_extended += len(applied.extensions)
            for row in applied.rows:
                report.by_match[row.match] = report.by_match.get(row.match, 0) + 1
                if row.invoice_id is not None:
                    report.matched += 1
                if row.needs_review:
                    report.for_review += 1
            return

    def _write(
        self, applied: Applied, source: str, checkpoint: dict[str, Any] | None
    ) -> None:
        """One change set: the payments (``CreateMultiple``), each invoice (conditional on
        its ETag), the memberships (``UpdateMultiple``) and the checkpoint."""
        s = self._schema
        p, i, m = s.payment, s.invoice, s.membership
        batch = BatchRequest()
        changes = batch.changeset()
        targets = [self._payment_record(row, source) for row in applied.rows]
        if targets:
            changes.action(odata.encode_path(p.entity_set), CREATE_MULTIPLE, {"Targets": targets})
        for invoice in applied.invoices.values():
            changes.update(
                odata.entity_path(i.entity_set, invoice.id),
                {i.paid_amount: invoice.paid_amount, i.status: i.status_values[invoice.status],
                 i.paid_on: invoice.paid_on},
                if_match=invoice.etag or "*",
            )
        active = m.status_values[MembershipStatus.ACTIVE]
        extended = [
            {m.id: e.membership_id, m.end: e.end, m.status: active,
             "@odata.type": f"{ACTION_PREFIX}{m.table}"}
            for e in applied.extensions.values()
        ]
        if extended:
            changes.action(odata.encode_path(m.entity_set), UPDATE_MULTIPLE, {"Targets": extended})
        if checkpoint is not None:
            changes.update(checkpoint["address"], checkpoint["record"])
        if changes.operations:
            self._client.execute_batch(batch)

    def _payment_record(self, row: PaymentRow, source: str) -> dict[str, Any]:
        p, i = self._schema.payment, self._schema.invoice
        record: dict[str, Any] = {
            "@odata.type": f"{ACTION_PREFIX}{p.table}",
            p.key: row.key,
            p.amount: row.amount,
            p.currency: row.currency,
            p.reference: row.reference,
            p.paid_on: row.paid_on,
            p.source: source[:100],
            p.match: p.match_values[row.match],
            p.needs_review: row.needs_review,
        }
        if row.invoice_id is not None:
            record[f"{p.invoice_nav}@odata.bind"] = odata.bind(i.entity_set, row.invoice_id)
        return record


class PaymentImport:
    """Imports one bank file."""

    def __init__(self, client: DataverseClient, schema: SchemaMap, chunk_size: int) -> None:
        self._client = client
        self._schema = schema
        self._recorder = PaymentRecorder(client, schema, chunk_size)

    def import_file(self, path: Path) -> ImportReport:
        """Check, then record, the payments of the bank file at ``path`` (BgMax or Nets)."""
        digest = _digest(path)
        f = self._schema.payment_file
        row = self._file_row(digest)
        reader = reader_for(path)
        report = ImportReport(file_format=reader.format)
        if row is not None and row.get(f.status) == f.status_values["imported"]:
            report.already_imported = True
            report.payments = int(row.get(f.payments) or 0)
            return report
        summary = reader.check()
        report.payments, report.total, report.test_file = (
            summary.payments, summary.total, summary.test
        )
        address = odata.entity_path(f.entity_set, {f.digest: digest})
        start = int((row or {}).get(f.position) or 0)
        report.resumed_from = start
        if row is None:
            self._client.upsert(f.entity_set, {f.digest: digest}, self._file_record(path, summary))
        self._recorder.record(
            islice(reader.payments(), start, None), f"{reader.format}:{path.name}", report,
            lambda position: {"address": address, "record": {f.position: position}},
            start,
        )
        self._client.upsert(
            f.entity_set, {f.digest: digest}, {f.status: f.status_values["imported"]}
        )
        log.info(
            "payments: %s: %d payments, %d recorded, %d duplicates, %d matched, %d for review",
            path.name, report.payments, report.recorded, report.duplicates, report.matched,
            report.for_review,
        )
        return report

    def _file_row(self, digest: str) -> dict[str, Any] | None:
        f = self._schema.payment_file
        rows = self._client.query(
            f.entity_set, select=(f.status, f.position, f.payments),
            filter=odata.eq(f.digest, digest), top=1,
        )
        return next(iter(rows), None)

    def _file_record(self, path: Path, summary: FileSummary) -> dict[str, Any]:
        f = self._schema.payment_file
        return {
            f.name: path.name[:200],
            f.format: summary.format,
            f.status: f.status_values["importing"],
            f.position: 0,
            f.payments: summary.payments,
            f.total: summary.total,
        }


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_READ_BYTES):
            sha.update(block)
    return sha.hexdigest()


class BgMaxReader:
    """Checks and reads one BgMax file, a pass over its lines each (memory stays flat)."""

    format = bgmax.FORMAT

    def __init__(self, path: Path) -> None:
        self._path = path
        self._checked: bgmax.Checked | None = None

    def check(self) -> FileSummary:
        with self._path.open("rb") as lines:
            self._checked = bgmax.check(lines)
        return self._checked.summary

    def payments(self) -> Iterator[BankPayment]:
        if self._checked is None:
            raise RuntimeError("check() first")
        with self._path.open("rb") as lines:
            yield from bgmax.payments(lines, self._checked)


def reader_for(path: Path) -> BgMaxReader | NetsReader:
    """The reader of a bank file, by what it starts with; BgMax unless it is a Nets file."""
    with path.open("rb") as stream:
        head = stream.read(16)
    return NetsReader(path) if nets.looks_like(head) else BgMaxReader(path)


def _all_keys(chunk: list[BankPayment]) -> set[str]:
    """Every key a chunk's payments may be recorded under (split payments add ``-n``)."""
    keys = {p.key for p in chunk}
    keys.update(f"{p.key}-1" for p in chunk if len(p.references) > 1)
    return keys


__all__ = ["BankFileError", "ImportReport", "PaymentImport", "PaymentRecorder"]

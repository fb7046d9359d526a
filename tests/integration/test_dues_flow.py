"""Dues against the sandbox: approval -> membership -> invoice e-mail with a valid reference and
its PDF -> a BgMax file -> the invoice paid and the membership extended; a file read twice."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from dues_harness import SETTINGS, add_type, approve_registration, one
from sync_harness import SCHEMA, add_contact, client_for, rows

from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dues.bankfile import BankFileError
from plugins.dues.payments import PaymentImport
from plugins.dues.references import ReferenceScheme, valid_reference
from plugins.dues.service import DuesRun
from sandbox.app import Sandbox
from sandbox.bankfiles import write_bgmax

NOW = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
INV, PAY, MEM = SCHEMA.invoice, SCHEMA.payment, SCHEMA.membership


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def invoiced(client: DataverseClient, sandbox: Sandbox) -> tuple[str, dict]:
    add_type(client)
    person = add_contact(client, emailaddress1="alma@example.se")
    approve_registration(client, person, NOW.replace(hour=1))
    report = DuesRun(client, SCHEMA, SETTINGS, "Alumniföreningen").run(NOW)
    assert (report.memberships_created, report.invoices_created, report.emailed) == (1, 1, 1)
    return person, one(client, INV.entity_set)


def test_approval_makes_membership_and_emailed_invoice_with_pdf(
    client: DataverseClient, sandbox: Sandbox
) -> None:
    _, invoice = invoiced(client, sandbox)
    membership = one(client, MEM.entity_set, select=(MEM.start, MEM.end, MEM.status, MEM.type))
    assert membership[MEM.start] == "2026-01-10"
    # Unpaid, a new membership runs to the due date (30 days) plus the type's 14 grace days.
    assert membership[MEM.end] == "2026-02-23"
    assert Decimal(str(invoice[INV.amount])) == Decimal("450.00")
    assert invoice[INV.due] == "2026-02-09"
    assert valid_reference(invoice[INV.reference], ReferenceScheme.SE_OCR)
    assert invoice[INV.delivery] == INV.delivery_values["emailed"]
    mail = sandbox.outbox.to("alma@example.se")
    assert len(mail) == 1 and invoice[INV.reference] in mail[0].body
    attachment = one(client, SCHEMA.attachment.entity_set)
    assert attachment["mimetype"] == "application/pdf"
    assert base64.b64decode(attachment["body"]).startswith(b"%PDF-")
    # A second run the same day changes nothing and sends nothing.
    again = DuesRun(client, SCHEMA, SETTINGS, "Alumniföreningen").run(NOW)
    assert (again.memberships_created, again.invoices_created, again.emailed) == (0, 0, 0)
    assert len(sandbox.outbox.to("alma@example.se")) == 1


def test_bank_file_pays_invoice_extends_membership_and_reads_once(
    client: DataverseClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    _, invoice = invoiced(client, sandbox)
    reference = invoice[INV.reference]
    bank = write_bgmax(tmp_path / "bgmax1.txt", [
        (reference, Decimal("450.00")), ("99999999999", Decimal("100.00")), ("", Decimal("5"))
    ], paid_on=date(2026, 1, 20))
    importer = PaymentImport(client, SCHEMA, chunk_size=2)
    report = importer.import_file(bank)
    assert (report.payments, report.recorded, report.matched, report.for_review) == (3, 3, 1, 2)
    paid = one(client, INV.entity_set, select=(INV.status, INV.paid_amount, INV.paid_on))
    assert paid[INV.status] == INV.status_values["paid"] and paid[INV.paid_on] == "2026-01-20"
    membership = one(client, MEM.entity_set, select=(MEM.end, MEM.status))
    assert membership[MEM.end] == "2027-01-09"
    review = rows(client, PAY.entity_set, select=(PAY.amount, PAY.reference),
                  filter=odata.eq(PAY.needs_review, True))
    assert sorted(Decimal(str(r[PAY.amount])) for r in review) == [Decimal(5), Decimal(100)]
    # The same file again: known by its digest, nothing recorded.
    assert importer.import_file(bank).already_imported
    # The same payments in another file (a re-delivery): each payment recorded once.
    copy = tmp_path / "bgmax2.txt"
    copy.write_bytes(bank.read_bytes() + b"\r\n")
    second = importer.import_file(copy)
    assert (second.recorded, second.duplicates) == (0, 3)
    assert len(rows(client, PAY.entity_set)) == 3
    assert one(client, INV.entity_set, select=(INV.paid_amount,))[INV.paid_amount] == 450


def test_partial_then_rest_and_overpayment(
    client: DataverseClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    _, invoice = invoiced(client, sandbox)
    reference = invoice[INV.reference]
    first = write_bgmax(tmp_path / "a.txt", [(reference, Decimal("200.00"))], first_serial=1)
    PaymentImport(client, SCHEMA, 100).import_file(first)
    status = one(client, INV.entity_set, select=(INV.status,))[INV.status]
    assert status == INV.status_values["partly-paid"]
    assert one(client, MEM.entity_set, select=(MEM.end,))[MEM.end] == "2026-02-23"
    second = write_bgmax(tmp_path / "b.txt", [(reference, Decimal("300.00"))], first_serial=2)
    report = PaymentImport(client, SCHEMA, 100).import_file(second)
    assert report.for_review == 1
    state = one(client, INV.entity_set, select=(INV.status, INV.paid_amount))
    assert state[INV.status] == INV.status_values["overpaid"] and state[INV.paid_amount] == 500
    assert one(client, MEM.entity_set, select=(MEM.end,))[MEM.end] == "2027-01-09"


def test_malformed_line_is_reported_and_nothing_written(
    client: DataverseClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    _, invoice = invoiced(client, sandbox)
    good = write_bgmax(tmp_path / "good.txt", [(invoice[INV.reference], Decimal("450.00"))] * 3)
    lines = good.read_bytes().split(b"\r\n")
    lines[3] = lines[3][:40] + b"X" + lines[3][41:]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\r\n".join(lines))
    with pytest.raises(BankFileError) as caught:
        PaymentImport(client, SCHEMA, 1).import_file(bad)
    assert caught.value.line == 4
    assert rows(client, PAY.entity_set) == [] and rows(client, SCHEMA.payment_file.entity_set) == []
    status = one(client, INV.entity_set, select=(INV.status,))[INV.status]
    assert status == INV.status_values["open"]

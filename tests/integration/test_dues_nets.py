"""Norway: an invoice with a KID (MOD11) paid through Nets' OCR giro file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from dues_harness import SETTINGS, add_type, approve_registration, one
from sync_harness import SCHEMA, add_contact, client_for, rows

from plugins.dataverse.client import DataverseClient
from plugins.dues.bankfile import BankFileError
from plugins.dues.payments import PaymentImport
from plugins.dues.references import ReferenceScheme, valid_reference
from plugins.dues.service import DuesRun
from sandbox.app import Sandbox
from sandbox.bankfiles import ocr_giro_lines

INV = SCHEMA.invoice


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def kid_invoice(client: DataverseClient) -> str:
    add_type(client, currency="NOK")
    person = add_contact(client)
    approve_registration(client, person, datetime(2026, 1, 10, 1, tzinfo=UTC))
    settings = SETTINGS.model_copy(update={"reference_scheme": "no-kid-mod11", "language": "nb"})
    DuesRun(client, SCHEMA, settings, "Alumni").run(datetime(2026, 1, 10, 3, tzinfo=UTC))
    kid = one(client, INV.entity_set)[INV.reference]
    assert valid_reference(kid, ReferenceScheme.NO_KID_MOD11)
    return kid


def test_ocr_giro_file_pays_the_kid_invoice(client: DataverseClient, tmp_path: Path) -> None:
    kid = kid_invoice(client)
    path = tmp_path / "OCR.D200126"
    path.write_text("\r\n".join(ocr_giro_lines([(kid, Decimal("450")), ("99999", Decimal(1))])))
    report = PaymentImport(client, SCHEMA, 50).import_file(path)
    assert (report.file_format, report.payments, report.matched, report.for_review) == (
        "nets-ocr", 2, 1, 1)
    assert one(client, INV.entity_set, select=(INV.status,))[INV.status] == INV.status_values[
        "paid"]
    assert PaymentImport(client, SCHEMA, 50).import_file(path).already_imported


def test_malformed_ocr_giro_line(client: DataverseClient, tmp_path: Path) -> None:
    kid = kid_invoice(client)
    lines = ocr_giro_lines([(kid, Decimal("450"))])
    lines[2] = lines[2][:30] + "ABC" + lines[2][33:]
    path = tmp_path / "OCR.bad"
    path.write_text("\n".join(lines))
    with pytest.raises(BankFileError) as caught:
        PaymentImport(client, SCHEMA, 50).import_file(path)
    assert caught.value.line == 3
    assert rows(client, SCHEMA.payment.entity_set) == []

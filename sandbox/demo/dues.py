"""The demo's dues part: the approved members invoiced, one paying through a bank file.

Runs after the registrations are decided: a membership type with a fee is added, the dues
run gives every approved person a membership and an invoice (e-mailed with its PDF, or
marked for printing), and a BgMax file from "the bank" pays one invoice and brings one
payment with a reference nobody issued (it lands on the review list). The file is then
read a second time, which records nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DuesSettings
from plugins.dataverse.client import DataverseClient
from plugins.dues.payments import PaymentImport
from plugins.dues.service import DuesRun
from plugins.dues.texts import money

from ..app import Sandbox
from ..bankfiles import write_bgmax

MAP = SchemaMap()
SETTINGS = DuesSettings(
    enabled=True, registration_type="standard", payee_name="Nordic University Alumni",
    payee_account="Bankgiro 991-2346",
)


def run_dues_demo(sandbox: Sandbox, client: DataverseClient, folder: Path) -> bool:
    """Invoice, pay by file, read the file again; True when each step did what it should."""
    t, i, m = MAP.membership_type, MAP.invoice, MAP.membership
    client.create(t.entity_set, {
        t.name: "Standard membership", t.code: "standard", t.fee: Decimal("450.00"),
        t.currency: "SEK", t.period_months: 12, t.grace_days: 14,
        t.category: m.type_values["standard"],
    })
    now = datetime.now(UTC)
    report = DuesRun(client, MAP, SETTINGS, "Nordic University Alumni").run(now)
    print()
    print(f"3. Dues: {report.memberships_created} memberships from the approvals, "
          f"{report.invoices_created} invoices ({report.emailed} e-mailed with the PDF, "
          f"{report.to_print} to print, refused {report.refused or 'none'})")
    invoices = list(client.query(i.entity_set, select=(i.id, i.reference, i.amount, i.currency,
                                                       i.due, i.status)))
    if not invoices:
        return False
    first = invoices[0]
    amount = Decimal(str(first[i.amount]))
    print(f"   invoice {first[i.reference]}: {money(amount, first[i.currency])}, "
          f"due {first[i.due]}, OCR reference with its check digit")
    path = write_bgmax(folder / "BGMAX-demo.txt", [
        (first[i.reference], amount), ("40012345678", Decimal("100.00")),
    ])
    importer = PaymentImport(client, MAP, chunk_size=100)
    imported = importer.import_file(path)
    paid = client.get(i.entity_set, first[i.id], select=(i.status, i.paid_on)) or {}
    print(f"   bank file {path.name}: {imported.payments} payments, {imported.matched} matched, "
          f"{imported.for_review} on the review list, {imported.memberships_extended} "
          f"membership extended; the invoice is now "
          f"{'paid' if paid.get(i.status) == i.status_values['paid'] else 'NOT PAID'}")
    again = importer.import_file(path)
    print(f"   the same file read again: "
          f"{'nothing recorded' if again.already_imported else 'RECORDED AGAIN'}")
    mails = [mail for mail in sandbox.outbox.mails if "Faktura" in mail.subject]
    print(f"   invoice e-mails sent: {len(mails)}")
    return (
        report.invoices_created > 0
        and paid.get(i.status) == i.status_values["paid"]
        and imported.for_review == 1
        and again.already_imported
    )

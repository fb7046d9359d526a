"""The demo's dues part: the approved members invoiced, one paying through a bank file.

Runs after the registrations are decided: a membership type with a fee is added, the dues
run gives every approved person a membership and an invoice (e-mailed with its PDF, or
marked for printing), and a BgMax file from "the bank" pays one invoice and brings one
payment with a reference nobody issued (it lands on the review list). The file is then
read a second time, which records nothing. Last, the paying member opens their own page
with a signed link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DuesSettings, SelfServiceSettings, Settings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dues.payments import PaymentImport
from plugins.dues.service import DuesRun
from plugins.dues.texts import money
from plugins.selfservice.account import AccountPages
from plugins.selfservice.account_store import AccountStore
from plugins.selfservice.runtime import build_pages
from plugins.selfservice.signing import LinkPurpose, link_token, new_link
from plugins.selfservice.web import PageRequest
from plugins.sync.repository import lookup_value

from ..app import Sandbox
from ..bankfiles import write_bgmax
from ..product_settings import dataverse_settings

MAP = SchemaMap()
LINK_KEY = "demo-link-key-0123456789-abcdefghijkl"
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
    print(f"4. Dues: {report.memberships_created} memberships from the approvals, "
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
    page_ok = _member_page(sandbox, client, first[i.id])
    return (
        report.invoices_created > 0
        and paid.get(i.status) == i.status_values["paid"]
        and imported.for_review == 1
        and again.already_imported
        and page_ok
    )


def _member_page(sandbox: Sandbox, client: DataverseClient, invoice_id: str) -> bool:
    """The paying member's own page, opened with a signed link as the e-mail would carry."""
    i, s = MAP.invoice, MAP.selfservice_link
    invoice = client.get(i.entity_set, invoice_id, select=(lookup_value(i.person),)) or {}
    person = str(invoice.get(lookup_value(i.person)))
    settings = Settings(
        dataverse=dataverse_settings(sandbox),
        selfservice=SelfServiceSettings(
            organisation_name="Nordic University Alumni", link_keys={"demo": LINK_KEY},
            link_key_id="demo", public_base_url="https://alumni.example/api/mypage",
        ),
        dues=SETTINGS,
    )
    pages, pages_client = build_pages(settings)
    with pages_client:
        link = new_link(LinkPurpose.UPDATE, datetime.now(UTC), timedelta(minutes=30))
        client.upsert(s.entity_set, link.id, {
            s.name: "demo", s.purpose: s.purpose_values["update"], s.expires_on: link.expires_at,
            f"{s.person_nav}@odata.bind": odata.bind(MAP.contact.entity_set, person),
        })
        token = link_token(pages.keys, link)
        url = f"https://alumni.example/api/mypage/account/{token}?lang=en"
        account = AccountPages(pages, AccountStore(pages_client, MAP), SETTINGS)
        answer = account.page(PageRequest("GET", url, query={"lang": "en"},
                                          route={"token": token}))
    shown = [word for word in ("My membership", "Active", "Paid", "The invoice as PDF")
             if word in answer.body]
    print(f"   the member's own page (signed link, English): HTTP {answer.status}, shows "
          f"{', '.join(shown)}")
    return answer.status == 200 and len(shown) == 4

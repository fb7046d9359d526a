"""Dues at scale: invoicing N renewals, and reading a BgMax file of N payments.

Starts a sandbox in-process (plain HTTP on 127.0.0.1, its request limit lifted so the
figures measure round trips, not throttling), creates N members whose memberships end
within the renewal window, and runs the renewal step of the dues run: the invoices are
created with ``CreateMultiple`` (1,000 per request). Then a sample of them is delivered
(an e-mail with the PDF per invoice) to show what delivery costs per invoice.

Then a BgMax file paying every invoice is written (streamed) and imported: payments per
second, requests per 1,000 payments, every invoice paid and every membership extended. The
reader's memory is measured on its own (``tracemalloc`` over the check and the read of a
file of N/10 and of N payments): it stays flat in the file's size.

    python -m bench.dues [--count 100000] [--deliver 200]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DataverseSettings, DuesSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dues import bgmax
from plugins.dues.payments import PaymentImport
from plugins.dues.service import DuesRun
from plugins.sync.repository import MappedTable
from sandbox.app import Sandbox
from sandbox.bankfiles import write_bgmax
from sandbox.config import Limits, SandboxConfig

SCHEMA = SchemaMap()
NOW = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
END = date(2026, 1, 31)


class _Tokens:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def token(self, *, force_refresh: bool = False) -> str:
        return self._sandbox.auth.issue_token()


def _seed(client: DataverseClient, count: int) -> None:
    """A membership type and ``count`` members whose memberships end on ``END``."""
    t, m, c = SCHEMA.membership_type, SCHEMA.membership, SCHEMA.contact
    type_id = client.create(t.entity_set, {
        t.name: "Standard", t.code: "standard", t.fee: Decimal("450.00"), t.currency: "SEK",
        t.period_months: 12, t.grace_days: 14,
    }).id
    people = [str(uuid.UUID(int=n + 1)) for n in range(count)]
    client.create_multiple(MappedTable.of(c), [
        {c.id: p, c.first_name: "Member", c.last_name: str(n),
         c.emails[0]: f"m{n}@example.se", c.protection_level: c.protection_values["none"]}
        for n, p in enumerate(people)
    ])
    client.create_multiple(MappedTable.of(m), [
        {f"{m.person_nav}@odata.bind": odata.bind(c.entity_set, p),
         f"{m.membership_type_nav}@odata.bind": odata.bind(t.entity_set, str(type_id)),
         m.start: date(2025, 2, 1), m.end: END, m.status: 100000000, m.name: "Standard"}
        for p in people
    ])


def _reader_peak(path: Path) -> int:
    """Peak bytes allocated while checking and reading every payment of ``path``."""
    tracemalloc.start()
    with path.open("rb") as lines:
        checked = bgmax.check(lines)
    with path.open("rb") as lines:
        for _ in bgmax.payments(lines, checked):
            pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def run(count: int, deliver: int) -> None:
    """Seed, invoice, deliver a sample, pay by file, and print the figures."""
    limits = Limits(requests=50 * count + 100_000)
    with TemporaryDirectory(prefix="bench-dues-") as state, Sandbox(
        SandboxConfig(limits=limits, state_dir=state)
    ) as sandbox:
        settings = DataverseSettings(url=sandbox.base_url)
        with DataverseClient(settings, token_provider=_Tokens(sandbox)) as client:
            _seed(client, count)
            dues = DuesSettings(enabled=True, payee_name="Alumni", payee_account="Bankgiro 1")
            runner = DuesRun(client, SCHEMA, dues, "Alumni")
            client.request_counter.reset()
            began = time.perf_counter()
            report = runner.renew(NOW)
            seconds = time.perf_counter() - began
            requests = client.request_counter.total
            print(f"invoicing {count} renewals: {report.invoices_created} invoices in "
                  f"{seconds:.1f} s; {requests} requests "
                  f"({1000 * requests / count:.1f} per 1,000 invoices) "
                  f"{client.request_counter.by_method()}")
            _deliver_sample(client, sandbox, runner, deliver)
            i = SCHEMA.invoice
            references = [r[i.reference] for r in client.query(i.entity_set, select=(i.reference,))]
            path = write_bgmax(Path(state) / "bgmax.txt",
                               ((ref, Decimal("450.00")) for ref in references))
            size = path.stat().st_size
            client.request_counter.reset()
            began = time.perf_counter()
            imported = PaymentImport(client, SCHEMA, chunk_size=200).import_file(path)
            seconds = time.perf_counter() - began
            requests = client.request_counter.total
            print(f"reading a BgMax file of {imported.payments} payments ({size / 1e6:.1f} MB): "
                  f"{imported.payments / seconds:.0f} payments/s ({seconds:.1f} s); "
                  f"{requests} requests ({1000 * requests / imported.payments:.1f} per 1,000 "
                  f"payments); {imported.matched} matched, {imported.memberships_extended} "
                  f"memberships extended")
            paid = sum(1 for row in sandbox.store.rows("mp_invoice")
                       if row.values.get(i.status) == i.status_values["paid"])
            if paid != count:
                raise RuntimeError(f"expected {count} paid invoices, found {paid}")
            small = write_bgmax(Path(state) / "small.txt",
                                ((ref, Decimal("450.00")) for ref in references[: count // 10]))
            print(f"reader memory (tracemalloc peak): {_reader_peak(small) / 1e3:.0f} kB for "
                  f"{count // 10} payments, {_reader_peak(path) / 1e3:.0f} kB for {count}")


def _deliver_sample(
    client: DataverseClient, sandbox: Sandbox, runner: DuesRun, deliver: int
) -> None:
    """Deliver ``deliver`` invoices (the rest are marked delivered beforehand)."""
    i = SCHEMA.invoice
    rows = list(client.query(i.entity_set, select=(i.id,)))
    client.update_multiple(MappedTable.of(i), [
        {i.id: r[i.id], i.delivery: i.delivery_values["to-print"]} for r in rows[deliver:]
    ])
    client.request_counter.reset()
    began = time.perf_counter()
    report = runner.deliver()
    seconds = time.perf_counter() - began
    requests = client.request_counter.total
    print(f"delivering {report.emailed} invoices by e-mail with the PDF: {seconds:.1f} s, "
          f"{requests} requests ({requests / max(report.emailed, 1):.2f} per invoice)")
    sent = len(sandbox.outbox.mails)
    if sent != deliver:
        raise RuntimeError(f"expected {deliver} e-mails, the outbox has {sent}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dues", description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--deliver", type=int, default=200)
    args = parser.parse_args(argv)
    run(args.count, args.deliver)


if __name__ == "__main__":
    main()

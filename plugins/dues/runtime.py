"""The dues services built from settings, for the triggers and the command line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from plugins.core.settings import Settings
from plugins.dataverse.client import DataverseClient

from .bankfile import BankPayment
from .payments import ImportReport, PaymentImport, PaymentRecorder
from .service import DuesReport, DuesRun
from .webhook import SOURCE


class Dues:
    """Opens one Dataverse client for the dues services and closes it again."""

    def __init__(self, settings: Settings, client: DataverseClient | None = None) -> None:
        self.settings = settings
        self.client = client or DataverseClient(settings.dataverse)
        self._owns_client = client is None

    def __enter__(self) -> Dues:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owns_client:
            self.client.close()

    def run(self, now: datetime) -> DuesReport | None:
        """The nightly dues run, when enabled."""
        dues = self.settings.dues
        if not dues.enabled:
            return None
        organisation = dues.payee_name or self.settings.selfservice.organisation_name
        return DuesRun(self.client, self.settings.schema_map, dues, organisation).run(now)

    def import_file(self, path: Path) -> ImportReport:
        """Import one bank file."""
        return PaymentImport(
            self.client, self.settings.schema_map, self.settings.dues.chunk_size
        ).import_file(path)

    def record_webhook(self, payment: BankPayment) -> ImportReport:
        """Record one payment a provider reported."""
        report = ImportReport(file_format=SOURCE, payments=1, total=payment.amount)
        recorder = PaymentRecorder(self.client, self.settings.schema_map, 1)
        recorder.record([payment], SOURCE, report)
        return report

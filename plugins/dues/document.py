"""An invoice as the member sees it (pure): the facts the PDF and the e-mail both show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .texts import Language, money, say


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """What an invoice says. ``address`` is printed only for post (never for a protected
    identity: the service leaves it empty then)."""

    number: str
    reference: str
    member_name: str
    membership: str
    amount: Decimal
    currency: str
    invoice_date: date
    due: date
    period_start: date
    period_end: date
    payee_name: str
    payee_account: str
    organisation: str
    language: Language
    address: tuple[str, ...] = ()
    reminder: bool = False

    def lines(self) -> list[tuple[str, str]]:
        """The invoice's facts as (label, value) pairs, in the order they are shown."""
        lang = self.language
        return [
            (say(lang, "member"), self.member_name),
            (say(lang, "membership"), self.membership),
            (say(lang, "period"), f"{self.period_start:%Y-%m-%d} - {self.period_end:%Y-%m-%d}"),
            (say(lang, "invoice_date"), f"{self.invoice_date:%Y-%m-%d}"),
            (say(lang, "due"), f"{self.due:%Y-%m-%d}"),
            (say(lang, "amount"), money(self.amount, self.currency)),
            (say(lang, "reference"), self.reference),
            (say(lang, "pay_to"), f"{self.payee_name} {self.payee_account}".strip()),
        ]

    @property
    def title(self) -> str:
        """``Faktura 12345678901234`` (or the reminder's title)."""
        word = say(self.language, "reminder" if self.reminder else "invoice")
        return f"{word} {self.number}"

    @property
    def file_name(self) -> str:
        """The PDF's file name."""
        return f"invoice-{self.number}.pdf"

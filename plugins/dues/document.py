"""An invoice as the member sees it (pure): the facts the PDF and the e-mail both show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from plugins.core.schema_map import SchemaMap

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


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who issues the invoices, and in which language."""

    organisation: str
    payee_name: str
    payee_account: str
    language: Language


def document_of(
    schema: SchemaMap,
    issuer: Issuer,
    invoice: Mapping[str, Any],
    contact: Mapping[str, Any],
    *,
    reminder: bool = False,
) -> InvoiceDocument:
    """The document an invoice row (with its membership's name expanded) and its contact
    make; a reminder asks for what is still owed."""
    i, m, c = schema.invoice, schema.membership, schema.contact
    amount = _decimal(invoice.get(i.amount))
    if reminder:
        amount -= _decimal(invoice.get(i.paid_amount))
    name = f"{contact.get(c.first_name) or ''} {contact.get(c.last_name) or ''}".strip()
    return InvoiceDocument(
        number=str(invoice.get(i.number) or ""),
        reference=str(invoice.get(i.reference) or ""),
        member_name=name,
        membership=str((invoice.get(i.membership_nav) or {}).get(m.name) or ""),
        amount=amount,
        currency=str(invoice.get(i.currency) or ""),
        invoice_date=_day(invoice.get(i.invoice_date)),
        due=_day(invoice.get(i.due)),
        period_start=_day(invoice.get(i.period_start)),
        period_end=_day(invoice.get(i.period_end)),
        payee_name=issuer.payee_name,
        payee_account=issuer.payee_account,
        organisation=issuer.organisation,
        language=issuer.language,
        reminder=reminder,
    )


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])

"""The words on invoices and payment e-mails, in Swedish, Norwegian (bokmål) and English."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

Language = Literal["sv", "nb", "en"]

TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "invoice": "Faktura",
        "reminder": "Påminnelse",
        "invoice_subject": "Faktura för medlemsavgift, {org}",
        "reminder_subject": "Påminnelse: obetald medlemsavgift, {org}",
        "greeting": "Hej {name},",
        "invoice_body": "Här är fakturan för din medlemsavgift. Fakturan finns också som PDF.",
        "reminder_body": "Vi har inte fått betalt för fakturan nedan. Har du redan betalat kan "
        "du bortse från den här påminnelsen.",
        "membership": "Medlemskap",
        "period": "Period",
        "amount": "Att betala",
        "due": "Förfallodag",
        "reference": "OCR-nummer",
        "pay_to": "Betala till",
        "invoice_date": "Fakturadatum",
        "member": "Medlem",
        "use_reference": "Ange OCR-numret när du betalar, så registreras betalningen direkt.",
    },
    "nb": {
        "invoice": "Faktura",
        "reminder": "Påminnelse",
        "invoice_subject": "Faktura for medlemskontingent, {org}",
        "reminder_subject": "Påminnelse: ubetalt medlemskontingent, {org}",
        "greeting": "Hei {name},",
        "invoice_body": "Her er fakturaen for medlemskontingenten din. Fakturaen er også vedlagt "
        "som PDF.",
        "reminder_body": "Vi har ikke mottatt betaling for fakturaen nedenfor. Har du allerede "
        "betalt, kan du se bort fra denne påminnelsen.",
        "membership": "Medlemskap",
        "period": "Periode",
        "amount": "Å betale",
        "due": "Forfallsdato",
        "reference": "KID",
        "pay_to": "Betal til",
        "invoice_date": "Fakturadato",
        "member": "Medlem",
        "use_reference": "Oppgi KID når du betaler, så registreres betalingen med en gang.",
    },
    "en": {
        "invoice": "Invoice",
        "reminder": "Reminder",
        "invoice_subject": "Membership fee invoice, {org}",
        "reminder_subject": "Reminder: membership fee unpaid, {org}",
        "greeting": "Hello {name},",
        "invoice_body": "Here is the invoice for your membership fee. It is attached as a PDF too.",
        "reminder_body": "We have not received payment for the invoice below. If you have paid "
        "already, please ignore this reminder.",
        "membership": "Membership",
        "period": "Period",
        "amount": "Amount due",
        "due": "Due date",
        "reference": "Payment reference",
        "pay_to": "Pay to",
        "invoice_date": "Invoice date",
        "member": "Member",
        "use_reference": "Quote the payment reference when you pay, so the payment is "
        "recorded at once.",
    },
}


def say(lang: Language, key: str, **values: str) -> str:
    """The text ``key`` in ``lang`` with ``values`` filled in."""
    return TEXTS[lang][key].format(**values)


def money(amount: Decimal, currency: str) -> str:
    """``1 234,50 SEK`` (Nordic grouping and decimal comma)."""
    whole, _, cents = f"{amount:,.2f}".partition(".")
    return f"{whole.replace(',', ' ')},{cents} {currency}"

"""What the member's own page reads from Dataverse: memberships, invoices, payments, cases.

Every read is filtered by the person the signed link belongs to; an invoice is served as a
PDF only when it is that person's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import NotFoundError
from plugins.sync.repository import lookup_value

_INVOICES_SHOWN = 50
_CASES_SHOWN = 50


@dataclass(frozen=True)
class MembershipLine:
    type: str
    start: str
    end: str
    status: str


@dataclass(frozen=True)
class InvoiceLine:
    id: str
    number: str
    reference: str
    amount: Decimal
    paid_amount: Decimal
    currency: str
    due: str
    status: str
    paid_on: str | None


@dataclass(frozen=True)
class CaseLine:
    title: str
    number: str
    state: str


class AccountStore:
    """Reads one person's membership, invoices and cases."""

    def __init__(self, client: DataverseClient, schema: SchemaMap) -> None:
        self.client = client
        self.schema = schema

    def memberships(self, person_id: str) -> list[MembershipLine]:
        """The person's memberships, latest first."""
        m = self.schema.membership
        statuses = {n: str(s) for s, n in m.status_values.items()}
        rows = self.client.query(
            m.entity_set,
            select=(m.name, m.start, m.end, m.status),
            filter=odata.and_(odata.eq(lookup_value(m.person), uuid.UUID(person_id)),
                              odata.eq(m.state, 0)),
            orderby=(odata.desc(m.start),),
        )
        return [
            MembershipLine(str(r.get(m.name) or ""), _day(r.get(m.start)), _day(r.get(m.end)),
                           statuses.get(r.get(m.status), "active"))
            for r in rows
        ]

    def invoices(self, person_id: str) -> list[InvoiceLine]:
        """The person's invoices, latest first."""
        i = self.schema.invoice
        statuses = {n: s for s, n in i.status_values.items()}
        rows = self.client.query(
            i.entity_set,
            select=(i.id, i.number, i.reference, i.amount, i.paid_amount, i.currency, i.due,
                    i.status, i.paid_on),
            filter=odata.eq(lookup_value(i.person), uuid.UUID(person_id)),
            orderby=(odata.desc(i.due),),
            top=_INVOICES_SHOWN,
        )
        return [
            InvoiceLine(
                id=str(r[i.id]).lower(), number=str(r.get(i.number) or ""),
                reference=str(r.get(i.reference) or ""), amount=_decimal(r.get(i.amount)),
                paid_amount=_decimal(r.get(i.paid_amount)), currency=str(r.get(i.currency) or ""),
                due=_day(r.get(i.due)), status=statuses.get(r.get(i.status), "open"),
                paid_on=_day(r.get(i.paid_on)) or None,
            )
            for r in rows
        ]

    def invoice_row(self, person_id: str, invoice_id: str) -> dict[str, Any] | None:
        """The invoice row (with its membership's name) when it is the person's."""
        i = self.schema.invoice
        try:
            row = self.client.get(
                i.entity_set, invoice_id,
                expand=(odata.Expand(i.membership_nav, select=(self.schema.membership.name,)),),
            )
        except (NotFoundError, ValueError):
            # ValueError: the id in the URL is not a GUID; no such invoice either way.
            return None
        if row is None or str(row.get(lookup_value(i.person)) or "").lower() != person_id.lower():
            return None
        return row

    def contact_row(self, person_id: str) -> dict[str, Any]:
        """The names the invoice shows."""
        c = self.schema.contact
        return self.client.get(c.entity_set, person_id, select=(c.first_name, c.last_name)) or {}

    def cases(self, person_id: str) -> list[CaseLine]:
        """The person's cases (``incident``), open ones first, then the latest."""
        k = self.schema.case
        states = {n: s for s, n in k.state_values.items()}
        rows = self.client.query(
            k.entity_set,
            select=(k.title, k.number, k.state),
            filter=odata.eq(lookup_value(k.customer), uuid.UUID(person_id)),
            orderby=(odata.asc(k.state), odata.desc(k.created_on)),
            top=_CASES_SHOWN,
        )
        return [
            CaseLine(str(r.get(k.title) or ""), str(r.get(k.number) or ""),
                     states.get(r.get(k.state), "active"))
            for r in rows
        ]


def _day(value: Any) -> str:
    return str(value)[:10] if value else ""


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


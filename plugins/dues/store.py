"""The dues tables in Dataverse: every read and write of the dues plugin, through the client.

Reads are paged queries with the columns the pure core needs; writes are the Web API's bulk
actions (``CreateMultiple``, ``UpdateMultiple``), create-only upserts under deterministic
ids, and ``$batch`` change sets for payments (see :mod:`.payments`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import DuplicateRecordError
from plugins.sync.lifecycle import MembershipStatus
from plugins.sync.policy import contact_columns
from plugins.sync.repository import MappedTable, chunks, date_of, lookup_value

from .matching import InvoiceState
from .terms import MembershipType

log = logging.getLogger(__name__)
DUES_NAMESPACE = uuid.UUID("2b0f7f5e-8d0c-5b7a-9c4e-3a1d2e6f7b80")
_IDS_PER_READ = 50
RUNNING = (MembershipStatus.ACTIVE, MembershipStatus.GRACE)


def dues_id(kind: str, source_id: str) -> str:
    """The deterministic id of a row the dues run creates from another row (``kind`` names
    the relation, e.g. ``registration``): created once, whichever run gets there first."""
    return str(uuid.uuid5(DUES_NAMESPACE, f"{kind}:{source_id.lower()}"))


def decimal_of(value: Any) -> Decimal:
    """A decimal column's value (0 when empty)."""
    return Decimal(str(value)) if value is not None else Decimal(0)


class DuesStore:
    """Reads and writes the dues tables named by one schema map."""

    def __init__(self, client: DataverseClient, schema: SchemaMap) -> None:
        self.client = client
        self.schema = schema

    # ------------------------------------------------------------------ types

    def membership_types(self) -> list[MembershipType]:
        """Every active membership type; one without a currency or a period is left out
        (logged with its code), so nobody is invoiced in a guessed currency."""
        t = self.schema.membership_type
        rows = self.client.query(
            t.entity_set,
            select=(t.id, t.code, t.name, t.category, t.fee, t.currency, t.period_months,
                    t.grace_days),
            filter=odata.eq(t.state, 0),
        )
        types = []
        for row in rows:
            code = str(row.get(t.code) or "")
            currency, months = row.get(t.currency), row.get(t.period_months)
            if not currency or not months or int(months) < 1:
                log.warning("dues: membership type %r has no currency or period; skipped", code)
                continue
            types.append(MembershipType(
                id=str(row[t.id]).lower(),
                code=code,
                name=str(row.get(t.name) or ""),
                fee=decimal_of(row.get(t.fee)),
                currency=str(currency).upper(),
                period_months=int(months),
                grace_days=int(row.get(t.grace_days) or 0),
                category=row.get(t.category),
            ))
        return types

    # ------------------------------------------------------------ memberships

    def people_with_running_membership(self, people: Collection[str]) -> dict[str, set[str]]:
        """The active or in-grace memberships (ids) of those of ``people`` who hold one."""
        m = self.schema.membership
        running = [m.status_values[s] for s in RUNNING]
        found: dict[str, set[str]] = {}
        for part in chunks(sorted(people), _IDS_PER_READ):
            rows = self.client.query(
                m.entity_set,
                select=(m.id, lookup_value(m.person)),
                filter=odata.and_(
                    odata.eq(m.state, 0),
                    odata.in_(m.status, running),
                    odata.in_(lookup_value(m.person), [uuid.UUID(p) for p in part]),
                ),
            )
            for row in rows:
                person = str(row[lookup_value(m.person)]).lower()
                found.setdefault(person, set()).add(str(row[m.id]).lower())
        return found

    def create_membership(
        self, membership_id: str, person_id: str, kind: MembershipType, start: date, end: date
    ) -> bool:
        """Create a membership under its deterministic id; False when it exists already."""
        m = self.schema.membership
        record: dict[str, Any] = {
            m.name: kind.name,
            f"{m.person_nav}@odata.bind": odata.bind(self.schema.contact.entity_set, person_id),
            f"{m.membership_type_nav}@odata.bind": odata.bind(
                self.schema.membership_type.entity_set, kind.id
            ),
            m.start: start,
            m.end: end,
            m.status: m.status_values[MembershipStatus.ACTIVE],
        }
        if kind.category is not None:
            record[m.type] = kind.category
        try:
            self.client.upsert(m.entity_set, membership_id, record, mode=UpsertMode.CREATE_ONLY)
        except DuplicateRecordError:
            return False
        return True

    def memberships_ending(self, first: date, last: date) -> Iterator[dict[str, Any]]:
        """Running memberships with a type whose end date lies in ``first..last``."""
        m = self.schema.membership
        running = [m.status_values[s] for s in RUNNING]
        return self.client.query(
            m.entity_set,
            select=(m.id, lookup_value(m.person), lookup_value(m.membership_type), m.end),
            filter=odata.and_(
                odata.eq(m.state, 0),
                odata.in_(m.status, running),
                odata.ne(lookup_value(m.membership_type), None),
                odata.ge(m.end, first),
                odata.le(m.end, last),
            ),
        )

    def extend_memberships(self, ends: dict[str, date]) -> None:
        """Run each membership to its new end, active (``UpdateMultiple``)."""
        m = self.schema.membership
        active = m.status_values[MembershipStatus.ACTIVE]
        updates = [{m.id: mid, m.end: end, m.status: active} for mid, end in ends.items()]
        if updates:
            self.client.update_multiple(MappedTable.of(m), updates)

    # --------------------------------------------------------------- invoices

    def invoice_keys_from(self, first_period_start: date) -> set[str]:
        """Keys of the invoices whose period starts on or after ``first_period_start``."""
        i = self.schema.invoice
        rows = self.client.query(
            i.entity_set, select=(i.key,), filter=odata.ge(i.period_start, first_period_start)
        )
        return {str(row[i.key]) for row in rows}

    def create_invoices(self, records: list[dict[str, Any]]) -> list[str]:
        """``CreateMultiple`` the invoice rows; their ids."""
        return self.client.create_multiple(MappedTable.of(self.schema.invoice), records)

    def memberships_with_unpaid_invoice(self) -> set[str]:
        """The memberships an open or partly paid invoice is waiting for."""
        i = self.schema.invoice
        unpaid = [i.status_values["open"], i.status_values["partly-paid"]]
        rows = self.client.query(
            i.entity_set, select=(lookup_value(i.membership),), filter=odata.in_(i.status, unpaid)
        )
        return {str(row[lookup_value(i.membership)]).lower() for row in rows
                if row.get(lookup_value(i.membership))}

    def invoices_to_deliver(self) -> list[dict[str, Any]]:
        """Invoices not delivered yet (new, or a delivery that failed for a technical reason)."""
        i = self.schema.invoice
        return list(
            self.client.query(
                i.entity_set,
                select=self.invoice_columns,
                filter=odata.eq(i.delivery, i.delivery_values["pending"]),
                expand=self.invoice_expand,
            )
        )

    def open_invoices_due(self, last_due: date) -> list[dict[str, Any]]:
        """Unpaid invoices that fell due on or before ``last_due``."""
        i = self.schema.invoice
        unpaid = [i.status_values["open"], i.status_values["partly-paid"]]
        return list(
            self.client.query(
                i.entity_set,
                select=self.invoice_columns,
                filter=odata.and_(odata.in_(i.status, unpaid), odata.le(i.due, last_due)),
                expand=self.invoice_expand,
            )
        )

    @property
    def invoice_expand(self) -> tuple[odata.Expand, ...]:
        """The membership's name, shown on the invoice."""
        i = self.schema.invoice
        return (odata.Expand(i.membership_nav, select=(self.schema.membership.name,)),)

    @property
    def invoice_columns(self) -> tuple[str, ...]:
        """The invoice columns the delivery and reminders read."""
        i = self.schema.invoice
        return (i.id, i.number, i.key, lookup_value(i.person), lookup_value(i.membership),
                i.amount, i.currency, i.invoice_date, i.due, i.period_start, i.period_end,
                i.reference, i.paid_amount, i.status)

    def mark_delivery(self, outcomes: list[dict[str, Any]]) -> None:
        """Write delivery outcomes (``UpdateMultiple``)."""
        if outcomes:
            self.client.update_multiple(MappedTable.of(self.schema.invoice), outcomes)

    def invoices_by_reference(self, references: Collection[str]) -> dict[str, InvoiceState]:
        """The invoices carrying ``references``, with their membership's end, by reference."""
        i = self.schema.invoice
        m = self.schema.membership
        found: dict[str, InvoiceState] = {}
        for part in chunks(sorted(references), 100):
            rows = self.client.query(
                i.entity_set,
                select=(i.id, i.reference, i.amount, i.currency, i.paid_amount, i.status,
                        i.period_end, i.paid_on, lookup_value(i.membership)),
                filter=odata.in_(i.reference, part),
                expand=(odata.Expand(i.membership_nav, select=(m.end,)),),
            )
            statuses = {n: s for s, n in i.status_values.items()}
            for row in rows:
                membership = row.get(lookup_value(i.membership))
                state = InvoiceState(
                    id=str(row[i.id]).lower(),
                    reference=str(row[i.reference]),
                    amount=decimal_of(row.get(i.amount)),
                    currency=str(row.get(i.currency) or ""),
                    paid_amount=decimal_of(row.get(i.paid_amount)),
                    status=statuses.get(row.get(i.status), "open"),
                    period_end=date_of(row.get(i.period_end)),
                    membership_id=str(membership).lower() if membership else None,
                    membership_end=date_of((row.get(i.membership_nav) or {}).get(m.end)),
                    etag=row.get("@odata.etag"),
                    paid_on=date_of(row.get(i.paid_on)),
                )
                found[state.reference] = state
        return found

    # --------------------------------------------------------------- contacts

    def contacts(self, people: Collection[str]) -> dict[str, dict[str, Any]]:
        """Contact rows with what the policy, the invoice and the e-mail need, by id."""
        c = self.schema.contact
        columns = sorted({*contact_columns(c), c.first_name, c.last_name, c.address_line2,
                          c.city, c.country})
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(sorted(people), _IDS_PER_READ):
            rows = self.client.query(
                c.entity_set, select=columns, filter=odata.in_(c.id, [uuid.UUID(p) for p in part])
            )
            found.update({str(row[c.id]).lower(): row for row in rows})
        return found

    # ---------------------------------------------------------------- payments

    def existing_payment_keys(self, keys: Collection[str]) -> set[str]:
        """Which payment keys are recorded already."""
        p = self.schema.payment
        found: set[str] = set()
        for part in chunks(sorted(keys), 100):
            rows = self.client.query(p.entity_set, select=(p.key,), filter=odata.in_(p.key, part))
            found.update(str(row[p.key]) for row in rows)
        return found

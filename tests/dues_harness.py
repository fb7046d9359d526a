"""Helpers for the dues tests: membership types, approved registrations, settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from integration.sync_harness import SCHEMA

from plugins.core.settings import DuesSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Kind, Status

SETTINGS = DuesSettings(
    enabled=True,
    registration_type="standard",
    payee_name="Alumniföreningen",
    payee_account="Bankgiro 991-2346",
    reminder_offsets_days=(7, 21),
)


def add_type(
    client: DataverseClient, code: str = "standard", fee: Decimal = Decimal("450.00"),
    months: int = 12, grace: int = 14, currency: str = "SEK",
) -> str:
    t = SCHEMA.membership_type
    result = client.create(t.entity_set, {
        t.name: f"{code.title()} membership", t.code: code, t.fee: fee, t.currency: currency,
        t.period_months: months, t.grace_days: grace,
        t.category: SCHEMA.membership.type_values["standard"],
    })
    assert result.id is not None
    return result.id


def approve_registration(client: DataverseClient, person: str, processed: datetime) -> str:
    r = SCHEMA.registration
    result = client.create(r.entity_set, {
        r.name: "registration", r.kind: r.kind_values[Kind.REGISTRATION],
        r.status: r.status_values[Status.APPROVED_ALUMNUS], r.processed_on: processed,
        f"{r.person_nav}@odata.bind": odata.bind(SCHEMA.contact.entity_set, person),
    })
    assert result.id is not None
    return result.id


def one(client: DataverseClient, entity_set: str, **query: Any) -> dict[str, Any]:
    found = list(client.query(entity_set, **query))
    assert len(found) == 1, found
    return found[0]

"""Confirmation rates of the data-check mailings, per cohort, for the office.

A cohort is a mailing wave (the period of the ``data-check`` events) and a person category
(Member, Registered alumnus, Alumnus, as the person has it now; the first that applies). For
each: how many were sent the mailing, how many confirmed their details since it was sent
(``mp_detailsconfirmedon`` on or after the event's ``mp_senton``), and the rate. Read with one
paged query of the sent events, each with its person's two columns expanded; nothing written.
``member-plugins data-check-report`` prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category

from .lifecycle import EventKind
from .repository import datetime_of

COHORT_ORDER = (Category.MEMBER, Category.REGISTERED_ALUMNUS, Category.ALUMNUS)


@dataclass(frozen=True)
class CohortRate:
    """One cohort's figures."""

    wave: str
    category: str
    sent: int
    confirmed: int

    @property
    def rate(self) -> float:
        return self.confirmed / self.sent if self.sent else 0.0


def confirmation_rates(
    mailings: Iterable[tuple[str, frozenset[Category], bool]],
) -> list[CohortRate]:
    """Rates per (wave, category) from (wave, person's categories, confirmed since) triples."""
    counts: dict[tuple[str, str], list[int]] = {}
    for wave, categories, confirmed in mailings:
        category = next((str(c) for c in COHORT_ORDER if c in categories), "Other")
        tally = counts.setdefault((wave, category), [0, 0])
        tally[0] += 1
        tally[1] += confirmed
    return [CohortRate(w, c, s, k) for (w, c), (s, k) in sorted(counts.items())]


class DataCheckReport:
    """Reads the sent data-check mailings and their people."""

    def __init__(self, client: DataverseClient, schema: SchemaMap) -> None:
        self._client = client
        self._schema = schema

    def rates(self) -> list[CohortRate]:
        """The confirmation rate of every cohort mailed so far."""
        e, c = self._schema.lifecycle_event, self._schema.contact
        rows = self._client.query(
            e.entity_set,
            select=(e.period, e.sent_on),
            filter=odata.and_(
                odata.eq(e.kind, e.kind_values[EventKind.DATA_CHECK]),
                odata.eq(e.delivery_status, e.delivery_values["sent"]),
            ),
            expand=(odata.Expand(e.person_nav, select=(c.categories, c.details_confirmed_on)),),
        )
        return confirmation_rates(self._mailing(row) for row in rows)

    def _mailing(self, row: Mapping[str, Any]) -> tuple[str, frozenset[Category], bool]:
        e, c = self._schema.lifecycle_event, self._schema.contact
        person = row.get(e.person_nav) or {}
        sent = datetime_of(row.get(e.sent_on))
        confirmed = datetime_of(person.get(c.details_confirmed_on))
        return (
            str(row.get(e.period) or ""),
            c.categories_of(person.get(c.categories)),
            bool(sent and confirmed and confirmed >= sent),
        )

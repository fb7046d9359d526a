"""Bounces against the sandbox: a failed e-mail marks the address, and no more mail goes to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sync_harness import SCHEMA, add_contact, add_membership, add_template, client_for, rows

from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.sync.bounces import BounceScan
from plugins.sync.delivery import EmailDelivery
from plugins.sync.lifecycle import LifecycleRules
from plugins.sync.repository import Checkpoints
from plugins.sync.service import LifecycleRun
from sandbox.app import Sandbox

RULES = LifecycleRules(reminder_offsets_days=(7,), onboarding_days=(0, 7), anniversary_years=())
SETTINGS = SyncSettings.Lifecycle(enabled=True, rules=RULES, timezone="Europe/Stockholm")
C = SCHEMA.contact
E = SCHEMA.lifecycle_event
START = date(2025, 6, 2)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def lifecycle(client: DataverseClient, day: date) -> None:
    delivery = EmailDelivery(client, SCHEMA.email, SCHEMA.template, C, {})
    BounceScan(client, SCHEMA, Checkpoints(client, SCHEMA.checkpoint)).run(at(day))
    LifecycleRun(client, SCHEMA, SETTINGS, delivery).run(at(day))


def outcome(client: DataverseClient, key: str) -> tuple[str, str | None]:
    [row] = rows(client, E.entity_set, select=(E.delivery_status, E.reason),
                 filter=odata.eq(E.key, key))
    names = {v: k for k, v in E.delivery_values.items()}
    return names[row[E.delivery_status]], row[E.reason]


def test_a_bounce_marks_the_address_and_stops_mail_to_it(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    for step in ("onboarding-d0", "onboarding-d7"):
        add_template(client, step, "Welcome", "<p>Hello {!contact:firstname;member}</p>")
    gone = add_contact(client, emailaddress1="gone@example.se")
    spare = add_contact(client, emailaddress1="old@example.se", emailaddress2="new@example.se")
    fine = add_contact(client, emailaddress1="fine@example.se")
    for person in (gone, spare, fine):
        add_membership(client, person, START, None)
    sandbox.outbox.undeliverable = {"gone@example.se", "old@example.se"}

    lifecycle(client, START)
    assert [m.to for m in sandbox.outbox.mails] == [("fine@example.se",)]
    failed = rows(client, "emails", select=("activityid",), filter=odata.eq("statuscode", 8))
    assert len(failed) == 2  # left open as Failed, as the mailbox leaves them

    day7 = date(2025, 6, 9)
    sandbox.outbox.clear()
    lifecycle(client, day7)

    marked = client.get(C.entity_set, gone, select=(C.undeliverable_email, C.undeliverable_on))
    assert marked is not None and marked[C.undeliverable_email] == "gone@example.se"
    assert marked[C.undeliverable_on]
    key = f"onboarding_{gone}_{START:%Y%m%d}-d7"
    assert outcome(client, key) == ("refused", "email-undeliverable")
    # The second address is used once the first bounced; the other member is unaffected.
    assert sorted(m.to for m in sandbox.outbox.mails) == [
        ("fine@example.se",), ("new@example.se",)
    ]
    # A scan finds each failure once: the checkpoint moved past them.
    again = BounceScan(client, SCHEMA, Checkpoints(client, SCHEMA.checkpoint)).run(at(day7))
    assert (again.failed_emails, again.contacts_marked) == (0, 0)

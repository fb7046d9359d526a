"""The dues run against the sandbox: applications, renewals, post, reminders and lapses."""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from dues_harness import SETTINGS, add_type, approve_registration, one
from sync_harness import POST, SCHEMA, add_contact, add_membership, client_for, rows

from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.dues.service import DuesRun
from plugins.sync.delivery import EmailDelivery
from plugins.sync.lifecycle import EventKind, LifecycleRules, MembershipStatus
from plugins.sync.service import LifecycleRun
from sandbox.app import Sandbox

INV, MEM, EVT = SCHEMA.invoice, SCHEMA.membership, SCHEMA.lifecycle_event


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T03:00:00").replace(tzinfo=UTC)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def run(client: DataverseClient, day: str, **overrides: object):  # type: ignore[no-untyped-def]
    settings = SETTINGS.model_copy(update=overrides)
    return DuesRun(client, SCHEMA, settings, "Alumni").run(at(day))


def test_application_row_makes_membership_of_its_type(client: DataverseClient) -> None:
    type_id = add_type(client, "student", Decimal("0"), months=6)
    person = add_contact(client)
    a = SCHEMA.application
    client.create(a.entity_set, {
        "mp_PersonId@odata.bind": odata.bind("contacts", person),
        "mp_MembershipTypeId@odata.bind": odata.bind(SCHEMA.membership_type.entity_set, type_id),
        a.status: a.status_values["approved"], a.decided_on: at("2026-03-01"),
    })
    report = run(client, "2026-03-02", applications=True, registration_type=None)
    assert (report.memberships_created, report.invoices_created) == (1, 0)
    membership = one(client, MEM.entity_set, select=(MEM.start, MEM.end))
    assert (membership[MEM.start], membership[MEM.end]) == ("2026-03-01", "2026-08-31")
    assert run(client, "2026-03-02", applications=True).memberships_created == 0


def test_member_with_running_membership_gets_none(client: DataverseClient) -> None:
    add_type(client)
    person = add_contact(client)
    add_membership(client, person, date(2025, 6, 1), date(2026, 5, 31))
    approve_registration(client, person, at("2026-01-10"))
    report = run(client, "2026-01-10")
    assert (report.memberships_created, report.invoices_created) == (0, 0)


def test_renewal_invoice_due_on_end_and_free_type_extended(client: DataverseClient) -> None:
    paid = add_type(client)
    free = add_type(client, "honorary", Decimal("0"))
    payer, honoured = add_contact(client), add_contact(client, emailaddress1="h@example.se")
    for person, type_id in ((payer, paid), (honoured, free)):
        membership = add_membership(client, person, date(2025, 3, 1), date(2026, 2, 28))
        client.update(MEM.entity_set, membership, {
            f"{MEM.membership_type_nav}@odata.bind": odata.bind(
                SCHEMA.membership_type.entity_set, type_id)
        })
    report = run(client, "2026-02-01")
    assert (report.invoices_created, report.memberships_extended) == (1, 1)
    invoice = one(client, INV.entity_set)
    assert (invoice[INV.due], invoice[INV.period_start], invoice[INV.period_end]) == (
        "2026-02-28", "2026-03-01", "2027-02-28")
    ends = sorted(r[MEM.end] for r in rows(client, MEM.entity_set, select=(MEM.end,)))
    assert ends == ["2026-02-28", "2027-02-28"]
    assert run(client, "2026-02-02").invoices_created == 0


def test_post_for_those_who_chose_it_never_for_a_protected_identity(
    client: DataverseClient, sandbox: Sandbox
) -> None:
    add_type(client)
    letter = add_contact(client, emailaddress1="letter@example.se", mp_channels=str(POST),
                         address1_line1="Storgatan 1", address1_postalcode="11122")
    hidden = add_contact(client, emailaddress1="hidden@example.se", mp_channels=str(POST),
                         address1_line1="Okänd 1", address1_postalcode="11122",
                         mp_protectionlevel=SCHEMA.contact.protection_values["protected"])
    for person in (letter, hidden):
        approve_registration(client, person, at("2026-01-10"))
    report = run(client, "2026-01-10")
    assert (report.to_print, report.emailed) == (1, 1)
    by_person = {r["_mp_personid_value"]: r[INV.delivery]
                 for r in rows(client, INV.entity_set)}
    assert by_person[letter] == INV.delivery_values["to-print"]
    assert by_person[hidden] == INV.delivery_values["emailed"]
    assert sandbox.outbox.to("letter@example.se") == []
    assert len(sandbox.outbox.to("hidden@example.se")) == 1
    # The office prints the addressed letter from the invoice's note; one note only.
    note = one(client, SCHEMA.note.entity_set)
    assert note["_objectid_value"] == next(
        r[INV.id] for r in rows(client, INV.entity_set) if r["_mp_personid_value"] == letter)
    pdf = base64.b64decode(note[SCHEMA.note.body])
    assert pdf.startswith(b"%PDF-") and b"Storgatan 1" in zlib_text(pdf)


def test_reminders_once_per_offset_then_lapse(client: DataverseClient, sandbox: Sandbox) -> None:
    add_type(client)
    person = add_contact(client, emailaddress1="late@example.se")
    approve_registration(client, person, at("2026-01-10"))
    run(client, "2026-01-10")  # invoice due 2026-02-09, unpaid end 2026-02-23
    assert run(client, "2026-02-15").reminders_sent == 0
    assert run(client, "2026-02-16").reminders_sent == 1
    assert run(client, "2026-02-17").reminders_sent == 0
    assert run(client, "2026-03-02").reminders_sent == 1
    assert run(client, "2026-03-02").reminders_sent == 0
    mails = sandbox.outbox.to("late@example.se")
    assert len(mails) == 3 and all(m.subject.startswith("Påminnelse") for m in mails[1:])
    events = rows(client, EVT.entity_set, select=(EVT.kind, EVT.period, EVT.delivery_status))
    reminders = [e for e in events if e[EVT.kind] == EVT.kind_values[EventKind.PAYMENT_REMINDER]]
    assert sorted(e[EVT.period].rsplit("-", 1)[1] for e in reminders) == ["d21", "d7"]
    assert {e[EVT.delivery_status] for e in reminders} == {EVT.delivery_values["sent"]}
    # Never paid: the lifecycle lapses the membership after its grace, with its notice.
    lifecycle = SyncSettings.Lifecycle(
        enabled=True, rules=LifecycleRules(grace_days=30, max_catch_up_days=7)
    )
    delivery = EmailDelivery(client, SCHEMA.email, SCHEMA.template, SCHEMA.contact, {})
    LifecycleRun(client, SCHEMA, lifecycle, delivery).run(at("2026-03-26"))
    status = one(client, MEM.entity_set, select=(MEM.status,))[MEM.status]
    assert status == MEM.status_values[MembershipStatus.LAPSED]
    kinds = {e[EVT.kind] for e in rows(client, EVT.entity_set, select=(EVT.kind,))}
    assert EVT.kind_values[EventKind.LAPSE_NOTICE] in kinds


def zlib_text(pdf: bytes) -> bytes:
    """The PDF's page content, inflated (fpdf2 compresses its streams)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    return b"".join(zlib.decompress(s) for s in streams if s[:1] == b"x")

"""The lifecycle run against the sandbox: a run, a rerun, missed days, refusals, deliveries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sync_harness import (
    SCHEMA,
    add_contact,
    add_membership,
    add_template,
    client_for,
    rows,
)
from werkzeug.wrappers import Request, Response

from plugins.core.schema_map import MembershipMap, SchemaMap
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Status
from plugins.servicebus.sender import TopicSender
from plugins.sync.delivery import EmailDelivery, TopicDelivery
from plugins.sync.lifecycle import LifecycleRules, MembershipStatus
from plugins.sync.service import LifecycleRun
from sandbox.app import Sandbox
from sandbox.errors import ODataError
from sandbox.store import Caller

RULES = LifecycleRules(
    reminder_offsets_days=(7,),
    grace_days=30,
    onboarding_days=(0, 7),
    anniversary_years=(1,),
    max_catch_up_days=7,
)
SETTINGS = SyncSettings.Lifecycle(enabled=True, rules=RULES, timezone="Europe/Stockholm")
E = SCHEMA.lifecycle_event


def at(day: str) -> datetime:
    """06:00 in Stockholm (04:00 UTC in summer) on ``day``."""
    return datetime.fromisoformat(f"{day}T04:00:00").replace(tzinfo=UTC)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def email_run(client: DataverseClient, schema: SchemaMap = SCHEMA) -> LifecycleRun:
    delivery = EmailDelivery(client, schema.email, schema.template, schema.contact, {})
    return LifecycleRun(client, schema, SETTINGS, delivery)


def events(client: DataverseClient) -> dict[str, dict[str, Any]]:
    found = rows(client, E.entity_set, select=(E.key, E.delivery_status, E.reason, E.sent_on))
    return {row[E.key]: row for row in found}


def status_of(row: dict[str, Any]) -> str:
    return {v: k for k, v in E.delivery_values.items()}[row[E.delivery_status]]


def emails(client: DataverseClient) -> list[dict[str, Any]]:
    return rows(client, "emails", select=("subject", "description", "_regardingobjectid_value"))


@contextmanager
def refusing(sandbox: Sandbox, when: Callable[[Request], bool]) -> Iterator[None]:
    """Answer the Web API requests ``when`` selects with a 400 while the block runs."""
    webapi = sandbox.webapi
    original = webapi.dispatch

    def dispatch(request: Request, caller: Caller) -> Response:
        if when(request):
            raise ODataError(400, "0x80040216", "Refused (injected by the test).")
        return original(request, caller)

    webapi.dispatch = dispatch  # type: ignore[method-assign]
    try:
        yield
    finally:
        webapi.dispatch = original  # type: ignore[method-assign]


def is_send_email(request: Request) -> bool:
    return request.path.endswith("/Microsoft.Dynamics.CRM.SendEmail")


def test_run_rerun_and_run_after_two_missed_days(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    add_template(client, "expiry-reminder-d7", "Ends soon, {!contact:firstname;you}", "<p>Hi</p>")
    add_template(client, "onboarding-d0", "Welcome {!contact:firstname;}", "<p>Welcome</p>")
    add_template(client, "grace-notice", "Your membership has ended", "<p>Renew</p>")
    add_template(client, "birthday", "Happy birthday", "<p>Hooray</p>")
    alma = add_contact(client, firstname="Alma")
    add_membership(client, alma, date(2024, 7, 1), date(2025, 6, 30))  # reminder due 23 June
    bo = add_contact(client, firstname="Bo", emailaddress1="bo@example.se")
    add_membership(client, bo, date(2025, 6, 24), None)  # onboarding day 0 on 24 June
    cai = add_contact(client, firstname="Cai", birthdate="1990-06-25")
    add_membership(client, cai, date(2020, 1, 1), None)  # birthday 25 June
    dag = add_contact(client, firstname="Dag")
    add_membership(client, dag, date(2024, 6, 26), date(2025, 6, 25))  # grace notice 26 June

    first = email_run(client).run(at("2025-06-23"))
    assert (first.window.after, first.window.until) == (date(2025, 6, 22), date(2025, 6, 23))
    assert (first.created, first.sent) == (1, 1)
    [mail] = emails(client)
    assert mail["subject"] == "Ends soon, Alma"
    assert mail["_regardingobjectid_value"] == alma
    parties = rows(client, "activityparties", select=("_partyid_value", "participationtypemask"))
    assert sorted((p["participationtypemask"], p["_partyid_value"]) for p in parties) == [
        (1, sandbox.auth.application_user_id), (2, alma)
    ]
    [sent] = sandbox.outbox.mails
    assert (sent.to, sent.subject) == (("alma@example.se",), "Ends soon, Alma")

    rerun = email_run(client).run(at("2025-06-23").replace(hour=9))
    assert (rerun.created, rerun.sent, rerun.existing) == (0, 0, 0)
    assert len(emails(client)) == 1

    # No runs on 24 and 25 June: the run on the 26th sends what fell due on each day, once.
    caught_up = email_run(client).run(at("2025-06-26"))
    window = caught_up.window
    assert (window.after, window.until) == (date(2025, 6, 23), date(2025, 6, 26))
    assert (caught_up.created, caught_up.sent) == (3, 3)
    subjects = sorted(m["subject"] for m in emails(client))
    assert subjects == [
        "Ends soon, Alma", "Happy birthday", "Welcome Bo", "Your membership has ended"
    ]
    assert all(status_of(row) == "sent" and row[E.sent_on] for row in events(client).values())
    statuses = rows(client, SCHEMA.membership.entity_set, select=(SCHEMA.membership.status,))
    assert sorted(r[SCHEMA.membership.status] for r in statuses) == sorted(
        [SCHEMA.membership.status_values[MembershipStatus.ACTIVE]] * 3
        + [SCHEMA.membership.status_values[MembershipStatus.GRACE]]
    )

    again = email_run(client).run(at("2025-06-26").replace(hour=20))
    assert (again.created, again.sent) == (0, 0)
    assert len(emails(client)) == 4
    assert len(sandbox.outbox.mails) == 4


def test_an_event_recorded_by_an_earlier_run_is_never_created_or_sent_again(
    client: DataverseClient,
) -> None:
    add_template(client, "expiry-reminder-d7", "Ends soon", "")
    alma = add_contact(client)
    add_membership(client, alma, date(2024, 7, 1), date(2025, 6, 30))
    email_run(client).run(at("2025-06-23"))
    # The checkpoint is lost (say, restored from a backup): the same day is scheduled again.
    checkpoint = SCHEMA.checkpoint
    client.delete(checkpoint.entity_set, {checkpoint.name: "lifecycle"})
    report = email_run(client).run(at("2025-06-23"))
    assert (report.created, report.existing, report.sent) == (0, 1, 0)
    assert len(emails(client)) == 1


def test_refusals_are_recorded_with_their_reason_and_nothing_is_sent(
    client: DataverseClient,
) -> None:
    add_template(client, "expiry-reminder-d7", "Ends soon", "")
    end = date(2025, 6, 30)
    for values in (
        {"donotemail": True},
        {"mp_deceased": True},
        {"mp_nocommunication": True},
        {"mp_channels": "100000002"},
        # Created from a registration, the address not yet confirmed (double opt-in).
        {"mp_emailconfirmation": 100000000},
    ):
        add_membership(client, add_contact(client, **values), date(2024, 7, 1), end)
    renewing = add_contact(client)
    add_membership(
        client, renewing, date(2024, 7, 1), end, automatic_renewal=True, renewal_active=True
    )
    report = email_run(client).run(at("2025-06-23"))
    assert report.created == 5  # not the automatic renewer
    assert report.sent == 0
    assert report.refused == {
        "donotemail": 1, "deceased": 1, "no-communication": 1, "channel-not-chosen": 1,
        "email-unconfirmed": 1,
    }
    reasons = sorted(row[E.reason] for row in events(client).values())
    assert reasons == [
        "channel-not-chosen", "deceased", "donotemail", "email-unconfirmed", "no-communication",
    ]
    assert all(status_of(row) == "refused" for row in events(client).values())
    assert emails(client) == []


def test_missing_template_fails_that_event_only(client: DataverseClient) -> None:
    add_template(client, "onboarding-d0", "Welcome", "")
    joined = add_contact(client)
    add_membership(client, joined, date(2025, 6, 23), None)
    leaving = add_contact(client)
    add_membership(client, leaving, date(2024, 7, 1), date(2025, 6, 30))
    report = email_run(client).run(at("2025-06-23"))
    assert report.sent == 1
    [failure] = report.failed
    assert failure.record_id.startswith("expiry-reminder_")
    assert failure.reason == "template 'expiry-reminder-d7' not found"
    failed = [row for row in events(client).values() if status_of(row) == "failed"]
    assert [row[E.reason] for row in failed] == ["template 'expiry-reminder-d7' not found"]


def test_bad_memberships_are_reported_and_the_rest_scheduled(client: DataverseClient) -> None:
    add_template(client, "onboarding-d0", "Welcome", "")
    person = add_contact(client)
    backwards = add_membership(client, person, date(2025, 6, 23), date(2025, 6, 1))
    honorary = add_membership(client, person, date(2025, 6, 23), None, type="honorary")
    add_membership(client, add_contact(client), date(2025, 6, 23), None)
    types = {k: v for k, v in SCHEMA.membership.type_values.items() if k != "honorary"}
    schema = SCHEMA.model_copy(update={"membership": MembershipMap(type_values=types)})
    report = email_run(client, schema).run(at("2025-06-23"))
    assert {(p.record_id, p.reason) for p in report.problems} == {
        (backwards, "end date before start date"),
        (honorary, "unknown membership type"),
    }
    assert report.sent == 1


def test_approval_starts_an_onboarding_series(client: DataverseClient) -> None:
    add_template(client, "onboarding-d0", "Welcome", "")
    person = add_contact(client)
    r = SCHEMA.registration
    client.create(
        r.entity_set,
        {
            r.name: "registration",
            r.status: r.status_values[Status.APPROVED_ALUMNUS],
            r.processed_on: "2025-06-23T03:00:00Z",
            f"{r.person_nav}@odata.bind": odata.bind("contacts", person),
        },
    )
    report = email_run(client).run(at("2025-06-23"))
    assert (report.created, report.sent) == (1, 1)
    [key] = events(client)
    assert key == f"onboarding_{person}_20250623-d0"


def test_delivery_on_a_service_bus_topic(sandbox: Sandbox, client: DataverseClient) -> None:
    alma = add_contact(client)
    add_membership(client, alma, date(2024, 7, 1), date(2025, 6, 30))
    sender = TopicSender(f"{sandbox.base_url}/servicebus", "member-lifecycle", "send", "c2VjcmV0")
    try:
        report = LifecycleRun(client, SCHEMA, SETTINGS, TopicDelivery(sender)).run(
            at("2025-06-23")
        )
    finally:
        sender.close()
    assert report.sent == 1
    message = sandbox.servicebus.receive("member-lifecycle")
    assert message is not None
    key = f"expiry-reminder_{alma}_20250630-d7"
    assert message.message_id == key
    assert json.loads(message.body) == {
        "key": key,
        "kind": "expiry-reminder",
        "period": "20250630-d7",
        "due": "2025-06-23",
        "template": "expiry-reminder-d7",
        "personId": alma,
        "membershipId": report_membership(client),
        "channel": "email",
    }


def report_membership(client: DataverseClient) -> str:
    [row] = rows(client, SCHEMA.membership.entity_set, select=(SCHEMA.membership.id,))
    return row[SCHEMA.membership.id]



def test_a_send_that_fails_is_reported_and_retried_by_the_next_run(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    add_template(client, "expiry-reminder-d7", "Ends soon", "<p>Renew</p>")
    alma = add_contact(client)
    add_membership(client, alma, date(2024, 7, 1), date(2025, 6, 30))
    with refusing(sandbox, is_send_email):
        failed = email_run(client).run(at("2025-06-23"))
    assert (failed.created, failed.sent, failed.failed) == (1, 0, [])
    [retry] = failed.retrying
    assert retry.reason.startswith("sending failed: ")
    [event] = events(client).values()
    assert status_of(event) == "pending"
    assert event[E.reason].startswith("sending failed: ")
    assert sandbox.outbox.mails == []

    retried = email_run(client).run(at("2025-06-23").replace(hour=9))
    assert (retried.created, retried.sent, retried.retrying) == (0, 1, [])
    [event] = events(client).values()
    assert (status_of(event), event[E.reason]) == ("sent", None)
    assert len(emails(client)) == 1
    assert [m.to for m in sandbox.outbox.mails] == [("alma@example.se",)]


def test_an_email_sent_by_a_run_that_did_not_record_it_is_not_sent_again(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    add_template(client, "expiry-reminder-d7", "Ends soon", "<p>Renew</p>")
    alma = add_contact(client)
    add_membership(client, alma, date(2024, 7, 1), date(2025, 6, 30))

    def is_outcome_write(request: Request) -> bool:
        return request.path.endswith("mp_lifecycleevents/Microsoft.Dynamics.CRM.UpdateMultiple")

    with refusing(sandbox, is_outcome_write), pytest.raises(Exception, match="injected"):
        email_run(client).run(at("2025-06-23"))
    assert len(sandbox.outbox.mails) == 1
    [event] = events(client).values()
    assert status_of(event) == "pending"

    rerun = email_run(client).run(at("2025-06-23").replace(hour=9))
    assert (rerun.created, rerun.existing, rerun.sent) == (0, 1, 1)
    assert len(sandbox.outbox.mails) == 1
    assert len(emails(client)) == 1

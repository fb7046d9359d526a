"""Messages Dataverse events start, against the sandbox: the service with real rows and
events as the pipeline delivers them (each once, consent first, nothing sent twice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sync_harness import (
    EVENT_REGISTRATION,
    SCHEMA,
    add_contact,
    add_event_registration_table,
    add_membership,
    add_template,
    client_for,
    rows,
)
from werkzeug.wrappers import Request, Response

from plugins.core.events import DataverseEvent
from plugins.core.remote_context import Entity
from plugins.core.settings import SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Status
from plugins.sync.delivery import EmailDelivery
from plugins.sync.follow_ups import FollowUpFailure, FollowUps
from plugins.sync.lifecycle import LifecycleRules
from plugins.sync.service import LifecycleRun
from plugins.sync.triggers import FollowUpRules, FollowUpTrigger
from sandbox.app import Sandbox
from sandbox.errors import ODataError
from sandbox.store import Caller

NOW = datetime(2025, 6, 23, 8, 0, tzinfo=UTC)
LIFECYCLE = SyncSettings.Lifecycle(
    enabled=True,
    rules=LifecycleRules(onboarding_days=(0, 7), reminder_offsets_days=(7,), max_catch_up_days=7),
)
ATTENDED = FollowUpTrigger(
    name="attended", table=EVENT_REGISTRATION.logical_name,
    entity_set=EVENT_REGISTRATION.entity_set, column="mp_attended", value=True,
    person="mp_personid",
)
RULES = FollowUpRules(enabled=True, triggers=(ATTENDED,))
E = SCHEMA.lifecycle_event


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    add_event_registration_table(sandbox)
    with client_for(sandbox) as instance:
        add_template(instance, "onboarding-d0", "Welcome {!contact:firstname;}", "<p>Hi</p>")
        add_template(instance, "renewal", "Thank you for renewing", "<p>Thanks</p>")
        add_template(instance, "follow-up-attended", "Thanks for coming", "<p>Slides</p>")
        yield instance


def follow_ups(client: DataverseClient, rules: FollowUpRules = RULES) -> FollowUps:
    delivery = EmailDelivery(client, SCHEMA.email, SCHEMA.template, SCHEMA.contact, {})
    return FollowUps(client, SCHEMA, LIFECYCLE, rules, delivery, clock=lambda: NOW)


def event(message: str, table: str, record_id: str, **extra: Any) -> DataverseEvent:
    return DataverseEvent(
        source="webhook", message=message, table=table, record_id=record_id, stage=40, mode=1,
        **extra,
    )


def sent_subjects(sandbox: Sandbox) -> list[str]:
    return [mail.subject for mail in sandbox.outbox.mails]


def keys(client: DataverseClient) -> list[str]:
    return sorted(row[E.key] for row in rows(client, E.entity_set, select=(E.key,)))


def test_a_new_membership_starts_its_series_once(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    alma = add_contact(client, firstname="Alma")
    membership = add_membership(client, alma, date(2025, 6, 23), None)
    created = event("Create", SCHEMA.membership.table, membership)

    first = follow_ups(client).handle(created)
    again = follow_ups(client).handle(created)

    assert (first.result, first.created, first.sent) == ("delivered", 1, 1)
    assert (again.result, again.created, again.sent) == ("delivered", 0, 0)
    assert sent_subjects(sandbox) == ["Welcome Alma"]
    assert keys(client) == [f"onboarding_{alma}_20250623-d0"]

    nightly = LifecycleRun(
        client, SCHEMA, LIFECYCLE,
        EmailDelivery(client, SCHEMA.email, SCHEMA.template, SCHEMA.contact, {}),
    ).run(NOW.replace(hour=20))
    assert (nightly.created, nightly.existing, nightly.sent) == (0, 1, 0)
    assert len(sandbox.outbox.mails) == 1


def test_an_approved_registration_starts_the_onboarding_series(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    bo = add_contact(client, firstname="Bo", emailaddress1="bo@example.se")
    r = SCHEMA.registration
    approved = client.create(r.entity_set, {
        r.name: "registration", r.status: r.status_values[Status.APPROVED_MANUALLY],
        r.processed_on: "2025-06-23T07:00:00Z",
        f"{r.person_nav}@odata.bind": odata.bind("contacts", bo),
    }).id
    received = client.create(r.entity_set, {
        r.name: "registration", r.status: r.status_values[Status.RECEIVED],
        f"{r.person_nav}@odata.bind": odata.bind("contacts", bo),
    }).id
    assert approved and received

    waiting = follow_ups(client).handle(event("Update", r.table, received))
    done = follow_ups(client).handle(event("Update", r.table, approved))

    assert waiting.result == "nothing-due"
    assert (done.result, done.sent) == ("delivered", 1)
    assert [m.to for m in sandbox.outbox.mails] == [("bo@example.se",)]
    assert keys(client) == [f"onboarding_{bo}_20250623-d0"]


def test_a_renewal_needs_the_end_date_to_move_later(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    alma = add_contact(client)
    membership = add_membership(client, alma, date(2024, 7, 1), date(2026, 6, 30))

    def before(end: date) -> dict[str, Entity]:
        moment = datetime(end.year, end.month, end.day, tzinfo=UTC)
        image = Entity(logical_name="mp_membership", attributes={"mp_enddate": moment})
        return {"PreImage": image}

    m = SCHEMA.membership.table
    shortened = follow_ups(client).handle(
        event("Update", m, membership, pre_images=before(date(2027, 6, 30)))
    )
    no_image = follow_ups(client).handle(event("Update", m, membership))
    renewal = follow_ups(client).handle(
        event("Update", m, membership, pre_images=before(date(2025, 6, 30)))
    )

    assert (shortened.result, no_image.result) == ("nothing-due", "nothing-due")
    assert (renewal.result, renewal.sent) == ("delivered", 1)
    assert sent_subjects(sandbox) == ["Thank you for renewing"]
    assert keys(client) == [f"renewal_{alma}_20260630"]


def test_a_configured_table_change_sends_its_follow_up_once_per_row(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    alma = add_contact(client)
    person = {"mp_PersonId@odata.bind": odata.bind("contacts", alma)}
    attended = client.create(
        EVENT_REGISTRATION.entity_set, {"mp_name": "Gala", "mp_attended": True, **person}
    ).id
    absent = client.create(
        EVENT_REGISTRATION.entity_set, {"mp_name": "Gala", "mp_attended": False, **person}
    ).id
    assert attended and absent

    table = EVENT_REGISTRATION.logical_name
    outcomes = [
        follow_ups(client).handle(event("Update", table, row_id))
        for row_id in (attended, absent, attended)
    ]

    assert [(o.result, o.sent) for o in outcomes] == [
        ("delivered", 1), ("nothing-due", 0), ("delivered", 0)
    ]
    assert sent_subjects(sandbox) == ["Thanks for coming"]
    [key] = keys(client)
    assert key.startswith(f"follow-up_{alma}_attended-")
    [row] = rows(client, E.entity_set, select=(E.template, E.kind))
    assert (row[E.template], row[E.kind]) == ("follow-up-attended", 100000007)


def test_consent_is_checked_before_a_follow_up_goes_out(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    person = add_contact(client, donotemail=True)
    membership = add_membership(client, person, date(2025, 6, 23), None)
    outcome = follow_ups(client).handle(event("Create", SCHEMA.membership.table, membership))
    assert (outcome.result, outcome.refused, outcome.sent) == ("delivered", 1, 0)
    assert sandbox.outbox.mails == []
    [row] = rows(client, E.entity_set, select=(E.reason,))
    assert row[E.reason] == "donotemail"


def test_events_not_watched_or_for_rows_gone_do_nothing(client: DataverseClient) -> None:
    membership_table = SCHEMA.membership.table
    gone = follow_ups(client).handle(
        event("Create", membership_table, "9d0e8f7a-0000-4000-8000-000000000001")
    )
    assert gone.result == "gone"
    other = follow_ups(client).handle(event("Create", "task", "9d0e8f7a-0000-4000-8000-0000000002"))
    assert other.result == "ignored"
    off = follow_ups(client, FollowUpRules()).handle(event("Create", membership_table, "x"))
    assert off.result == "ignored"
    assert keys(client) == []


def test_a_dataverse_failure_is_raised_to_be_retried(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    membership = add_membership(client, add_contact(client), date(2025, 6, 23), None)
    original = sandbox.webapi.dispatch

    def refuse_reads(request: Request, caller: Caller) -> Response:
        if request.method == "GET" and "mp_memberships(" in request.path:
            raise ODataError(400, "0x80040216", "Refused (injected by the test).")
        return original(request, caller)

    sandbox.webapi.dispatch = refuse_reads  # type: ignore[method-assign]
    try:
        with pytest.raises(FollowUpFailure):
            follow_ups(client).handle(event("Create", SCHEMA.membership.table, membership))
    finally:
        sandbox.webapi.dispatch = original  # type: ignore[method-assign]
    assert keys(client) == []

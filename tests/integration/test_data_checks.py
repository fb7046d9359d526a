"""Data-check mailings end to end: the mail, its link, the saved page, the confirmation date,
and the daily cap spreading a wave over days."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from pydantic import SecretStr
from selfservice_harness import LINK_KEY, LINK_KEY_ID, SelfServiceEnv, selfservice_env
from sync_harness import SCHEMA, SandboxTokens, add_contact, add_template, client_for, rows

from plugins.admin import connection
from plugins.cli import main
from plugins.core.settings import SelfServiceSettings, Settings, SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category
from plugins.sync.delivery import EmailDelivery, PendingEvent
from plugins.sync.event_services import build_delivery
from plugins.sync.jobs import SyncJobs
from plugins.sync.ledger import EventLedger, Tally
from plugins.sync.lifecycle import DueEvent, EventKind, event_key

C = SCHEMA.contact
E = SCHEMA.lifecycle_event
ALUMNUS = str(C.category_values[Category.ALUMNUS])
STUDENT = str(C.category_values[Category.STUDENT])
BODY = '<p>Hej {!contact:firstname;}! <a href="{!link:update;}">Check your details</a></p>'


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SelfServiceEnv]:
    with selfservice_env(tmp_path_factory.mktemp("datacheck")) as running:
        yield running


@pytest.fixture
def client(env: SelfServiceEnv) -> Iterator[DataverseClient]:
    with client_for(env.sandbox) as instance:
        yield instance


def settings(env: SelfServiceEnv, cap: int = 100) -> Settings:
    return Settings(
        selfservice=SelfServiceSettings(
            link_keys={LINK_KEY_ID: SecretStr(LINK_KEY)}, link_key_id=LINK_KEY_ID,
            public_base_url=env.base,
        ),
        sync=SyncSettings(
            lifecycle=SyncSettings.Lifecycle(enabled=True),
            data_check=SyncSettings.DataCheck(enabled=True, daily_cap=cap),
        ),
    )


def run(env: SelfServiceEnv, client: DataverseClient, now: datetime, cap: int = 100) -> Any:
    with SyncJobs(settings(env, cap), client) as jobs:
        return jobs.lifecycle(now)


def link_in(env: SelfServiceEnv, address: str) -> str:
    [mail] = env.sandbox.outbox.to(address)
    match = re.search(r'<a href="([^"]+)"', mail.body)
    assert match is not None
    return html.unescape(match.group(1))


def confirmed_on(client: DataverseClient, contact_id: str) -> Any:
    row = client.get(C.entity_set, contact_id, select=(C.details_confirmed_on,))
    assert row is not None
    return row[C.details_confirmed_on]


def test_mail_link_and_saving_unchanged_records_the_confirmation(
    env: SelfServiceEnv,
    client: DataverseClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add_template(client, "data-check", "Are your details right?", BODY)
    tag = uuid.uuid4().hex[:6]
    address = f"alma.{tag}@example.se"
    alma = add_contact(client, emailaddress1=address, firstname="Alma",
                       mp_personcategories=ALUMNUS, mobilephone="+46705550000")
    recent = add_contact(client, emailaddress1=f"recent.{tag}@example.se",
                         mp_personcategories=ALUMNUS,
                         mp_detailsconfirmedon=datetime.now(UTC) - timedelta(days=30))
    student = add_contact(client, emailaddress1=f"student.{tag}@example.se",
                          mp_personcategories=STUDENT)
    refused = add_contact(client, emailaddress1=f"no.{tag}@example.se",
                          mp_personcategories=ALUMNUS, mp_channels=None)
    now = datetime.now(UTC)

    report = run(env, client, now)

    assert report is not None and report.sent >= 1
    for other in (recent, student, refused):
        assert not env.emails_to(other)
    link = link_in(env, address)
    assert link.startswith(f"{env.base}/link/") and tag not in link
    assert confirmed_on(client, alma) is None

    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = "203.0.113.77"
    form = browser.get(link, timeout=30)
    assert form.status_code == 200 and 'value="Alma"' in form.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    unchanged = {
        "csrf": csrf.group(1), "website": "", "first_name": "Alma", "last_name": "Alumn",
        "email": address, "phone": "", "national_id": "", "topics": ["newsletter"],
        "channels": ["email"], "consent": "yes", "lang": "en",
    }
    saved = browser.post(link, data=unchanged, timeout=30)
    assert saved.status_code == 200, saved.text

    confirmed = confirmed_on(client, alma)
    assert confirmed is not None and confirmed[:10] == now.date().isoformat()
    # Confirmed people are not asked again this wave, nor the next day.
    env.sandbox.outbox.clear()
    run(env, client, now + timedelta(days=1))
    assert env.sandbox.outbox.to(address) == []

    # The office's report: one alumnus mailed in this wave, and they confirmed.
    monkeypatch.setattr(connection, "token_provider_for", lambda s: SandboxTokens(env.sandbox))
    monkeypatch.setenv("DATAVERSE__URL", env.sandbox.base_url)
    monkeypatch.setenv("DATAVERSE__CA_BUNDLE", env.sandbox.ca_file or "")
    capsys.readouterr()
    assert main(["data-check-report"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["wave", "category", "sent", "confirmed", "rate"]
    assert any(line.split()[1:] == ["Alumnus", "1", "1", "100.0%"] for line in lines[1:])


def test_the_daily_cap_spreads_a_wave_over_days(
    env: SelfServiceEnv, client: DataverseClient
) -> None:
    tag = uuid.uuid4().hex[:6]
    people = [
        add_contact(client, emailaddress1=f"cap{n}.{tag}@example.se", mp_personcategories=ALUMNUS)
        for n in range(3)
    ]
    now = datetime(2031, 3, 10, 5, 0, tzinfo=UTC)
    env.sandbox.outbox.clear()
    kind = E.kind_values["data-check"]

    def asked() -> set[str]:
        found = rows(client, E.entity_set, select=(f"_{E.person}_value",),
                     filter=odata.eq(E.kind, kind))
        return {r[f"_{E.person}_value"] for r in found} & set(people)

    run(env, client, now, cap=2)
    first = asked()
    run(env, client, now + timedelta(hours=8), cap=2)
    assert asked() == first  # the same day's rerun records nothing more
    run(env, client, now + timedelta(days=1), cap=2)
    assert len(first) < 3 and asked() == set(people)


def test_events_recorded_in_bulk_fall_back_to_one_by_one_when_one_exists(
    env: SelfServiceEnv, client: DataverseClient
) -> None:
    people = [add_contact(client, emailaddress1=f"bulk{n}@example.se") for n in range(3)]
    wave = "20990101"
    events = [
        DueEvent(event_key(EventKind.DATA_CHECK, p, wave), p, EventKind.DATA_CHECK, wave,
                 datetime(2099, 1, 1, tzinfo=UTC).date())
        for p in people
    ]
    lifecycle = SyncSettings.Lifecycle(enabled=True)
    ledger = EventLedger(client, SCHEMA, lifecycle, EmailDelivery(
        client, SCHEMA.email, SCHEMA.template, C, {}))
    first = Tally()
    ledger.record_new(events[:1], first)
    again = Tally()
    ledger.record_new(events, again)  # the first exists already: one by one
    assert (first.created, again.created, again.existing) == (1, 2, 1)
    keys = {r[E.key] for r in rows(client, E.entity_set, select=(E.key,),
                                   filter=odata.eq(E.period, wave))}
    assert keys == {event.key for event in events}


def test_a_repeated_delivery_sends_no_second_mail_and_makes_no_second_link(
    env: SelfServiceEnv, client: DataverseClient
) -> None:
    address = f"twice.{uuid.uuid4().hex[:6]}@example.se"
    person = add_contact(client, emailaddress1=address)
    links = SCHEMA.selfservice_link
    before = len(rows(client, links.entity_set, select=(links.id,)))
    with SyncJobs(settings(env), client) as jobs:
        delivery = jobs_delivery(jobs)
        event = PendingEvent("e1", f"data-check_{person}_20990101", person,
                             EventKind.DATA_CHECK, "20990101", date(2099, 1, 1), "data-check")
        contact = client.get(C.entity_set, person)
        assert contact is not None
        assert delivery.deliver(event, contact).failure is None
        assert delivery.deliver(event, contact).failure is None
    assert len(env.sandbox.outbox.to(address)) == 1
    assert len(rows(client, links.entity_set, select=(links.id,))) == before + 1


def jobs_delivery(jobs: SyncJobs) -> Any:
    delivery, _ = build_delivery(jobs.settings, jobs.client)
    return delivery

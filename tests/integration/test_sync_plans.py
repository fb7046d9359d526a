"""Plans per segment against the sandbox: two segments get different templates in their
languages, the event row says which plan applied and why, and a kind outside a plan stops."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sync_harness import SCHEMA, add_contact, add_membership, client_for, rows

from plugins.core.settings import Settings, SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category
from plugins.sync.delivery import EmailDelivery
from plugins.sync.jobs import SyncJobs
from plugins.sync.lifecycle import LifecycleRules
from plugins.sync.plans import PlanSettings
from plugins.sync.service import LifecycleRun
from sandbox.app import Sandbox

C, E, T = SCHEMA.contact, SCHEMA.lifecycle_event, SCHEMA.template
START = date(2025, 6, 2)
ALUMNUS = str(C.category_values[Category.ALUMNUS])
MEMBER = str(C.category_values[Category.MEMBER])
PLANS = PlanSettings.model_validate({
    "plans": [
        {
            "name": "seniors-nb",
            "segment": {"membership_types": ["senior"]},
            "templates": {"onboarding-d0": "welcome-senior"},
            "language": "nb",
        },
        {
            "name": "alumni",
            "segment": {"categories": ["Alumnus"]},
            "kinds": ["onboarding"],
            "templates": {"onboarding-d0": "welcome-alumni"},
        },
    ],
    "default_language": "sv",
})
RULES = LifecycleRules(reminder_offsets_days=(7,), onboarding_days=(0,), anniversary_years=())


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def template(client: DataverseClient, title: str, language: str | None, subject: str) -> None:
    record: dict[str, Any] = {T.title: title, T.subject: subject, T.body: f"<p>{subject}</p>"}
    if language is not None:
        record[T.language] = T.language_codes[language]
    client.create(T.entity_set, record)


def test_two_segments_get_different_templates_in_their_languages(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    template(client, "welcome-senior", "nb", "Velkommen som seniormedlem")
    template(client, "welcome-senior", "sv", "Välkommen som seniormedlem")
    template(client, "welcome-alumni", "sv", "Välkommen, alumn")
    template(client, "welcome-alumni", "en", "Welcome, alum")
    template(client, "onboarding-d0", None, "Welcome")
    template(client, "expiry-reminder-d7", None, "Your membership ends soon")
    kari = add_contact(client, emailaddress1="kari@example.no", mp_personcategories=MEMBER)
    alma = add_contact(client, emailaddress1="alma@example.se", mp_personcategories=ALUMNUS)
    erik = add_contact(client, emailaddress1="erik@example.org", mp_personcategories=ALUMNUS,
                       mp_language="en")
    nils = add_contact(client, emailaddress1="nils@example.se", mp_personcategories=MEMBER)
    add_membership(client, kari, START, None, type="senior")
    add_membership(client, alma, START, date(2025, 6, 9))
    add_membership(client, erik, START, None)
    add_membership(client, nils, START, None)
    settings = SyncSettings.Lifecycle(
        enabled=True, rules=RULES, timezone="Europe/Stockholm", plans=PLANS
    )
    delivery = EmailDelivery(client, SCHEMA.email, SCHEMA.template, C, {})

    LifecycleRun(client, SCHEMA, settings, delivery).run(datetime(2025, 6, 2, 4, tzinfo=UTC))

    subjects = {mail.to[0]: mail.subject for mail in sandbox.outbox.mails}
    assert subjects == {
        "kari@example.no": "Velkommen som seniormedlem",
        "alma@example.se": "Välkommen, alumn",
        "erik@example.org": "Welcome, alum",
        "nils@example.se": "Welcome",
    }
    found = {row[E.key].split("_")[1]: row for row in rows(
        client, E.entity_set, select=(E.key, E.plan, E.template, E.reason, E.delivery_status))
        if row[E.key].startswith("onboarding")}
    assert found[kari][E.plan] == "plan seniors-nb: membership type senior"
    assert found[kari][E.template] == "welcome-senior"
    assert found[alma][E.plan] == "plan alumni: category Alumnus"
    assert found[nils][E.plan] == "no plan: no segment matched"

    # The alumni plan sends onboarding only: Alma's expiry reminder stops there, with why.
    reminders = [row for row in rows(client, E.entity_set, select=(E.key, E.plan, E.reason))
                 if row[E.key].startswith("expiry-reminder")]
    assert [(r[E.reason], r[E.plan]) for r in reminders] == [
        ("not-in-plan", "plan alumni: category Alumnus; does not send expiry-reminder")
    ]


def test_a_plan_greets_alumni_without_a_membership_on_their_birthday(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    template(client, "birthday", None, "Happy birthday")
    template(client, "birthday-alumni", "sv", "Grattis på födelsedagen")
    born_today = "1980-06-02"
    alumna = add_contact(client, emailaddress1="alumna@example.se", birthdate=born_today,
                         mp_personcategories=ALUMNUS)
    add_contact(client, emailaddress1="student@example.se", birthdate=born_today,
                mp_personcategories=str(C.category_values[Category.STUDENT]))
    add_contact(client, emailaddress1="later@example.se", birthdate="1980-06-20",
                mp_personcategories=ALUMNUS)
    member = add_contact(client, emailaddress1="member@example.se", birthdate=born_today,
                         mp_personcategories=MEMBER)
    add_membership(client, member, date(2020, 1, 1), None)
    plans = PlanSettings.model_validate({"plans": [
        {"name": "alumni-greetings", "segment": {"categories": ["Alumnus"]},
         "birthdays": True, "templates": {"birthday": "birthday-alumni"}},
    ]})
    settings = Settings(sync=SyncSettings(lifecycle=SyncSettings.Lifecycle(
        enabled=True, rules=RULES, timezone="Europe/Stockholm", plans=plans)))

    with SyncJobs(settings, client) as jobs:
        jobs.lifecycle(datetime(2025, 6, 2, 4, tzinfo=UTC))

    greetings = {m.to[0]: m.subject for m in sandbox.outbox.mails}
    assert greetings == {
        "alumna@example.se": "Grattis på födelsedagen",
        "member@example.se": "Happy birthday",
    }
    [row] = rows(client, E.entity_set, select=(E.plan,),
                 filter=odata.eq(E.key, f"birthday_{alumna}_2025"))
    assert row[E.plan] == "plan alumni-greetings: category Alumnus"

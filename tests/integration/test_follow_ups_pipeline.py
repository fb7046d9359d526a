"""Event-started messages end to end: the steps registered as ``member-plugins register``
registers them (one endpoint), events delivered by the sandbox to the product's
``function_app.py`` in the local host, dispatched by table, and the e-mails really sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import WebApiSession
from pipeline_env import FUNCTION_APP, WEBHOOK_KEY, app_settings
from sync_harness import (
    EVENT_REGISTRATION,
    SCHEMA,
    add_contact,
    add_event_registration_table,
    add_membership,
    add_template,
    client_for,
)

from plugins.admin.catalog import product_steps
from plugins.admin.endpoint import WebhookDelivery
from plugins.admin.steps import RegistrationOptions, register
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.sync.triggers import FollowUpRules, FollowUpTrigger
from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.host import LocalHost

ATTENDED = FollowUpTrigger(
    name="attended", table=EVENT_REGISTRATION.logical_name,
    entity_set=EVENT_REGISTRATION.entity_set, column="mp_attended", value=True,
    person="mp_personid",
)
RULES = FollowUpRules(enabled=True, triggers=(ATTENDED,))


class Env:
    """The sandbox, the host and a client, with the product's steps registered."""

    def __init__(self, sandbox: Sandbox, host: LocalHost, client: DataverseClient) -> None:
        self.sandbox = sandbox
        self.host = host
        self.client = client

    def settle(self) -> None:
        for _ in range(3):
            assert self.sandbox.steps.wait_idle(15), "steps still delivering"
            assert self.host.wait_idle(15), "host busy"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    sandbox = Sandbox(SandboxConfig(https=True, state_dir=str(tmp_path))).start()
    host: LocalHost | None = None
    try:
        add_event_registration_table(sandbox)
        dv = WebApiSession(sandbox)
        team = dv.post("teams", json={"name": "Alumni office"},
                       headers={"Prefer": "return=representation"}).json()["teamid"]
        dv.close()
        settings = {
            **app_settings(sandbox, tmp_path / "maskinporten.pem", team),
            "SYNC__FOLLOW_UPS__ENABLED": "true",
            "SYNC__FOLLOW_UPS__TRIGGERS": json.dumps([ATTENDED.model_dump()]),
        }
        host = LocalHost(
            str(FUNCTION_APP), function_keys={"registration_webhook": WEBHOOK_KEY},
            settings=settings, servicebus_poll_seconds=0.02, servicebus_ca_bundle=sandbox.ca_file,
        ).start()
        with client_for(sandbox) as client:
            url = f"{host.base_url}/api/registration/events"
            options = RegistrationOptions(
                WebhookDelivery(url, WEBHOOK_KEY), steps=product_steps(SCHEMA, RULES)
            )
            register(client, options)
            yield Env(sandbox, host, client)
    finally:
        if host is not None:
            host.stop()
        sandbox.stop()


def test_a_new_membership_and_an_attended_event_send_their_emails_at_once(env: Env) -> None:
    client = env.client
    add_template(client, "onboarding-d0", "Welcome {!contact:firstname;}", "<p>Hi</p>")
    add_template(client, "follow-up-attended", "Thanks for coming", "<p>Slides</p>")
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    nova = add_contact(client, firstname="Nova", emailaddress1="nova@example.se")

    add_membership(client, nova, today, None)
    env.settle()

    [welcome] = env.sandbox.outbox.mails
    assert (welcome.to, welcome.subject) == (("nova@example.se",), "Welcome Nova")

    person = {"mp_PersonId@odata.bind": odata.bind("contacts", nova)}
    row = client.create(EVENT_REGISTRATION.entity_set, {"mp_name": "Gala", **person}).id
    assert row is not None
    env.settle()
    assert len(env.sandbox.outbox.mails) == 1

    for attended in (True, False, True):
        client.update(EVENT_REGISTRATION.entity_set, row, {"mp_attended": attended})
        env.settle()

    assert [m.subject for m in env.sandbox.outbox.mails] == ["Welcome Nova", "Thanks for coming"]

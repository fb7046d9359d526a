"""The SMS channel and address requests against the sandbox and its ACS SMS emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sync_harness import EMAIL, POST, SCHEMA, SMS, add_contact, client_for, rows

from plugins.core.settings import SelfServiceSettings, Settings, SyncSettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.selfservice.signing import KeyRing, read_link_token
from plugins.sms.acs import AcsSmsSender, SmsError
from plugins.sync.jobs import SyncJobs
from sandbox.app import Sandbox

NOW = datetime(2025, 6, 23, 2, 0, tzinfo=UTC)
LINK_KEY = "l" * 40
PAGES = "https://alumni.example.se/api/mypage"
C = SCHEMA.contact
E = SCHEMA.lifecycle_event


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def settings(sandbox: Sandbox, **sms: Any) -> Settings:
    return Settings(
        selfservice=SelfServiceSettings(
            link_keys={"k1": SecretStr(LINK_KEY)}, link_key_id="k1", public_base_url=PAGES
        ),
        sync=SyncSettings(
            lifecycle=SyncSettings.Lifecycle(enabled=True),
            address_requests=SyncSettings.AddressRequests(enabled=True),
            sms=SyncSettings.Sms(
                endpoint=sandbox.base_url, access_key=sandbox.sms.access_key,
                sender="+46700000000", **sms,
            ),
        ),
    )


def person(client: DataverseClient, channels: tuple[int, ...], **values: Any) -> str:
    record = {"emailaddress1": None, "mp_channels": ",".join(map(str, channels)), **values}
    return add_contact(client, **record)


def test_sms_reaches_the_emulator_only_with_consent_and_post_becomes_a_letter_task(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    texted = person(client, (SMS,), mobilephone="070-123 45 67", firstname="Sara")
    person(
        client, (EMAIL, SMS), emailaddress1="old@example.se",
        mp_undeliverableemail="old@example.se", mp_undeliverableon="2025-06-01T00:00:00Z",
        mobilephone="+4790012345",
    )
    person(client, (EMAIL,), mobilephone="+46701111111")  # never chose SMS
    person(client, (SMS,), mobilephone="+46702222222", donotphone=True)
    person(client, (SMS,), mobilephone="+46703333333", mp_consenton=None, mp_channels=None)
    posted = person(
        client, (POST,), address1_line1="Storgatan 1", address1_postalcode="11122",
    )
    person(client, (POST,), address1_line1="Hemlig 1", address1_postalcode="11122",
           mp_protectionlevel=100000002)  # a protected address gets no letter
    add_contact(client, emailaddress1="fine@example.se", mobilephone="+46704444444")

    with SyncJobs(settings(sandbox), client) as jobs:
        report = jobs.lifecycle(NOW)

    assert report is not None and report.sent == 3
    sent = {m.to: m for m in sandbox.sms.messages}
    assert sorted(sent) == ["+46701234567", "+4790012345"]
    text = sent["+46701234567"].message
    assert text.startswith("Hej Sara! Vi saknar din e-postadress.")
    token = text.split(f"{PAGES}/link/")[1].split("?")[0]
    link = read_link_token(KeyRing({"k1": LINK_KEY.encode()}, "k1"), token, NOW)
    links = SCHEMA.selfservice_link
    row = client.get(links.entity_set, link.id, select=(f"_{links.person}_value", links.used_on))
    assert row is not None and row[f"_{links.person}_value"] == texted
    assert row[links.used_on] is None
    [task] = rows(client, "tasks", select=("subject", "_regardingobjectid_value"))
    assert task["_regardingobjectid_value"] == posted
    assert "asking for an e-mail address" in task["subject"]
    statuses = rows(client, E.entity_set, select=(E.channel, E.delivery_status),
                    filter=odata.eq(E.kind, E.kind_values["address-request"]))
    assert sorted(r[E.channel] for r in statuses) == [SMS, SMS, POST]
    assert {r[E.delivery_status] for r in statuses} == {E.delivery_values["sent"]}

    # A second run in the same interval asks nobody again.
    sandbox.sms.clear()
    with SyncJobs(settings(sandbox), client) as jobs:
        again = jobs.lifecycle(NOW.replace(hour=20))
    assert again is not None and again.sent == 0 and sandbox.sms.messages == []


def test_the_emulator_refuses_a_wrong_key_and_a_bad_number(sandbox: Sandbox) -> None:
    good = AcsSmsSender(sandbox.base_url, sandbox.sms.access_key, "+46700000000")
    wrong = AcsSmsSender(sandbox.base_url, "A" * 43 + "=", "+46700000000")
    try:
        with pytest.raises(SmsError, match="401") as denied:
            wrong.send("+46701234567", "Hej")
        assert not denied.value.retry
        with pytest.raises(SmsError, match="Invalid To phone number") as refused:
            good.send("0701234567", "Hej")
        assert not refused.value.retry
        assert good.send("+46701234567", "Hej", tag="test").startswith("Outgoing_")
    finally:
        good.close()
        wrong.close()
    assert [(m.to, m.message, m.tag) for m in sandbox.sms.messages] == [
        ("+46701234567", "Hej", "test")
    ]

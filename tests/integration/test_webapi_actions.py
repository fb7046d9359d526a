"""Actions bound to one row: ``SendEmail`` on an e-mail activity, and the sandbox's outbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import WebApiSession
from sync_harness import client_for

from plugins.core.schema_map import SchemaMap
from plugins.dataverse.batch import BatchRequest
from plugins.dataverse.emails import EmailActivities, Message
from plugins.dataverse.errors import BatchError
from sandbox.app import Sandbox

SEND = "Microsoft.Dynamics.CRM.SendEmail"


@pytest.fixture
def email_to_alma(dv: WebApiSession) -> Iterator[tuple[str, str]]:
    contact = dv.post(
        "contacts", json={"firstname": "Alma", "emailaddress1": "alma@example.se"},
        headers={"Prefer": "return=representation"},
    ).json()["contactid"]
    yield contact, create_email(dv, contact)


def create_email(dv: WebApiSession, contact: str, **overrides: Any) -> str:
    body = {
        "subject": "Welcome",
        "description": "<p>Hello</p>",
        "directioncode": True,
        "regardingobjectid_contact_email@odata.bind": f"/contacts({contact})",
        "email_activity_parties": [
            {"partyid_systemuser@odata.bind": f"/{sender(dv)}", "participationtypemask": 1},
            {"partyid_contact@odata.bind": f"/contacts({contact})", "participationtypemask": 2},
        ],
        **overrides,
    }
    created = dv.post("emails", json=body, headers={"Prefer": "return=representation"})
    assert created.status_code == 201, created.text
    return created.json()["activityid"]


def sender(dv: WebApiSession) -> str:
    return f"systemusers({dv.get('WhoAmI()').json()['UserId']})"


def state_of(dv: WebApiSession, email_id: str) -> tuple[int, int]:
    row = dv.get(f"emails({email_id})?$select=statecode,statuscode").json()
    return row["statecode"], row["statuscode"]


def test_send_email_marks_it_sent_and_the_outbox_has_it(
    sandbox: Sandbox, dv: WebApiSession, email_to_alma: tuple[str, str]
) -> None:
    contact, email_id = email_to_alma
    assert state_of(dv, email_id) == (0, 1)  # Open, Draft

    answer = dv.post(f"emails({email_id})/{SEND}", json={"IssueSend": True})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["Subject"] == "Welcome"
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.SendEmailResponse")
    assert state_of(dv, email_id) == (1, 3)  # Completed, Sent (after the mailbox sent it)
    [mail] = sandbox.outbox.mails
    assert (mail.email_id, mail.to, mail.subject, mail.body, mail.regarding) == (
        email_id, ("alma@example.se",), "Welcome", "<p>Hello</p>", contact
    )
    assert sandbox.outbox.to("ALMA@example.se") == [mail]


def test_a_sent_email_cannot_be_sent_again(
    sandbox: Sandbox, dv: WebApiSession, email_to_alma: tuple[str, str]
) -> None:
    _, email_id = email_to_alma
    assert dv.post(f"emails({email_id})/{SEND}", json={"IssueSend": True}).status_code == 200

    again = dv.post(f"emails({email_id})/{SEND}", json={"IssueSend": True})

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "0x80040203"
    assert len(sandbox.outbox.mails) == 1


def test_issue_send_false_only_records_it_as_sent(
    sandbox: Sandbox, dv: WebApiSession, email_to_alma: tuple[str, str]
) -> None:
    _, email_id = email_to_alma
    assert dv.post(f"emails({email_id})/{SEND}", json={"IssueSend": False}).status_code == 200
    assert state_of(dv, email_id) == (1, 3)
    assert sandbox.outbox.mails == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"directioncode": False}, "Cannot send incoming email messages."),
        ({"email_activity_parties": []}, "The email must have one and only one sender."),
    ],
)
def test_an_email_that_cannot_be_sent_is_refused(
    sandbox: Sandbox, dv: WebApiSession, overrides: dict[str, Any], message: str
) -> None:
    contact = dv.post(
        "contacts", json={"firstname": "Bo"}, headers={"Prefer": "return=representation"}
    ).json()["contactid"]
    email_id = create_email(dv, contact, **overrides)
    answer = dv.post(f"emails({email_id})/{SEND}", json={"IssueSend": True})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == message
    assert state_of(dv, email_id) == (0, 1)


def test_a_recipient_without_an_address_is_refused(dv: WebApiSession) -> None:
    contact = dv.post(
        "contacts", json={"firstname": "Bo"}, headers={"Prefer": "return=representation"}
    ).json()["contactid"]
    email_id = create_email(dv, contact)
    answer = dv.post(f"emails({email_id})/{SEND}", json={"IssueSend": True})
    assert answer.status_code == 400
    assert "does not have an email address" in answer.json()["error"]["message"]


def test_bad_requests_get_dataverse_errors(
    dv: WebApiSession, email_to_alma: tuple[str, str]
) -> None:
    contact, email_id = email_to_alma
    missing = dv.post(f"emails({email_id})/{SEND}", json={})
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "0x80048d19")
    unknown_row = dv.post(
        f"emails(9b2f2a3e-0000-4000-8000-000000000001)/{SEND}", json={"IssueSend": True}
    )
    assert (unknown_row.status_code, unknown_row.json()["error"]["code"]) == (404, "0x80040217")
    unknown_action = dv.post(f"contacts({contact})/{SEND}", json={"IssueSend": True})
    assert (unknown_action.status_code, unknown_action.json()["error"]["code"]) == (
        404, "0x8006088a"
    )
    wrong_method = dv.get(f"emails({email_id})/{SEND}")
    assert wrong_method.status_code == 405


def test_send_in_a_change_set_that_rolls_back_sends_nothing(sandbox: Sandbox) -> None:
    emails_map = SchemaMap().email
    with client_for(sandbox) as client:
        contact = client.create("contacts", {"emailaddress1": "cai@example.se"}).id
        assert contact is not None
        emails = EmailActivities(client, emails_map, "contacts")
        message = Message(contact, "Hi", "<p>Hi</p>")
        batch = BatchRequest()
        changes = batch.changeset()
        changes.create("emails", emails.record(message, "3f5d8a9e-1111-4222-8333-444455556666"))
        emails.send_in(changes, "emails(3f5d8a9e-1111-4222-8333-444455556666)")
        changes.update(f"contacts({contact})", {"firstname": "Cai"}, if_match='W/"1"')
        with pytest.raises(BatchError):
            client.execute_batch(batch)
        assert sandbox.outbox.mails == []
        assert list(client.query("emails", select=("activityid",))) == []

        email_id = "3f5d8a9e-1111-4222-8333-444455556667"
        client.create("emails", emails.record(message, email_id))
        assert emails.is_open(email_id)
        emails.send(email_id)
        [mail] = sandbox.outbox.mails
        assert (mail.email_id, mail.to) == (email_id, ("cai@example.se",))
        assert not emails.is_open(email_id)

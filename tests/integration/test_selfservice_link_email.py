"""The self-service link e-mail is really sent, and a link whose e-mail cannot be sent does
not exist (the link row, the activity and ``SendEmail`` are one change set)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sync_harness import client_for
from werkzeug.wrappers import Request, Response

from plugins.core.schema_map import SchemaMap
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import BatchError
from plugins.selfservice.signing import LinkPurpose, new_link
from plugins.selfservice.store import Email, SelfServiceStore
from sandbox.app import Sandbox
from sandbox.errors import ODataError
from sandbox.store import Caller

NOW = datetime(2025, 6, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    with client_for(sandbox) as instance:
        yield instance


def test_the_link_email_is_sent_to_the_address_asked_for(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    client.create("contacts", {"firstname": "Bo", "emailaddress2": "Bo.Ek@example.se"})
    store = SelfServiceStore(client, SchemaMap())
    [recipient] = store.recipients("bo.ek@example.se")
    link = new_link(LinkPurpose.UPDATE, NOW, timedelta(hours=1))

    store.issue_link(link, recipient, Email("Your link", "<p>Follow it</p>"))

    [mail] = sandbox.outbox.mails
    assert (mail.to, mail.subject, mail.body) == (
        ("Bo.Ek@example.se",), "Your link", "<p>Follow it</p>"
    )
    assert client.get("mp_selfservicelinks", link.id) is not None


def test_a_link_whose_email_cannot_be_sent_is_not_created(
    sandbox: Sandbox, client: DataverseClient
) -> None:
    client.create("contacts", {"firstname": "Bo", "emailaddress1": "bo@example.se"})
    store = SelfServiceStore(client, SchemaMap())
    [recipient] = store.recipients("bo@example.se")
    link = new_link(LinkPurpose.UNREGISTER, NOW, timedelta(hours=1))
    original = sandbox.webapi.dispatch

    def refuse_send(request: Request, caller: Caller) -> Response:
        if request.path.endswith("/Microsoft.Dynamics.CRM.SendEmail"):
            raise ODataError(400, "0x80040203", "Refused (injected by the test).")
        return original(request, caller)

    sandbox.webapi.dispatch = refuse_send  # type: ignore[method-assign]
    try:
        with pytest.raises(BatchError):
            store.issue_link(link, recipient, Email("Your link", "<p>Follow it</p>"))
    finally:
        sandbox.webapi.dispatch = original  # type: ignore[method-assign]

    assert sandbox.outbox.mails == []
    assert list(client.query("mp_selfservicelinks", select=("mp_selfservicelinkid",))) == []
    assert list(client.query("emails", select=("activityid",))) == []

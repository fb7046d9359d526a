"""E-mail activities to a contact: the row to create, and sending it with ``SendEmail``.

An e-mail activity is only a record until ``SendEmail`` (``{"IssueSend": true}``) hands it
to the mailbox: Dataverse then marks it Completed / Pending Send and server-side
synchronisation sends it and sets it to Sent. Only an open e-mail (a draft, or one that
failed to send) can be sent, so sending the same activity twice cannot deliver it twice.

The activity carries its parties deep-inserted: the sender (the application user the client
signs in as, from ``WhoAmI``, as Microsoft's SendEmail sample does: its mailbox sends the
mail) and the contact as the To recipient. The regarding column points at the contact.

A message to an address that belongs to no contact yet (the confirmation of a new person's
registration) has an unresolved To party: only its ``addressused``. Dataverse sends such
e-mails only when the environment allows messages with unresolved recipients (System
Settings > Email).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from plugins.core.schema_map import EmailMap

from . import odata
from .batch import ChangeSet, RowAddress
from .client import DataverseClient

SEND_EMAIL = "SendEmail"
ISSUE_SEND = {"IssueSend": True}
OPEN = 0
SYSTEM_USERS = "systemusers"


@dataclass(frozen=True)
class Message:
    """What to send to one contact: subject and HTML body; ``address`` is the one to use
    (None: Dataverse takes the contact's primary e-mail address). Without a contact the
    message goes to ``address`` alone (an unresolved recipient)."""

    contact_id: str | None
    subject: str
    html: str
    address: str | None = None


class EmailActivities:
    """Creates and sends e-mail activities through one Dataverse client."""

    def __init__(self, client: DataverseClient, columns: EmailMap, contact_set: str) -> None:
        self._client = client
        self._columns = columns
        self._contact_set = contact_set
        self._sender: str | None = None
        self._lock = threading.Lock()

    @property
    def entity_set(self) -> str:
        """Where e-mail activities are created (``emails``)."""
        return self._columns.entity_set

    def record(self, message: Message, email_id: str | None = None) -> dict[str, Any]:
        """The activity to create (outgoing, regarding the contact); with ``email_id`` for a
        POST that chooses the id (an upsert names it in the URL instead)."""
        c = self._columns
        to: dict[str, Any] = {c.party_type: c.to_recipient}
        if message.contact_id is not None:
            to[f"{c.party_contact_nav}@odata.bind"] = odata.bind(
                self._contact_set, message.contact_id
            )
        elif not message.address:
            raise ValueError("a message to no contact needs an address")
        if message.address:
            to[c.party_address] = message.address
        sender = {
            f"{c.party_user_nav}@odata.bind": odata.bind(SYSTEM_USERS, self.sender_id()),
            c.party_type: c.sender,
        }
        record: dict[str, Any] = {
            c.subject: message.subject,
            c.description: message.html,
            c.direction: True,
            c.parties_nav: [sender, to],
        }
        if message.contact_id is not None:
            record[f"{c.regarding_contact_nav}@odata.bind"] = to[
                f"{c.party_contact_nav}@odata.bind"
            ]
        if email_id is not None:
            record[c.id] = email_id
        return record

    def send(self, email_id: str) -> None:
        """Hand the activity to the mailbox (``SendEmail`` with ``IssueSend``)."""
        self._client.call_bound_action(self.entity_set, email_id, SEND_EMAIL, ISSUE_SEND)

    def send_in(self, changes: ChangeSet, email: RowAddress) -> None:
        """Send ``email`` as part of a change set (it goes only if the change set commits)."""
        changes.action(email, SEND_EMAIL, ISSUE_SEND)

    def is_open(self, email_id: str) -> bool:
        """Whether the activity can still be sent (a draft, or one that failed to send)."""
        row = self._client.get(self.entity_set, email_id, select=(self._columns.state,))
        return row is not None and row.get(self._columns.state) == OPEN

    def sender_id(self) -> str:
        """The application user's ``systemuserid`` (``WhoAmI``, asked once)."""
        with self._lock:
            if self._sender is None:
                self._sender = str(self._client.call_function("WhoAmI")["UserId"]).lower()
            return self._sender

"""The environment's outgoing mail: what server-side synchronisation would have sent.

In Dataverse, ``SendEmail`` with ``IssueSend`` only marks an e-mail Pending Send; the
mailbox's server-side synchronisation sends it afterwards and sets it to Sent. The sandbox
plays that part once the transaction that marked it has committed (a rolled-back change set
sends nothing): each e-mail that became Pending Send is recorded here, with its recipients'
addresses, and set to Sent. Tests and the demo read :attr:`Outbox.mails`.

An address in :attr:`Outbox.undeliverable` stands for one the recipient's server refuses:
an e-mail to it is not recorded and is left open with the status reason Failed, as
server-side synchronisation leaves an e-mail it could not send.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .store import Caller, ChangeEvent, Lookup
from .webapi.actions import (
    EMAIL_COMPLETED,
    EMAIL_FAILED,
    EMAIL_OPEN,
    EMAIL_PENDING_SEND,
    EMAIL_SENT,
    PARTY_RECIPIENTS,
    PARTY_SENDER,
    email_parties,
    party_address,
)

if TYPE_CHECKING:
    from .core import Host


@dataclass(frozen=True)
class SentMail:
    """One e-mail as it left: the activity's id, sender, recipients, subject and HTML body."""

    email_id: str
    sender: str | None
    to: tuple[str, ...]
    subject: str
    body: str
    regarding: str | None
    sent_on: datetime


class Outbox:
    """Sends the e-mails marked Pending Send, and remembers them."""

    def __init__(self, sandbox: Host) -> None:
        self._store = sandbox.store
        self._caller = Caller(user_id=sandbox.system_caller.user_id)
        self._lock = threading.Lock()
        self._mails: list[SentMail] = []
        self.undeliverable: set[str] = set()
        sandbox.store.listeners.append(self)

    @property
    def mails(self) -> list[SentMail]:
        """Every e-mail sent so far, oldest first (a copy)."""
        with self._lock:
            return list(self._mails)

    def to(self, address: str) -> list[SentMail]:
        """The e-mails sent to ``address`` (compared without regard to case)."""
        wanted = address.casefold()
        return [mail for mail in self.mails if wanted in (a.casefold() for a in mail.to)]

    def clear(self) -> None:
        """Forget the e-mails sent so far."""
        with self._lock:
            self._mails.clear()

    def before_commit(self, events: list[ChangeEvent]) -> None:
        """Nothing leaves before the transaction is final."""

    def after_commit(self, events: list[ChangeEvent]) -> None:
        """Send each e-mail this transaction marked Pending Send, and mark it Sent."""
        for event in events:
            if self._became_pending(event):
                self._send(event.row_id)

    @staticmethod
    def _became_pending(event: ChangeEvent) -> bool:
        if event.table != "email" or event.post is None:
            return False
        before = (event.pre or {}).get("statuscode")
        return event.post.get("statuscode") == EMAIL_PENDING_SEND != before

    def _send(self, email_id: str) -> None:
        row = self._store.get("email", email_id)
        if row is None or row.values.get("statuscode") != EMAIL_PENDING_SEND:
            return
        parties = email_parties(self._store, email_id)
        sender = next(
            (party_address(self._store, p) for p in parties
             if p.get("participationtypemask") == PARTY_SENDER),
            None,
        )
        to = tuple(
            address
            for party in parties
            if party.get("participationtypemask") in PARTY_RECIPIENTS
            and (address := party_address(self._store, party))
        )
        regarding = row.values.get("regardingobjectid")
        mail = SentMail(
            email_id=email_id,
            sender=sender,
            to=to,
            subject=str(row.values.get("subject") or ""),
            body=str(row.values.get("description") or ""),
            regarding=regarding.id if isinstance(regarding, Lookup) else None,
            sent_on=datetime.now(UTC),
        )
        refused = {a.casefold() for a in self.undeliverable} & {a.casefold() for a in to}
        state, status = (EMAIL_OPEN, EMAIL_FAILED) if refused else (EMAIL_COMPLETED, EMAIL_SENT)
        with self._store.transaction(self._caller):
            self._store.update("email", email_id, {"statecode": state, "statuscode": status})
        if refused:
            return
        with self._lock:
            self._mails.append(mail)

"""Actions bound to one row: ``POST <set>(<key>)/Microsoft.Dynamics.CRM.<Action>``.

The only one the product calls is ``SendEmail`` on an e-mail activity, with
``{"IssueSend": true}`` (send it) or ``false`` (only record it as sent); the answer is 200
with ``SendEmailResponse`` (``{"Subject": ...}``). What it checks and does follows the
organisation service's ``SendEmailRequest`` as XrmMockup models it: the e-mail must be open
(Draft, or Failed: only open e-mails can be sent), outgoing, with exactly one sender and at
least one recipient that has an address. It then becomes Completed with status Pending Send
(``IssueSend`` true: server-side synchronisation sends it, see :mod:`sandbox.outbox`) or
Sent. The statuses are Dataverse's; the error codes for a refused send are not documented
and are the sandbox's own (400 ``0x80040203``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from plugins.core.schema import Table

from .. import errors
from ..http import json_response
from ..store import Lookup, Row, Store
from . import roles
from .context import ApiContext
from .resource import KeySpec
from .writes import object_body

TYPE_PREFIX = "Microsoft.Dynamics.CRM."

EMAIL_OPEN = 0
EMAIL_COMPLETED = 1
EMAIL_DRAFT = 1
EMAIL_SENT = 3
EMAIL_PENDING_SEND = 6
EMAIL_FAILED = 8
PARTY_SENDER = 1
PARTY_RECIPIENTS = frozenset({2, 3, 4})
_REFUSED = "0x80040203"

BoundAction = Callable[[ApiContext, Table, Row], Response]


def run(ctx: ApiContext, table: Table, key: KeySpec, name: str) -> Response:
    """Run action ``name`` on the row ``key`` addresses; an action the table does not have
    is Dataverse's 404 for an unknown segment."""
    action = _ACTIONS.get((table.logical_name, name))
    if action is None:
        raise errors.unknown_segment(TYPE_PREFIX + name)
    with ctx.store.transaction(ctx.caller):
        return action(ctx, table, ctx.require(table, key))


def send_email(ctx: ApiContext, table: Table, email: Row) -> Response:
    """``SendEmail``: mark the e-mail Pending Send (to be sent) or Sent (recorded only)."""
    issue_send = object_body(ctx).get("IssueSend")
    if not isinstance(issue_send, bool):
        raise errors.malformed_json("'IssueSend' (Edm.Boolean) is required")
    values = email.values
    if values.get("statecode") != EMAIL_OPEN:
        raise _refused("Only an open e-mail (Draft or Failed) can be sent.")
    if values.get("directioncode") is not True:
        raise _refused("Cannot send incoming email messages.")
    parties = email_parties(ctx.store, email.id)
    if sum(1 for p in parties if p.get("participationtypemask") == PARTY_SENDER) != 1:
        raise _refused("The email must have one and only one sender.")
    recipients = [p for p in parties if p.get("participationtypemask") in PARTY_RECIPIENTS]
    if not recipients:
        raise _refused("The email must have at least one recipient before it can be sent.")
    if any(not party_address(ctx.store, party) for party in recipients):
        raise _refused("A recipient of the email does not have an email address.")
    status = EMAIL_PENDING_SEND if issue_send else EMAIL_SENT
    changes = {"statecode": EMAIL_COMPLETED, "statuscode": status}
    ctx.store.update(table.logical_name, email.id, changes)
    return json_response(
        {
            "@odata.context": f"{ctx.service_root}$metadata#{TYPE_PREFIX}SendEmailResponse",
            "Subject": values.get("subject"),
        }
    )


def email_parties(store: Store, email_id: str) -> list[dict[str, Any]]:
    """The activity parties of an e-mail (sender and recipients), as stored."""
    wanted = Lookup("email", email_id)
    rows = store.rows("activityparty")
    return [row.values for row in rows if row.values.get("activityid") == wanted]


def party_address(store: Store, party: dict[str, Any]) -> str | None:
    """The address a party is reached at: its ``addressused``, else its record's e-mail."""
    address = party.get("addressused")
    if address:
        return str(address)
    target = party.get("partyid")
    if not isinstance(target, Lookup):
        return None
    row = store.get(target.table, target.id)
    if row is None:
        return None
    column = "emailaddress1" if target.table == "contact" else "internalemailaddress"
    found = row.values.get(column)
    return str(found) if found else None


def _refused(message: str) -> errors.ODataError:
    return errors.bad_request(message, code=_REFUSED)


_ACTIONS: dict[tuple[str, str], BoundAction] = {
    ("email", "SendEmail"): send_email,
    ("role", "AddPrivilegesRole"): roles.add_privileges_role,
}

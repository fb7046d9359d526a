"""The member's page's test data: Bo with a membership, an invoice paid by file, cases, and a
signed update link (made with the test key, as the pages would e-mail it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from dues_harness import SETTINGS, add_type, approve_registration
from integration.sync_harness import SCHEMA, client_for
from selfservice_harness import BO_ID, LINK_KEY, LINK_KEY_ID, SelfServiceEnv

from plugins.dataverse import odata
from plugins.dues.payments import PaymentImport
from plugins.dues.service import DuesRun
from plugins.selfservice.signing import KeyRing, LinkPurpose, link_token, new_link
from sandbox.bankfiles import write_bgmax

CASES = (("Fråga om medlemsavgiften", 0), ("Adressändring", 1))


def seed_account(env: SelfServiceEnv, folder: Path) -> str:
    """Bo's membership, two invoices (one paid through a BgMax file), two cases; the
    reference of the paid invoice."""
    with client_for(env.sandbox) as client:
        add_type(client)
        approve_registration(client, BO_ID, datetime(2026, 1, 10, 1, tzinfo=UTC))
        DuesRun(client, SCHEMA, SETTINGS, "Alumni").run(datetime(2026, 1, 10, 3, tzinfo=UTC))
        i = SCHEMA.invoice
        [invoice] = list(client.query(i.entity_set, select=(i.reference,)))
        bank = write_bgmax(folder / "bgmax.txt", [(invoice[i.reference], Decimal("450.00"))])
        PaymentImport(client, SCHEMA, 10).import_file(bank)
        k = SCHEMA.case
        for title, state in CASES:
            client.create(k.entity_set, {
                k.title: title, "customerid_contact@odata.bind": odata.bind("contacts", BO_ID),
                k.state: state,
            })
        return str(invoice[i.reference])


def update_link(env: SelfServiceEnv, person: str = BO_ID) -> str:
    """A fresh update link's token for ``person``, its row in Dataverse as the pages make it."""
    link = new_link(LinkPurpose.UPDATE, datetime.now(UTC), timedelta(minutes=30))
    s = SCHEMA.selfservice_link
    with client_for(env.sandbox) as client:
        client.upsert(s.entity_set, link.id, {
            s.name: "account test", s.purpose: s.purpose_values["update"],
            s.expires_on: link.expires_at,
            f"{s.person_nav}@odata.bind": odata.bind("contacts", person),
        })
    return link_token(KeyRing({LINK_KEY_ID: LINK_KEY.encode()}, LINK_KEY_ID), link)

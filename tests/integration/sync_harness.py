"""Helpers for the sync tests: a Dataverse client on the sandbox and the rows the jobs read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from plugins.core.schema import Column, LookupTarget, Table
from plugins.core.schema_map import SchemaMap
from plugins.core.settings import RegistrySettings
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registries.factory import build_adapters
from plugins.registries.models import RegistryName
from plugins.registries.protocol import RegistryAdapter
from plugins.sync.lifecycle import MembershipStatus
from sandbox.app import Sandbox
from sandbox.product_settings import dataverse_settings
from sandbox.steps.catalog import add_filters

SCHEMA = SchemaMap()
EMAIL, SMS, POST = 100000000, 100000001, 100000002


class SandboxTokens:
    """Bearer tokens the sandbox issues directly (the msal path has its own tests)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def token(self, *, force_refresh: bool = False) -> str:
        return self._sandbox.auth.issue_token()


def client_for(sandbox: Sandbox, **overrides: Any) -> DataverseClient:
    """A Dataverse client for a started sandbox with tokens it issues, and quick retries."""
    settings = dataverse_settings(
        sandbox, **{"retry_backoff_seconds": 0.01, "retry_budget_seconds": 5, **overrides}
    )
    return DataverseClient(settings, token_provider=SandboxTokens(sandbox))


@contextmanager
def seeded_registry(
    sandbox: Sandbox, name: RegistryName, people: dict[str, Any], key_file: Path
) -> Iterator[RegistryAdapter]:
    """The adapter of one registry emulator seeded with ``people``, retrying quickly."""
    sandbox.registries.load_seed({name.value: people})
    http = RegistrySettings.Http(max_attempts=2, backoff_seconds=0.01, max_backoff_seconds=0.02)
    adapter = build_adapters(sandbox.registries.client_settings(key_file, http=http))[name]
    try:
        yield adapter
    finally:
        adapter.close()


def add_contact(client: DataverseClient, **values: Any) -> str:
    """A contact who chose e-mail, consented and is reachable, with ``values`` on top."""
    record = {
        "firstname": "Alma",
        "lastname": "Alumn",
        "emailaddress1": "alma@example.se",
        "mp_channels": str(EMAIL),
        "mp_topics": "100000000",
        "mp_consenton": "2024-01-01T00:00:00Z",
        "mp_protectionlevel": 100000000,
        **values,
    }
    result = client.create("contacts", record)
    assert result.id is not None
    return result.id


def add_membership(
    client: DataverseClient,
    person: str,
    start: date,
    end: date | None,
    *,
    type: str = "standard",
    status: MembershipStatus | None = MembershipStatus.ACTIVE,
    automatic_renewal: bool = False,
    renewal_active: bool = False,
) -> str:
    m = SCHEMA.membership
    record: dict[str, Any] = {
        f"{m.person_nav}@odata.bind": odata.bind("contacts", person),
        m.type: m.type_values[type],
        m.start: start,
        m.end: end,
        m.automatic_renewal: automatic_renewal,
        m.renewal_active: renewal_active,
    }
    if status is not None:
        record[m.status] = m.status_values[status]
    result = client.create(m.entity_set, record)
    assert result.id is not None
    return result.id


def add_template(client: DataverseClient, title: str, subject: str, body: str) -> str:
    t = SCHEMA.template
    result = client.create(
        t.entity_set,
        {t.title: title, t.subject: subject, t.body: body, "templatetypecode": "contact"},
    )
    assert result.id is not None
    return result.id


def rows(client: DataverseClient, entity_set: str, **query: Any) -> list[dict[str, Any]]:
    return list(client.query(entity_set, **query))


EVENT_REGISTRATION = Table(
    logical_name="mp_eventregistration",
    entity_set="mp_eventregistrations",
    primary_id="mp_eventregistrationid",
    primary_name="mp_name",
    label="Event registration (an organisation's own table)",
    columns={
        "mp_eventregistrationid": Column(type="uniqueidentifier"),
        "mp_name": Column(type="string", max_length=100),
        "mp_attended": Column(type="boolean"),
        "mp_personid": Column(
            type="lookup",
            targets={
                "contact": LookupTarget(
                    nav="mp_PersonId", relationship="mp_contact_mp_eventregistration_PersonId"
                )
            },
        ),
    },
)


def add_event_registration_table(sandbox: Sandbox) -> None:
    """Give the environment an event-registration table, as an organisation would have."""
    sandbox.store.alter_schema(
        lambda schema: schema.model_copy(update={"tables": (*schema.tables, EVENT_REGISTRATION)})
    )
    add_filters(sandbox.store, [EVENT_REGISTRATION.logical_name], sandbox.system_caller)

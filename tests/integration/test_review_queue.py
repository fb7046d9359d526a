"""Review tasks reach people: every NotApproved registration gets one, owned by the review
team found by its name, written in the office's language; the administrator's decision
closes it (tests/integration/test_registration_pipeline.py). Against the sandbox over
HTTP, through the registration service itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sync_harness import client_for

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import RegistrationSettings
from plugins.dataverse.client import DataverseClient
from plugins.registration.errors import TransientFailure
from plugins.registration.service import RegistrationService
from sandbox.app import Sandbox

NOT_APPROVED = 100000003
SCHEMA = SchemaMap()
# The sandbox models a task's owner per target table (see pipeline_env.app_settings).
OWNER = SCHEMA.model_copy(update={"task": SCHEMA.task.model_copy(update={"owner_nav":
                                                                           "owningteam"})})


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[DataverseClient]:
    client = client_for(sandbox)
    try:
        yield client
    finally:
        client.close()


def service(client: DataverseClient, **settings: Any) -> RegistrationService:
    return RegistrationService(client, RegistrationSettings(**settings), OWNER)


def registration(client: DataverseClient, **columns: Any) -> str:
    row = client.create("mp_registrations", {
        "mp_firstname": "Ada", "mp_lastname": "Lovelace", "mp_email": "ada@example.org",
        "mp_nationalid": "197010632391", "mp_status": 100000000, **columns,
    })
    return str(row.id)


def open_tasks_of(client: DataverseClient, registration_id: str) -> list[dict[str, Any]]:
    rows = client.query("tasks", select=[
        "subject", "description", "statecode", "_ownerid_value", "_regardingobjectid_value",
    ])
    return [t for t in rows if t["_regardingobjectid_value"] == registration_id]


def test_invalid_registration_gets_a_task_owned_by_the_team_named_in_swedish(
    client: DataverseClient,
) -> None:
    team = client.create("teams", {"name": "Alumni office"})
    client.create("teams", {"name": "Someone else"})
    registration_id = registration(client, mp_email="not an address")
    outcome = service(client, review_team="Alumni office", office_language="sv").process(
        registration_id, None
    )
    assert outcome.status is not None and outcome.status.value == "NotApproved"
    row = client.get("mp_registrations", registration_id,
                     select=["mp_status", "mp_explanation", "mp_evidencetext"])
    assert row is not None and row["mp_status"] == NOT_APPROVED
    assert row["mp_explanation"].startswith("Ej godkänd. Registreringen kan inte kontrolleras")
    assert row["mp_evidencetext"] == (
        "Status: Ej godkänd\nFel i registreringen: e-postadressen är inte en giltig adress"
    )
    [task] = open_tasks_of(client, registration_id)
    assert task["_ownerid_value"] == team.id
    assert task["subject"] == "Granska alumnregistrering: Ada Lovelace"
    assert row["mp_evidencetext"] in task["description"]


def test_registries_not_configured_is_said_so(client: DataverseClient) -> None:
    client.create("teams", {"name": "Alumni office"})
    registration_id = registration(client)
    service(client, review_team="Alumni office").process(registration_id, None)
    row = client.get("mp_registrations", registration_id,
                     select=["mp_explanation", "mp_evidencetext"])
    assert row is not None
    assert "(no registry is configured to ask)" in row["mp_explanation"]
    assert "no identity number" not in row["mp_explanation"]
    assert "Registries: not asked: no registry is configured" in row["mp_evidencetext"]


def test_a_team_name_nobody_has_leaves_the_registration_received(
    client: DataverseClient,
) -> None:
    registration_id = registration(client, mp_email="not an address")
    with pytest.raises(TransientFailure, match="0 teams called 'Alumni office'"):
        service(client, review_team="Alumni office").process(registration_id, None)
    row = client.get("mp_registrations", registration_id, select=["mp_status"])
    assert row is not None and row["mp_status"] == 100000000
    assert open_tasks_of(client, registration_id) == []


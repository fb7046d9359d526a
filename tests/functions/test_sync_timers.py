"""The sync timer functions, called as the worker calls them, against an HTTPS sandbox.

Settings come from the environment as in a Function App; the Dataverse client gets its
token through msal from the sandbox's token endpoint.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from azure.functions.timer import TimerRequest

from plugins.dataverse.auth import MsalTokenProvider
from plugins.dataverse.client import DataverseClient
from plugins.sync import functions
from sandbox.app import Sandbox
from sandbox.product_settings import dataverse_settings, dataverse_values

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from sync_harness import add_contact, add_membership, add_template, rows

PERSONNUMMER = "197010632391"


@pytest.fixture
def client(https_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataverseClient]:
    for name, value in dataverse_values(https_sandbox).items():
        monkeypatch.setenv(name, value)
    settings = dataverse_settings(https_sandbox)
    with DataverseClient(settings, token_provider=MsalTokenProvider(settings)) as instance:
        yield instance


def test_lifecycle_timer_sends_what_is_due_today(
    client: DataverseClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = datetime.now(UTC).date()
    add_template(client, "onboarding-d0", "Welcome {!contact:firstname;}", "<p>Hi</p>")
    person = add_contact(client, firstname="Nova")
    add_membership(client, person, today, today + timedelta(days=365))
    monkeypatch.setenv("SYNC__LIFECYCLE__ENABLED", "true")
    monkeypatch.setenv("SYNC__LIFECYCLE__TIMEZONE", "UTC")
    functions.sync_lifecycle(TimerRequest(past_due=False))
    assert [m["subject"] for m in rows(client, "emails", select=("subject",))] == ["Welcome Nova"]
    functions.sync_lifecycle(TimerRequest(past_due=True))
    assert len(rows(client, "emails", select=("subject",))) == 1


def test_upkeep_timer_refreshes_from_navet(
    https_sandbox: Sandbox,
    client: DataverseClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    https_sandbox.registries.load_seed({"navet": {PERSONNUMMER: {"first_name": "Registrerad"}}})
    registries = https_sandbox.registries.client_settings(tmp_path / "k.pem")
    navet = registries.navet.model_dump(mode="json")
    navet["ca_bundle"] = str(https_sandbox.ca_file)
    # The registry sessions let the environment's CA bundle (set on this machine) override
    # their ca_bundle.
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("REGISTRIES", json.dumps({"navet": navet}))
    monkeypatch.setenv("SYNC__UPKEEP__ENABLED", "true")
    person = add_contact(client, mp_nationalid=PERSONNUMMER)
    functions.sync_register_upkeep(TimerRequest(past_due=False))
    row = client.get("contacts", person, select=("firstname", "mp_lastenrichedon"))
    assert row is not None
    assert row["firstname"] == "Registrerad"
    assert date.fromisoformat(row["mp_lastenrichedon"][:10]) == datetime.now(UTC).date()


def test_degree_feed_timer_records_ladoks_degrees_and_makes_alumni(
    https_sandbox: Sandbox,
    client: DataverseClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    degree = {"code": "K1DAT", "title": "Teknologie kandidatexamen", "awarded_on": "2024-06-14"}
    https_sandbox.registries.load_seed({"ladok": {PERSONNUMMER: {"degrees": [degree]}}})
    ladok = https_sandbox.registries.client_settings(tmp_path / "k.pem").ladok
    ladok_values = {**ladok.model_dump(mode="json"), "ca_bundle": str(https_sandbox.ca_file)}
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("REGISTRIES", json.dumps({"ladok": ladok_values}))
    monkeypatch.setenv("SYNC__DEGREE_FEED__ENABLED", "true")
    person = add_contact(client, mp_nationalid=PERSONNUMMER, mp_personcategories="100000002")
    functions.sync_degree_feed(TimerRequest(past_due=False))
    functions.sync_degree_feed(TimerRequest(past_due=True))
    [recorded] = rows(client, "mp_degrees", select=("mp_titlesv", "_mp_personid_value"))
    assert (recorded["mp_titlesv"], recorded["_mp_personid_value"]) == (
        "Teknologie kandidatexamen", person)
    row = client.get("contacts", person, select=("mp_personcategories",))
    assert row is not None and row["mp_personcategories"] == "100000000,100000002"


def test_disabled_jobs_do_nothing(client: DataverseClient) -> None:
    person = add_contact(client, mp_nationalid=PERSONNUMMER)
    add_membership(client, person, datetime.now(UTC).date(), None)
    functions.sync_register_upkeep(TimerRequest(past_due=False))
    functions.sync_new_graduates(TimerRequest(past_due=False))
    functions.sync_degree_feed(TimerRequest(past_due=False))
    functions.sync_lifecycle(TimerRequest(past_due=False))
    assert rows(client, "mp_lifecycleevents", select=("mp_key",)) == []
    assert rows(client, "mp_checkpoints", select=("mp_name",)) == []

"""The registration pipeline end to end: registrations created through the Web API, steps
registered as an admin registers them, events delivered by the sandbox to the product's own
function_app.py in the local host, decisions read back through the Web API.

Every path of the decision table runs through the real triggers, plus duplicate and
concurrent delivery, concurrent registrations of one new person, transient faults in the
middle of the write, an event for a deleted registration and the product's own events.
Round trips are counted from the sandbox's request log by the event's correlation id.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pipeline_env import (
    QUEUE,
    WEBHOOK_KEY,
    PipelineEnv,
    is_task_create,
    personnummer,
    pipeline_env,
)
from steps_registration import system_jobs

from bench.workload import ADDRESS, DEGREE, FEW_CREDITS

PIPELINE_TAG = "member-plugins-registration"
RECEIVED, REGISTERED, APPROVED, NOT_APPROVED = 100000000, 100000001, 100000002, 100000003
MANUALLY, DENIED, UNREGISTERED = 100000004, 100000005, 100000006
ALUMNUS_CAT, REGISTERED_CAT, STUDENT_CAT = "100000000", "100000001", "100000002"

REG_ALUMNUS = personnummer("19700101", "101")
ALUMNUS = personnummer("19700202", "102")
NEITHER = personnummer("19700303", "103")
NEW_ALUMNUS = personnummer("19800404", "104")
NEW_NOT_ALUMNUS = personnummer("19800505", "105")
UNKNOWN = personnummer("19800606", "106")
PROTECTED = personnummer("19800707", "107")
CONFLICT = personnummer("19700808", "108")
TERMINATE = personnummer("19700909", "109")
KEEP = personnummer("19701010", "110")
APPROVE = personnummer("19701111", "111")
DENY = personnummer("19701212", "112")
TOGETHER = personnummer("19810202", "114")
HOOK_FAULT = personnummer("19810303", "115")
BUS_FAULT = personnummer("19810404", "116")
REGISTRY_DOWN = personnummer("19810505", "117")
GONE = personnummer("19810606", "118")
OWN = personnummer("19810707", "119")
TRIMMED = personnummer("19810808", "120")
DECLARED = personnummer("19810909", "121")
TAKEOVER = personnummer("19710101", "122")
# Everything of a person a registration may offer to change.
DETAILS = (
    "firstname", "lastname", "emailaddress1", "emailaddress2", "emailaddress3", "telephone1",
    "mp_topics", "mp_channels", "mp_consentversion", "mp_consenton", "mp_consentsource",
)
OFFICE = personnummer("19811010", "122")

SEED = {
    "registries": {
        "ladok": {
            NEW_ALUMNUS: {"first_name": "Grace", "last_name": "Hopper", "courses": DEGREE},
            NEW_NOT_ALUMNUS: {"first_name": "Alan", "last_name": "Turing", "courses": FEW_CREDITS},
            PROTECTED: {"first_name": "Hidden", "last_name": "Person", "courses": DEGREE},
            TOGETHER: {"first_name": "Edsger", "last_name": "Dijkstra",
                       "courses": DEGREE},
        },
        "navet": {
            NEW_ALUMNUS: {"first_name": "Grace Brewster", "last_name": "Hopper",
                          "addresses": ADDRESS},
            NEW_NOT_ALUMNUS: {"first_name": "Alan", "last_name": "Turing", "addresses": ADDRESS},
            PROTECTED: {"first_name": "Hidden", "last_name": "Person", "protection": "protected",
                        "addresses": ADDRESS},
        },
    }
}
# What the round trips were, for the report at the end of the module.
MEASURED: dict[str, int] = {}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    with pipeline_env(tmp_path_factory.mktemp("pipeline"), SEED) as started:
        started.route("webhook")
        yield started
    if MEASURED:
        print("\nround trips per registration:", MEASURED)


def form(national_id: str | None, email: str, **columns: Any) -> dict[str, Any]:
    """A registration as a form fills it in (the number in the dashed form people type)."""
    row: dict[str, Any] = {"mp_firstname": "Ada", "mp_lastname": "Lovelace", "mp_email": email}
    if national_id is not None:
        row["mp_nationalid"] = f"{national_id[:8]}-{national_id[8:]}"
    row.update(columns)
    return row


def register(env: PipelineEnv, **columns: Any) -> tuple[str, str]:
    """Create a registration, wait for the pipeline; its id and correlation id."""
    correlation_id = str(uuid.uuid4())
    registration_id = env.create_registration(correlation_id=correlation_id, **columns)
    env.settle()
    return registration_id, correlation_id


def person(env: PipelineEnv, national_id: str, email: str, categories: str | None,
           **columns: Any) -> str:
    return env.create_contact(firstname="Ada", lastname="Lovelace", emailaddress1=email,
                              mp_nationalid=national_id, mp_personcategories=categories,
                              **columns)


def categories(row: dict[str, Any]) -> set[str]:
    return set((row.get("mp_personcategories") or "").split(",")) - {""}


# ------------------------------------------------------------- matched people


def test_matched_registered_alumnus_is_approved_and_offered_details_only_proposed(
    env: PipelineEnv,
) -> None:
    contact_id = person(env, REG_ALUMNUS, "reg.alumnus@example.org",
                        f"{ALUMNUS_CAT},{REGISTERED_CAT}")
    before = env.contact(contact_id)
    registration_id, correlation_id = register(
        env, **form(REG_ALUMNUS, "Reg.Alumnus@Example.org", mp_lastname="King",
                    mp_phone="+46 70 000 00 01", mp_topics="100000001")
    )
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (REGISTERED, "matched-registered-alumnus")
    assert row["_mp_personid_value"] == contact_id
    assert "Godkänd pga registrerad alumn" in row["mp_explanation"]
    assert "proposed changes" in row["mp_explanation"]
    # Nobody proved control of the person: nothing of theirs changes, the office sees the offer.
    assert json.loads(row["mp_proposedchanges"]) == {
        "last_name": "King", "phone": "+46 70 000 00 01", "topics": ["events"],
    }
    after = env.contact(contact_id)
    assert {k: after[k] for k in DETAILS} == {k: before[k] for k in DETAILS}
    assert env.tasks(registration_id) == []
    MEASURED["existing person"] = env.round_trips(correlation_id)
    assert MEASURED["existing person"] <= 2


def test_identity_number_with_another_address_does_not_take_the_person_over(
    env: PipelineEnv,
) -> None:
    contact_id = person(env, TAKEOVER, "victim@example.org", f"{ALUMNUS_CAT},{REGISTERED_CAT}",
                        telephone1="+46 8 123 456")
    before = env.contact(contact_id)
    registration_id, _ = register(
        env, **form(TAKEOVER, "mallory@example.net", mp_firstname="Mallory",
                    mp_phone="+46 70 666 66 66", mp_consentversion="9")
    )
    row = env.registration(registration_id)
    assert row["mp_status"] == REGISTERED
    proposal = json.loads(row["mp_proposedchanges"])
    assert proposal["email"] == "mallory@example.net"
    assert proposal["first_name"] == "Mallory"
    after = env.contact(contact_id)
    assert {k: after[k] for k in DETAILS} == {k: before[k] for k in DETAILS}


def test_matched_alumnus_becomes_registered_alumnus(env: PipelineEnv) -> None:
    contact_id = person(env, ALUMNUS, "alumnus@example.org", ALUMNUS_CAT)
    registration_id, correlation_id = register(env, **form(None, "alumnus@example.org"))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "matched-alumnus")
    assert categories(env.contact(contact_id)) == {ALUMNUS_CAT, REGISTERED_CAT}
    assert env.round_trips(correlation_id) <= 2


def test_matched_person_with_neither_category_goes_to_review(env: PipelineEnv) -> None:
    contact_id = person(env, NEITHER, "neither@example.org", STUDENT_CAT)
    registration_id, correlation_id = register(
        env, **form(NEITHER, "neither@example.org", mp_lastname="Someone Else")
    )
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "matched-not-alumnus")
    assert row["_mp_personid_value"] == contact_id
    contact = env.contact(contact_id)
    assert categories(contact) == {STUDENT_CAT} and contact["lastname"] == "Lovelace"
    [task] = env.tasks(registration_id)
    assert task["_ownerid_value"] == env.team_id and task["statecode"] == 0
    assert row["mp_explanation"] in task["description"]
    assert env.round_trips(correlation_id) <= 2


def test_trimmed_event_is_read_back_in_one_more_round_trip(env: PipelineEnv) -> None:
    contact_id = person(env, TRIMMED, "trimmed@example.org", f"{ALUMNUS_CAT},{REGISTERED_CAT}")
    with env.routed("servicebus"):
        # Over 192 KB the Service Bus message loses its Target: nothing to build a query on.
        registration_id, correlation_id = register(
            env, **form(TRIMMED, "trimmed@example.org", mp_evidence="y" * 100_000)
        )
    row = env.registration(registration_id)
    assert (row["mp_status"], row["_mp_personid_value"]) == (REGISTERED, contact_id)
    MEASURED["existing person, trimmed event"] = env.round_trips(correlation_id)
    assert MEASURED["existing person, trimmed event"] == 3


# ------------------------------------------------------------------ new people


def test_new_person_the_registries_say_is_an_alumnus(env: PipelineEnv) -> None:
    registration_id, correlation_id = register(env, **form(NEW_ALUMNUS, "grace@example.org",
                                                            mp_consentversion="2025-01"))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "created-alumnus")
    assert "90 passed credits" in row["mp_evidence"]
    [contact] = env.contacts(NEW_ALUMNUS)
    assert row["_mp_personid_value"] == contact["contactid"]
    assert (contact["firstname"], contact["lastname"]) == ("Grace Brewster", "Hopper")
    assert (contact["address1_line1"], contact["address1_city"]) == ("Storgatan 1", "STOCKHOLM")
    assert contact["emailaddress1"] == "grace@example.org"
    assert categories(contact) == {ALUMNUS_CAT, REGISTERED_CAT}
    assert (contact["mp_registrysource"], contact["mp_consentversion"]) == ("navet", "2025-01")
    assert contact["mp_consentsource"] == f"registration {registration_id}"
    assert env.tasks(registration_id) == []
    MEASURED["new person"] = env.round_trips(correlation_id)
    assert MEASURED["new person"] <= 3


def test_new_person_the_registries_know_but_the_rule_does_not_accept(env: PipelineEnv) -> None:
    registration_id, _ = register(env, **form(NEW_NOT_ALUMNUS, "alan@example.org"))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "created-not-alumnus")
    assert "7.5 passed credits (at least 60 needed)" in row["mp_evidence"]
    [contact] = env.contacts(NEW_NOT_ALUMNUS)
    assert categories(contact) == set()
    assert len(env.tasks(registration_id)) == 1


def test_new_person_unknown_to_the_registries(env: PipelineEnv) -> None:
    registration_id, correlation_id = register(env, **form(UNKNOWN, "unknown@example.org",
                                                            mp_firstname="Nobody"))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "unknown-to-registries")
    [contact] = env.contacts(UNKNOWN)
    assert (contact["firstname"], contact["mp_registrysource"]) == ("Nobody", None)
    assert len(env.tasks(registration_id)) == 1
    assert env.round_trips(correlation_id) <= 3


def test_new_person_who_declares_to_be_an_alumnus(env: PipelineEnv) -> None:
    registration_id, _ = register(env, **form(DECLARED, "declared@example.org",
                                              mp_selfdeclaredalumnus=True))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "created-self-declared-alumnus")
    [contact] = env.contacts(DECLARED)
    assert categories(contact) == {ALUMNUS_CAT, REGISTERED_CAT}
    assert env.tasks(registration_id) == []


def test_protected_identity_is_created_without_an_address(env: PipelineEnv) -> None:
    registration_id, _ = register(env, **form(PROTECTED, "hidden@example.org"))
    assert env.registration(registration_id)["mp_status"] == APPROVED
    [contact] = env.contacts(PROTECTED)
    assert contact["mp_protectionlevel"] == 100000002
    assert contact["address1_line1"] is None and contact["address1_city"] is None


# ----------------------------------------------------------- conflict, bad input


def test_conflict_is_never_a_guess(env: PipelineEnv) -> None:
    by_id = person(env, CONFLICT, "conflict.one@example.org", ALUMNUS_CAT)
    by_mail = env.create_contact(lastname="Other", emailaddress1="conflict.two@example.org")
    registration_id, _ = register(env, **form(CONFLICT, "conflict.two@example.org"))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "match-conflict")
    assert row["_mp_personid_value"] is None
    assert {by_id, by_mail} <= set(row["mp_evidence"].split('"'))
    assert len(env.tasks(registration_id)) == 1
    assert len(env.contacts(CONFLICT)) == 1


@pytest.mark.parametrize(
    ("columns", "problem"),
    [
        ({"mp_firstname": None}, "the first name is missing"),
        ({"mp_nationalid": "19800101-0000"}, "the identity number is not a valid SE number"),
        ({"mp_email": "not-an-address"}, "the e-mail address is not a valid address"),
    ],
)
def test_bad_input_gets_not_approved_with_the_reason_and_nothing_else(
    env: PipelineEnv, columns: dict[str, Any], problem: str
) -> None:
    before = len(env.query("contacts?$select=contactid"))
    registration_id, correlation_id = register(
        env, **{**form(None, "bad.input@example.org"), **columns}
    )
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "invalid-registration")
    assert problem in row["mp_explanation"]
    assert row["_mp_personid_value"] is None
    [task] = env.tasks(registration_id)
    assert task["_ownerid_value"] == env.team_id and task["statecode"] == 0
    assert problem in task["description"]
    assert len(env.query("contacts?$select=contactid")) == before
    assert env.round_trips(correlation_id) <= 2


def test_an_invalid_registration_approved_by_hand_closes_its_task(env: PipelineEnv) -> None:
    registration_id, _ = register(env, **form(None, "invalid.approved@example.org",
                                              mp_firstname=None))
    assert env.dv.patch(f"mp_registrations({registration_id})",
                        json={"mp_status": MANUALLY}).status_code == 204
    env.settle()
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (MANUALLY, "approved-manually")
    [task] = env.tasks(registration_id)
    assert (task["statecode"], task["statuscode"]) == (1, 5)


# ------------------------------------------------------------------ unregistration


def test_unregistration_that_terminates_the_membership(env: PipelineEnv) -> None:
    contact_id = person(env, TERMINATE, "terminate@example.org",
                        f"{ALUMNUS_CAT},{REGISTERED_CAT}")
    earlier = env.create_registration(
        tag=PIPELINE_TAG,
        **form(TERMINATE, "terminate@example.org", mp_status=REGISTERED,
               **{"mp_PersonId@odata.bind": f"/contacts({contact_id})"}),
    )
    env.settle()
    registration_id, _ = register(
        env, **form(TERMINATE, "terminate@example.org", mp_kind=100000001,
                    mp_terminatemembership=True)
    )
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (
        UNREGISTERED, "unregistered-terminated-membership"
    )
    assert env.registration(earlier)["mp_status"] == UNREGISTERED
    contact = env.contact(contact_id)
    assert categories(contact) == {ALUMNUS_CAT}
    assert contact["mp_nocommunication"] is True


def test_unregistration_that_keeps_the_membership(env: PipelineEnv) -> None:
    contact_id = person(env, KEEP, "keep@example.org", f"{ALUMNUS_CAT},{REGISTERED_CAT}")
    registration_id, _ = register(env, **form(None, "keep@example.org", mp_kind=100000001))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (REGISTERED, "unregistered-communication-only")
    contact = env.contact(contact_id)
    assert categories(contact) == {ALUMNUS_CAT, REGISTERED_CAT}
    assert contact["mp_nocommunication"] is True


def test_unregistration_nobody_matches_goes_to_review(env: PipelineEnv) -> None:
    registration_id, _ = register(env, **form(None, "stranger@example.org", mp_kind=100000001,
                                              mp_terminatemembership=True))
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (
        NOT_APPROVED, "unregistration-person-not-found"
    )
    assert len(env.tasks(registration_id)) == 1
    assert env.query("contacts?$filter=emailaddress1 eq 'stranger@example.org'") == []


# ------------------------------------------------------------- admin decisions


def test_admin_approval_gives_registered_alumnus_and_closes_the_task(env: PipelineEnv) -> None:
    contact_id = person(env, APPROVE, "approve@example.org", STUDENT_CAT)
    registration_id, _ = register(env, **form(APPROVE, "approve@example.org"))
    assert env.registration(registration_id)["mp_status"] == NOT_APPROVED
    for _ in range(2):  # the second decision is a repeat: nothing more changes
        assert env.dv.patch(f"mp_registrations({registration_id})",
                            json={"mp_status": MANUALLY}).status_code == 204
        env.settle()
        row = env.registration(registration_id)
        assert (row["mp_status"], row["mp_reason"]) == (MANUALLY, "approved-manually")
        assert categories(env.contact(contact_id)) == {STUDENT_CAT, REGISTERED_CAT}
        [task] = env.tasks(registration_id)
        assert (task["statecode"], task["statuscode"]) == (1, 5)


def test_the_offices_decision_column_approves_in_one_action(env: PipelineEnv) -> None:
    contact_id = person(env, OFFICE, "office@example.org", STUDENT_CAT)
    registration_id, _ = register(env, **form(OFFICE, "office@example.org"))
    assert env.registration(registration_id)["mp_status"] == NOT_APPROVED
    assert env.dv.patch(f"mp_registrations({registration_id})",
                        json={"mp_officedecision": MANUALLY}).status_code == 204
    env.settle()
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (MANUALLY, "approved-manually")
    assert categories(env.contact(contact_id)) == {STUDENT_CAT, REGISTERED_CAT}
    [task] = env.tasks(registration_id)
    assert (task["statecode"], task["statuscode"]) == (1, 5)


def test_the_offices_decision_cannot_be_another_status(env: PipelineEnv) -> None:
    registration_id, _ = register(env, **form(None, "other.decision@example.org",
                                              mp_firstname=None))
    response = env.dv.patch(f"mp_registrations({registration_id})",
                            json={"mp_officedecision": REGISTERED})
    assert response.status_code == 400
    assert env.registration(registration_id)["mp_status"] == NOT_APPROVED


def test_admin_denial_closes_the_task_and_leaves_the_person(env: PipelineEnv) -> None:
    contact_id = person(env, DENY, "deny@example.org", STUDENT_CAT)
    registration_id, _ = register(env, **form(DENY, "deny@example.org"))
    assert env.dv.patch(f"mp_registrations({registration_id})",
                        json={"mp_status": DENIED}).status_code == 204
    env.settle()
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (DENIED, "denied")
    assert categories(env.contact(contact_id)) == {STUDENT_CAT}
    [task] = env.tasks(registration_id)
    assert task["statecode"] == 1


# ------------------------------------------------ duplicates and concurrency


def test_the_same_event_twice_changes_nothing_the_second_time(env: PipelineEnv) -> None:
    with env.routed("parked"):
        registration_id = env.create_registration(**form(None, "twice@example.org",
                                                         mp_firstname="Twice"))
        [event] = env.take_parked()
        env.deliver([event])
        env.settle()
        first = env.registration(registration_id)
        assert first["mp_status"] == NOT_APPROVED
        env.deliver([event])
        env.settle()
        again = env.registration(registration_id)
        assert again["@odata.etag"] == first["@odata.etag"]
        assert len(env.tasks(registration_id)) == 1
        assert len(env.query("contacts?$filter=emailaddress1 eq 'twice@example.org'")) == 1


def test_the_same_event_twice_at_the_same_time_is_written_once(env: PipelineEnv) -> None:
    with env.routed("parked"):
        registration_id = env.create_registration(**form(None, "together@example.org"))
        [event] = env.take_parked()
        with env.change_sets_meet(2):
            env.post_together([event.body, event.body])
        assert env.registration(registration_id)["mp_status"] == NOT_APPROVED
        assert len(env.tasks(registration_id)) == 1
        assert len(env.query("contacts?$filter=emailaddress1 eq 'together@example.org'")) == 1


def test_two_registrations_of_one_new_person_at_the_same_time_give_one_person(
    env: PipelineEnv,
) -> None:
    with env.routed("parked"):
        first = env.create_registration(**form(TOGETHER, "edsger@example.org"))
        second = env.create_registration(**form(TOGETHER, "e.dijkstra@example.org"))
        events = env.take_parked()
        with env.change_sets_meet(2):
            env.post_together([event.body for event in events])
    [contact] = env.contacts(TOGETHER)
    rows = [env.registration(first), env.registration(second)]
    assert sorted((r["mp_status"], r["mp_reason"]) for r in rows) == [
        (REGISTERED, "matched-registered-alumnus"), (APPROVED, "created-alumnus"),
    ]
    assert {r["_mp_personid_value"] for r in rows} == {contact["contactid"]}


# ---------------------------------------------------------------- technical faults


def test_fault_mid_write_leaves_received_and_the_sweep_retries(env: PipelineEnv) -> None:
    # Two attempts per delivery, and Dataverse retries a 503 webhook once: four failures.
    with env.failing_writes(4, is_task_create) as failures:
        registration_id, _ = register(env, **form(HOOK_FAULT, "hook.fault@example.org"))
    assert len(failures) == 4
    assert env.registration(registration_id)["mp_status"] == RECEIVED
    assert env.contacts(HOOK_FAULT) == [] and env.tasks(registration_id) == []
    assert 31 in {job["statuscode"] for job in system_jobs(env.dv, env.steps["webhook"][0])}

    env.host.run_timer("registration_sweep")
    env.settle()
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "unknown-to-registries")
    assert len(env.contacts(HOOK_FAULT)) == 1 and len(env.tasks(registration_id)) == 1


def test_fault_mid_write_on_the_queue_is_retried(env: PipelineEnv) -> None:
    with env.routed("servicebus"), env.failing_writes(2, is_task_create) as failures:
        registration_id, _ = register(env, **form(BUS_FAULT, "bus.fault@example.org"))
    assert len(failures) == 2
    assert env.registration(registration_id)["mp_status"] == NOT_APPROVED
    assert len(env.contacts(BUS_FAULT)) == 1 and len(env.tasks(registration_id)) == 1
    assert env.sandbox.servicebus.dead_letters(QUEUE) == []


def test_registry_failure_leaves_received(env: PipelineEnv) -> None:
    env.sandbox.registries.ladok.script("503", "503", "503", "503")
    registration_id, correlation_id = register(
        env, **form(REGISTRY_DOWN, "registry.down@example.org")
    )
    assert env.registration(registration_id)["mp_status"] == RECEIVED
    assert env.contacts(REGISTRY_DOWN) == []
    # Two deliveries, each one read and no write.
    assert env.round_trips(correlation_id) == 2


def test_event_for_a_deleted_registration_is_settled(
    env: PipelineEnv, caplog: pytest.LogCaptureFixture
) -> None:
    with env.routed("parked"):
        registration_id = env.create_registration(**form(GONE, "gone@example.org"))
        events = env.take_parked()
        assert env.dv.delete(f"mp_registrations({registration_id})").status_code == 204
        with caplog.at_level(logging.INFO, logger="plugins.registration.service"):
            env.deliver(events)
            env.settle()
    assert env.sandbox.servicebus.active_count(QUEUE) == 0
    assert env.sandbox.servicebus.dead_letters(QUEUE) == []
    assert any("gone" in record.getMessage() for record in caplog.records)
    assert env.contacts(GONE) == []


def test_own_tagged_events_are_skipped(env: PipelineEnv) -> None:
    correlation_id = str(uuid.uuid4())
    registration_id = env.create_registration(
        correlation_id=correlation_id, tag=PIPELINE_TAG, **form(OWN, "own@example.org")
    )
    env.settle()
    assert env.registration(registration_id)["mp_status"] == RECEIVED
    assert env.round_trips(correlation_id) == 0


def test_queue_settles_a_message_that_is_not_an_event(env: PipelineEnv) -> None:
    env.sandbox.servicebus.send(QUEUE, b"not json", content_type="application/json")
    env.settle()
    assert env.sandbox.servicebus.active_count(QUEUE) == 0
    assert env.sandbox.servicebus.dead_letters(QUEUE) == []


def test_webhook_answers_400_for_a_body_that_is_not_an_event(env: PipelineEnv) -> None:
    url = f"{env.host.base_url}/api/registration/events"
    bad = requests.post(url, params={"code": WEBHOOK_KEY}, data=b'{"hello": 1}', timeout=10)
    assert bad.status_code == 400
    assert "not a RemoteExecutionContext" in bad.text
    assert requests.post(url, data=b"{}", timeout=10).status_code == 401

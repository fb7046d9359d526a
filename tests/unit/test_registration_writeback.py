"""The change set a registration decision is written as (pure: requests are only built)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from plugins.core.schema_map import SchemaMap
from plugins.dataverse.batch import BatchOperation, BatchRequest, ChangeSet
from plugins.identity import Country
from plugins.registration.decision import (
    Decision,
    Eligibility,
    Facts,
    Reason,
    RegistryAnswer,
    decide,
    decide_admin,
)
from plugins.registration.matching import Match, MatchKind, match_person
from plugins.registration.model import Kind, Status
from plugins.registration.records import (
    ContactRecord,
    LinkedRegistration,
    RegistrationRecord,
    TaskRecord,
    contact_record,
    registration_record,
)
from plugins.registration.validation import check_registration
from plugins.registration.writeback import (
    Subject,
    WriteOptions,
    compact_json,
    confirmed_changes,
    plan_admin_followup,
    plan_decision,
)
from plugins.registries.models import (
    Address,
    AddressKind,
    ProtectionLevel,
    RegistryName,
    RegistryPerson,
)

SCHEMA = SchemaMap()
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
NID = "197010632391"
REG_ID = "0b7c1e64-5a55-4c8f-9a3e-2f0d6b1f0a01"
PERSON_ID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
TEAM_ID = "11111111-2222-4333-8444-555555555555"
OPTIONS = WriteOptions(schema=SCHEMA, now=NOW, review_team_id=TEAM_ID, task_due_days=7)
ALUMNUS = Eligibility(eligible=True, rule="degree awarded", evidence=("MSc awarded",))
NOT_ALUMNUS = Eligibility(eligible=False, rule="degree awarded", evidence=("no degree",))


def registration_row(**changes: Any) -> dict[str, Any]:
    row = {
        "@odata.etag": 'W/"7"',
        "mp_registrationid": REG_ID,
        "mp_kind": 100000000,
        "mp_status": 100000000,
        "mp_firstname": "Ada",
        "mp_lastname": "Lovelace",
        "mp_email": "Ada@Example.org",
        "mp_nationalid": "19701063-2391",
        "mp_phone": "+46 70 123 45 67",
        "mp_topics": "100000000,100000002",
        "mp_channels": "100000000",
        "mp_consentversion": "2025-01",
        "mp_consenton": "2025-02-28T12:00:00Z",
        "createdon": "2025-02-28T12:00:01Z",
    }
    row.update(changes)
    return row


def contact_row(**changes: Any) -> dict[str, Any]:
    row = {
        "@odata.etag": 'W/"3"',
        "contactid": PERSON_ID,
        "firstname": "Ada",
        "lastname": "Lovelace",
        "emailaddress1": "ada@example.org",
        "mp_nationalid": NID,
        "mp_personcategories": "100000000,100000001",
        "mp_topics": "100000000,100000002",
        "mp_channels": "100000000",
        "mp_consentversion": "2025-01",
        "mp_consenton": "2025-02-28T12:00:00Z",
        "telephone1": "+46 70 123 45 67",
    }
    row.update(changes)
    return row


def record(**changes: Any) -> RegistrationRecord:
    return registration_record(registration_row(**changes), SCHEMA)


def contact(*linked: LinkedRegistration, **changes: Any) -> ContactRecord:
    return contact_record(contact_row(**changes), SCHEMA, Country.SE, linked)


def decision_for(
    reg: RegistrationRecord, candidates: list[ContactRecord], **facts: Any
) -> Decision:
    checked = check_registration(
        reg.registration, Country.SE, national_id_required=False, today=date(2025, 3, 1)
    )
    match = match_person(checked.national_id, checked.email, [c.person for c in candidates])
    return decide(Facts(registration=reg.registration, match=match, **facts))


def operations(batch: BatchRequest | None) -> list[BatchOperation]:
    assert batch is not None
    [changes] = batch.items
    assert isinstance(changes, ChangeSet)
    return changes.operations


def summary(batch: BatchRequest | None) -> list[tuple[str, str, dict[str, str]]]:
    return [(op.method, op.url, dict(op.headers)) for op in operations(batch)]


def navet_person(protection: ProtectionLevel = ProtectionLevel.NONE) -> RegistryPerson:
    return RegistryPerson(
        source=RegistryName.NAVET,
        national_id=NID,
        first_name="Augusta Ada",
        last_name="King",
        birth_date=date(1970, 10, 3),
        protection=protection,
        addresses=(Address(kind=AddressKind.REGISTERED, lines=("Storgatan 1",),
                           postal_code="11122", city="STOCKHOLM"),),
    )


# ----------------------------------------------------------------------- new person


def test_new_alumnus_is_created_by_its_key_and_linked_in_the_same_change_set() -> None:
    reg = record()
    decision = decision_for(reg, [], registry=RegistryAnswer.FOUND, registry_source="ladok, navet",
                            eligibility=ALUMNUS)
    plan = plan_decision(decision, Subject(record=reg, national_id=NID,
                                           registry_person=navet_person()), OPTIONS)
    person, registration = operations(plan)
    assert (person.method, person.url) == ("PATCH", f"contacts(mp_nationalid='{NID}')")
    assert person.headers == {"If-None-Match": "*"}
    body = person.body
    assert "mp_nationalid" not in body
    assert (body["firstname"], body["lastname"]) == ("Augusta Ada", "King")
    assert body["emailaddress1"] == "Ada@Example.org"
    assert body["mp_personcategories"] == "100000000,100000001"
    assert (body["address1_line1"], body["address1_city"]) == ("Storgatan 1", "STOCKHOLM")
    assert body["mp_protectionlevel"] == 100000000 and body["mp_registrysource"] == "navet"
    assert body["mp_topics"] == "100000000,100000002" and body["mp_channels"] == "100000000"
    assert body["mp_consentsource"] == f"registration {REG_ID}"
    assert body["mp_lastenrichedon"] == "2025-03-01T09:30:00Z"

    assert (registration.method, registration.url) == ("PATCH", f"mp_registrations({REG_ID})")
    assert registration.headers == {"If-Match": 'W/"7"'}
    assert registration.body["mp_PersonId@odata.bind"] == f"${person.content_id}"
    assert registration.body["mp_status"] == 100000002
    assert registration.body["mp_reason"] == "created-alumnus"
    assert registration.body["mp_processedon"] == NOW
    assert json.loads(registration.body["mp_evidence"])["registry_source"] == "ladok, navet"


@pytest.mark.parametrize(
    "protection", [ProtectionLevel.PROTECTED, ProtectionLevel.CONFIDENTIAL, ProtectionLevel.UNKNOWN]
)
def test_a_protected_identity_never_gets_an_address(protection: ProtectionLevel) -> None:
    reg = record()
    decision = decision_for(reg, [], registry=RegistryAnswer.FOUND, eligibility=ALUMNUS)
    plan = plan_decision(decision, Subject(record=reg, national_id=NID,
                                           registry_person=navet_person(protection)), OPTIONS)
    body = operations(plan)[0].body
    assert not [column for column in body if column.startswith("address1_")]


def test_person_the_rule_does_not_accept_is_created_with_a_review_task() -> None:
    reg = record()
    decision = decision_for(reg, [], registry=RegistryAnswer.FOUND, registry_source="ladok",
                            eligibility=NOT_ALUMNUS)
    plan = plan_decision(decision, Subject(record=reg, national_id=NID), OPTIONS)
    person, registration, task = operations(plan)
    assert "mp_personcategories" not in person.body
    assert registration.body["mp_status"] == 100000003
    assert (task.method, task.url) == ("POST", "tasks")
    assert task.body["subject"] == "Review alumni registration: Ada Lovelace"
    assert task.body["description"].startswith(decision.explanation)
    assert "Registries: the person is known to ladok" in task.body["description"]
    assert "Alumni rule: degree awarded: does not hold" in task.body["description"]
    assert "What the rule rested on: no degree" in task.body["description"]
    assert registration.body["mp_evidencetext"] in task.body["description"]
    assert task.body["regardingobjectid_mp_registration_task@odata.bind"] == (
        f"/mp_registrations({REG_ID})"
    )
    assert task.body["ownerid@odata.bind"] == f"/teams({TEAM_ID})"
    assert task.body["scheduledend"] == datetime(2025, 3, 8, 9, 30, tzinfo=UTC)


def test_person_without_identity_number_is_created_only_under_its_email_key() -> None:
    reg = record(mp_nationalid=None, mp_email="  Ada.Lovelace@Example.ORG ")
    decision = decision_for(reg, [], registry=RegistryAnswer.NOT_ASKED)
    options = WriteOptions(schema=SCHEMA, now=NOW)
    plan = plan_decision(decision, Subject(record=reg), options)
    person, registration, task = operations(plan)
    assert (person.method, person.url, person.headers) == (
        "PATCH", "contacts(mp_emailkey='ada.lovelace@example.org')", {"If-None-Match": "*"}
    )
    assert person.body["firstname"] == "Ada"
    assert person.body["mp_emailconfirmation"] == 100000000
    assert registration.body["mp_PersonId@odata.bind"] == f"${person.content_id}"
    assert "ownerid@odata.bind" not in task.body


# ------------------------------------------------------------------- matched person


def test_registered_alumnus_with_the_same_details_changes_only_the_registration() -> None:
    reg, person = record(), contact()
    decision = decision_for(reg, [person])
    assert decision.status is Status.APPROVED_REGISTERED_ALUMNUS
    plan = plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    [registration] = operations(plan)
    assert registration.body["mp_PersonId@odata.bind"] == f"/contacts({PERSON_ID})"


LINK_ID = "7d1f8a3e-5b2c-4e9a-9c1d-2f3e4a5b6c7d"
PROVEN = {
    "_mp_proofid_value": LINK_ID,
    "_mp_personid_value": PERSON_ID,
    "mp_ProofId": {"_mp_personid_value": PERSON_ID, "mp_usedon": "2025-03-01T09:00:00Z"},
}


def test_registered_alumnus_gets_only_the_details_that_differ() -> None:
    reg = record(
        mp_lastname="King", mp_email="countess@example.org", mp_topics="100000001", **PROVEN
    )
    person = contact(emailaddress2="old@example.org", mp_nationalid=None)
    by_email = Match(kind=MatchKind.ONE, person=person.person, matched_by=("email",))
    decision = decide(Facts(registration=reg.registration, match=by_email))
    plan = plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    update, _ = operations(plan)
    assert (update.url, update.headers) == (f"contacts({PERSON_ID})", {"If-Match": 'W/"3"'})
    assert update.body == {
        "lastname": "King",
        "emailaddress1": "countess@example.org",
        "emailaddress3": "ada@example.org",
        "mp_emailkey": "countess@example.org",
        "mp_nationalid": NID,
        "mp_topics": "100000001",
    }


def test_without_proof_of_control_the_offered_details_are_only_proposed() -> None:
    reg = record(mp_lastname="King", mp_email="Mallory@Example.org", mp_topics="100000001")
    person = contact(mp_nationalid=None)
    by_email = Match(kind=MatchKind.ONE, person=person.person, matched_by=("national_id",))
    decision = decide(Facts(registration=reg.registration, match=by_email))
    assert decision.status is Status.APPROVED_REGISTERED_ALUMNUS
    assert "NOT changed" in decision.explanation and "proposed changes" in decision.explanation
    plan = plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    [registration] = operations(plan)
    assert json.loads(registration.body["mp_proposedchanges"]) == {
        "last_name": "King",
        "email": "Mallory@Example.org",
        "national_id": NID,
        "topics": ["events"],
    }
    confirmed = confirmed_changes(
        json.loads(registration.body["mp_proposedchanges"]), REG_ID, person, OPTIONS
    )
    assert confirmed == {
        "lastname": "King",
        "emailaddress1": "Mallory@Example.org",
        "emailaddress2": "ada@example.org",
        "mp_emailkey": "mallory@example.org",
        "mp_nationalid": NID,
        "mp_topics": "100000001",
    }


@pytest.mark.parametrize(
    "proof",
    [
        # Linked to another person than the one matched.
        {**PROVEN, "_mp_personid_value": "11111111-2222-3333-4444-555555555555"},
        # The link named is another person's.
        {**PROVEN, "mp_ProofId": {"_mp_personid_value": "11111111-2222-3333-4444-555555555555",
                                  "mp_usedon": "2025-03-01T09:00:00Z"}},
        # The link was never used, or not read with the registration.
        {**PROVEN, "mp_ProofId": {"_mp_personid_value": PERSON_ID, "mp_usedon": None}},
        {"_mp_proofid_value": LINK_ID, "_mp_personid_value": PERSON_ID},
    ],
)
def test_a_proof_that_does_not_hold_is_no_proof(proof: dict[str, Any]) -> None:
    reg = record(mp_lastname="King", **proof)
    person = contact()
    decision = decision_for(reg, [person])
    assert not decision.apply_details
    plan = plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    [registration] = operations(plan)
    assert json.loads(registration.body["mp_proposedchanges"]) == {"last_name": "King"}


def test_a_malformed_proposal_is_refused() -> None:
    with pytest.raises(ValueError):
        confirmed_changes({"first_name": ["not", "text"]}, REG_ID, contact(), OPTIONS)


def test_a_new_consent_is_written_as_a_whole() -> None:
    reg = record(mp_consentversion="2025-02", **PROVEN)
    person = contact(mp_consentsource="web form")
    plan = plan_decision(decision_for(reg, [person]),
                         Subject(record=reg, national_id=NID, person=person), OPTIONS)
    update, _ = operations(plan)
    assert update.body == {
        "mp_consentversion": "2025-02",
        "mp_consenton": datetime(2025, 2, 28, 12, 0, tzinfo=UTC),
        "mp_consentsource": f"registration {REG_ID}",
    }


def test_matched_alumnus_becomes_registered_alumnus() -> None:
    reg, person = record(), contact(mp_personcategories="100000000")
    decision = decision_for(reg, [person])
    plan = plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    update, registration = operations(plan)
    assert update.body == {"mp_personcategories": "100000000,100000001"}
    assert registration.body["mp_status"] == 100000002


def test_matched_person_with_neither_category_is_linked_and_reviewed_not_changed() -> None:
    reg, person = record(), contact(mp_personcategories="100000002", lastname="Byron")
    decision = decision_for(reg, [person])
    plan = plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    assert [(m, u) for m, u, _ in summary(plan)] == [
        ("PATCH", f"mp_registrations({REG_ID})"), ("POST", "tasks"),
    ]


def test_registration_already_linked_is_not_relinked() -> None:
    reg, person = record(_mp_personid_value=PERSON_ID), contact()
    plan = plan_decision(decision_for(reg, [person]),
                         Subject(record=reg, national_id=NID, person=person), OPTIONS)
    [registration] = operations(plan)
    assert "mp_PersonId@odata.bind" not in registration.body


# ---------------------------------------------------------------- invalid, conflict


def test_invalid_registration_writes_its_status_and_reason_and_a_review_task() -> None:
    reg = record(mp_nationalid="19701063-2392", mp_email="not an address")
    checked = check_registration(reg.registration, Country.SE, national_id_required=False,
                                 today=date(2025, 3, 1))
    assert checked.problems == (
        "the e-mail address is not a valid address",
        "the identity number is not a valid SE number (bad-checksum)",
    )
    decision = decide(Facts(registration=reg.registration, problems=checked.problems))
    registration, task = operations(plan_decision(decision, Subject(record=reg), OPTIONS))
    assert registration.body["mp_status"] == 100000003
    assert registration.body["mp_reason"] == "invalid-registration"
    assert "19701063" not in registration.body["mp_explanation"]
    assert "mp_PersonId@odata.bind" not in registration.body
    assert (task.method, task.url) == ("POST", "tasks")
    assert "19701063" not in task.body["description"]
    assert "Problems found: the e-mail address is not a valid address" in task.body["description"]
    assert task.body["ownerid@odata.bind"] == f"/teams({TEAM_ID})"


def test_missing_fields_and_required_identity_number_are_problems() -> None:
    reg = record(mp_firstname=" ", mp_email=None, mp_nationalid=None)
    checked = check_registration(reg.registration, Country.SE, national_id_required=True,
                                 today=date(2025, 3, 1))
    assert checked.problems == (
        "the first name is missing",
        "the e-mail address is missing",
        "the identity number is missing",
    )


def test_conflict_links_nobody_and_opens_a_task() -> None:
    reg = record()
    other = contact(contactid="9f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", emailaddress1="x@y.se")
    by_mail = contact(mp_nationalid="198001010000")
    decision = decision_for(reg, [other, by_mail])
    assert decision.reason is Reason.MATCH_CONFLICT
    registration, task = operations(
        plan_decision(decision, Subject(record=reg, national_id=NID), OPTIONS)
    )
    assert "mp_PersonId@odata.bind" not in registration.body
    assert task.method == "POST"


# ------------------------------------------------------------------- unregistration


def test_unregistration_that_terminates_also_ends_the_other_registrations() -> None:
    reg = record(mp_kind=100000001, mp_terminatemembership=True)
    person = contact(
        LinkedRegistration(id=REG_ID, status=Status.RECEIVED, etag='W/"7"'),
        LinkedRegistration(id="a" * 8 + "-0000-4000-8000-000000000001",
                           status=Status.APPROVED_ALUMNUS, etag='W/"4"'),
        LinkedRegistration(id="a" * 8 + "-0000-4000-8000-000000000002",
                           status=Status.UNREGISTERED, etag='W/"5"'),
    )
    decision = decision_for(reg, [person])
    plan = plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    update, registration, other = operations(plan)
    assert update.body == {"mp_personcategories": "100000000", "mp_nocommunication": True}
    assert registration.body["mp_status"] == 100000006
    assert other.url == "mp_registrations(aaaaaaaa-0000-4000-8000-000000000001)"
    assert other.headers == {"If-Match": 'W/"4"'}
    assert other.body["mp_status"] == 100000006


def test_unregistration_keeping_the_membership_only_stops_communication() -> None:
    reg = record(mp_kind=100000001, mp_lastname="Someone Else")
    person = contact()
    decision = decision_for(reg, [person])
    assert decision.reason is Reason.COMMUNICATION_WITHDRAWN
    update, _ = operations(
        plan_decision(decision, Subject(record=reg, national_id=NID, person=person), OPTIONS)
    )
    assert update.body == {"mp_nocommunication": True}


def test_a_decision_that_keeps_the_status_writes_nothing() -> None:
    reg = record(mp_status=100000002)
    assert decision_for(reg, []).status is None
    assert plan_decision(decision_for(reg, []), Subject(record=reg), OPTIONS) is None


def test_an_empty_status_counts_as_received() -> None:
    assert record(mp_status=None).registration.status is Status.RECEIVED
    assert record(mp_status=100000003).registration.kind is Kind.REGISTRATION


# ---------------------------------------------------------------- admin follow-up


def test_manual_approval_gives_registered_alumnus_and_closes_open_tasks() -> None:
    reg = record(mp_status=100000004, mp_reason="matched-not-alumnus")
    person = contact(mp_personcategories="100000002")
    decision = decide_admin(reg.registration, person.person)
    tasks = (TaskRecord(id="c" * 8 + "-0000-4000-8000-000000000001", etag='W/"9"'),)
    category, task, registration = operations(
        plan_admin_followup(decision, reg, person, tasks, OPTIONS)
    )
    assert category.body == {"mp_personcategories": "100000001,100000002"}
    assert (task.url, task.body, task.headers) == (
        "tasks(cccccccc-0000-4000-8000-000000000001)",
        {"statecode": 1, "statuscode": 5},
        {"If-Match": 'W/"9"'},
    )
    assert registration.body["mp_reason"] == "approved-manually"
    assert "mp_status" not in registration.body


def test_a_followed_up_decision_needs_nothing_the_second_time() -> None:
    reg = record(mp_status=100000005, mp_reason="denied")
    decision = decide_admin(reg.registration, contact().person)
    assert plan_admin_followup(decision, reg, contact(), (), OPTIONS) is None


def test_a_status_that_is_no_administrator_decision_needs_no_follow_up() -> None:
    reg = record(mp_status=100000003, mp_reason="matched-not-alumnus")
    decision = decide_admin(reg.registration, contact().person)
    tasks = (TaskRecord(id="c" * 8 + "-0000-4000-8000-000000000001", etag='W/"9"'),)
    assert plan_admin_followup(decision, reg, contact(), tasks, OPTIONS) is None


def test_evidence_is_compact_sorted_json() -> None:
    assert compact_json({"b": [1, 2], "a": "å"}) == '{"a":"å","b":[1,2]}'


def test_overlong_explanation_is_clipped_to_the_column() -> None:
    reg = record()
    long = Decision(status=Status.NOT_APPROVED, reason=Reason.INVALID_REGISTRATION,
                    explanation="x" * 5000)
    [registration] = operations(plan_decision(long, Subject(record=reg), OPTIONS))
    assert len(registration.body["mp_explanation"]) == 4000

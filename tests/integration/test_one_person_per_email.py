"""One person per e-mail address, also when two registrations of one new person race.

Each pair of registrations is held until both change sets have arrived, so both are decided
on the same reads (nobody matched) and both try to create the person. The create-only
upserts on the identity-number key and on the normalised e-mail key (the body carries both
columns) let exactly one commit; the other gets 412, reads again and matches that person.
Ten pairs of each kind: identity number in both, e-mail only, number and e-mail against
e-mail only, and the same address in other letter case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pipeline_env import PipelineEnv, personnummer, pipeline_env

PAIRS = 10
NOT_APPROVED = 100000003
# What each run printed, for the report at the end of the module.
PEOPLE: dict[str, list[int]] = {}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    with pipeline_env(tmp_path_factory.mktemp("one-person"), {}) as started:
        started.route("webhook")
        yield started
    if PEOPLE:
        print("\npeople per concurrent pair:",
              {kind: f"{sum(counts)} people from {len(counts)} pairs"
               for kind, counts in PEOPLE.items()})


def registration(national_id: str | None, email: str) -> dict[str, Any]:
    row: dict[str, Any] = {"mp_firstname": "Pat", "mp_lastname": "Pair", "mp_email": email}
    if national_id is not None:
        row["mp_nationalid"] = national_id
    return row


def race(env: PipelineEnv, first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Create both registrations and deliver their events at the same time, so their change
    sets meet (on the webhook: the queue would take both in one batch, which the next test
    covers); the ids of the people the two registrations were linked to."""
    with env.routed("parked"):
        ids = [env.create_registration(**first), env.create_registration(**second)]
        events = env.take_parked()
        with env.change_sets_meet(2):
            env.post_together([event.body for event in events])
    return [env.registration(i)["_mp_personid_value"] for i in ids]


def in_one_batch(env: PipelineEnv, first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Both registrations' events on the queue at once: decided in one batch, their change
    sets in one ``$batch``; the ids of the people they were linked to."""
    with env.routed("parked"):
        ids = [env.create_registration(**first), env.create_registration(**second)]
        events = env.take_parked()
    env.deliver(events)
    env.settle()
    return [env.registration(i)["_mp_personid_value"] for i in ids]


def people_with(env: PipelineEnv, email: str) -> list[dict[str, Any]]:
    wanted = email.lower()
    columns = ("emailaddress1", "emailaddress2", "emailaddress3", "mp_emailkey")
    clause = " or ".join(f"{c} eq '{wanted}'" for c in columns)
    return env.query(f"contacts?$filter={clause}")


def pair(kind: str, index: int) -> tuple[dict[str, Any], dict[str, Any], str]:
    email = f"pair.{kind}.{index}.{uuid.uuid4().hex[:6]}@example.org"
    number = personnummer(f"1960{(index % 12) + 1:02d}{10 + index:02d}",
                          f"{300 + list(KINDS).index(kind) * 20 + index:03d}")
    first, second = {
        "number": (registration(number, email), registration(number, email)),
        "email-only": (registration(None, email), registration(None, email)),
        "number-and-email-only": (registration(number, email), registration(None, email)),
        "letter-case": (registration(None, email), registration(None, email.upper())),
    }[kind]
    return first, second, email


KINDS = ("number", "email-only", "number-and-email-only", "letter-case")


@pytest.mark.parametrize("kind", KINDS)
def test_two_registrations_of_one_new_person_at_once_give_one_person(
    env: PipelineEnv, kind: str
) -> None:
    counts = []
    for index in range(PAIRS):
        first, second, email = pair(kind, index)
        linked = race(env, first, second)
        people = people_with(env, email)
        counts.append(len(people))
        assert len(people) == 1, f"pair {index}: {len(people)} people"
        assert set(linked) == {people[0]["contactid"]}
    PEOPLE[kind] = counts


@pytest.mark.parametrize("kind", KINDS)
def test_two_registrations_of_one_new_person_in_one_queue_batch_give_one_person(
    env: PipelineEnv, kind: str
) -> None:
    first, second, email = pair(kind, PAIRS)
    linked = in_one_batch(env, first, second)
    people = people_with(env, email)
    assert len(people) == 1
    assert set(linked) == {people[0]["contactid"]}


def test_two_existing_people_sharing_an_address_are_a_conflict_never_merged(
    env: PipelineEnv,
) -> None:
    email = f"shared.{uuid.uuid4().hex[:6]}@example.org"
    one = env.create_contact(firstname="Sam", lastname="One", emailaddress1=email)
    two = env.create_contact(firstname="Sam", lastname="Two", emailaddress2=email.upper())
    registration_id = env.create_registration(**registration(None, email))
    env.settle()
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "match-conflict")
    assert row["_mp_personid_value"] is None
    assert {p["contactid"] for p in people_with(env, email)} == {one, two}
    assert env.contact(one)["lastname"] == "One" and env.contact(two)["lastname"] == "Two"


def test_the_sandbox_keeps_the_email_key_unique_in_any_letter_case(env: PipelineEnv) -> None:
    key = f"key.{uuid.uuid4().hex[:6]}@example.org"
    create_only = {"If-None-Match": "*"}
    first = env.dv.patch(f"contacts(mp_emailkey='{key}')", json={"lastname": "First"},
                         headers=create_only)
    assert first.status_code == 204, first.text
    again = env.dv.patch(f"contacts(mp_emailkey='{key}')", json={"lastname": "Second"},
                         headers=create_only)
    assert again.status_code == 412
    posted = env.dv.post("contacts", json={"lastname": "Third", "mp_emailkey": key.upper()})
    assert (posted.status_code, posted.json()["error"]["code"]) == (412, "0x80040237")
    assert [p["lastname"] for p in people_with(env, key)] == ["First"]

"""Registrations decided in batches, end to end through the queue trigger.

Events are parked, then put on the pipeline's queue so that they become available at the
same moment (scheduled, then the namespace clock moved on), so the host hands them to the
function as one batch, as the Functions host does with ``cardinality="many"``. The same
scenarios are also run one by one, and both must give the same statuses, people and tasks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pipeline_env import QUEUE, PipelineEnv, personnummer, pipeline_env

from sandbox.errors import ODataError
from sandbox.servicebus.queue import Message
from sandbox.webapi.context import API_PATH

RECEIVED, REGISTERED, APPROVED, NOT_APPROVED = 100000000, 100000001, 100000002, 100000003
UNREGISTERED = 100000006
ALUMNUS_CAT, REGISTERED_CAT, STUDENT_CAT = "100000000", "100000001", "100000002"
DEGREE = [{"code": "DA1001", "name": "Datateknik", "credits": "90", "start": "2010-08-30",
           "end": "2012-06-03", "passed_on": "2012-06-01"}]
ADDRESS = [{"kind": "registered", "lines": ["Storgatan 1"], "postal_code": "11122",
            "city": "STOCKHOLM"}]
# Two copies of every scenario: "b" decided in one batch, "s" one by one.
SETS = ("b", "s")


def number(kind: int, copy: str) -> str:
    return personnummer(f"1975{kind:02d}{'01' if copy == 'b' else '02'}", f"{kind + 200:03d}")


NEW_ALUMNUS, UNKNOWN, TWICE = 1, 2, 3
SEED = {
    "registries": {
        "ladok": {
            **{number(NEW_ALUMNUS, c): {"first_name": "Grace", "last_name": "Hopper",
                                        "courses": DEGREE} for c in SETS},
            **{number(TWICE, c): {"first_name": "Edsger", "last_name": "Dijkstra",
                                  "courses": DEGREE} for c in SETS},
        },
        "navet": {
            number(NEW_ALUMNUS, c): {"first_name": "Grace", "last_name": "Hopper",
                                     "addresses": ADDRESS} for c in SETS
        },
    }
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    with pipeline_env(tmp_path_factory.mktemp("batches"), SEED) as started:
        started.route("webhook")
        yield started


def form(national_id: str | None, email: str, **columns: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"mp_firstname": "Ada", "mp_lastname": "Lovelace", "mp_email": email}
    if national_id is not None:
        row["mp_nationalid"] = f"{national_id[:8]}-{national_id[8:]}"
    return {**row, **columns}


def deliver_one_by_one(env: PipelineEnv, messages: list[Message]) -> int:
    before = env.sandbox.request_log.count(prefix=API_PATH)
    for message in messages:
        env.deliver([message])
        env.settle()
    return env.sandbox.request_log.count(prefix=API_PATH) - before


def scenario(env: PipelineEnv, copy: str) -> dict[str, str]:
    """Every kind of decision once (and one new person registering twice); the ids by
    name. The people the matches need are created first."""
    def email(name: str) -> str:
        return f"{name}.{copy}@example.org"

    def contact(name: str, categories: str) -> None:
        env.create_contact(firstname="Ada", lastname="Lovelace", emailaddress1=email(name),
                           mp_personcategories=categories)

    contact("registered", f"{ALUMNUS_CAT},{REGISTERED_CAT}")
    contact("alumnus", ALUMNUS_CAT)
    contact("student", STUDENT_CAT)
    contact("leaving", f"{ALUMNUS_CAT},{REGISTERED_CAT}")
    contact("quiet", f"{ALUMNUS_CAT},{REGISTERED_CAT}")
    env.settle()
    return {
        "registered": env.create_registration(**form(None, email("registered"))),
        "alumnus": env.create_registration(**form(None, email("alumnus"))),
        "student": env.create_registration(**form(None, email("student"))),
        "new-alumnus": env.create_registration(
            **form(number(NEW_ALUMNUS, copy), email("grace"))),
        "unknown": env.create_registration(**form(number(UNKNOWN, copy), email("unknown"))),
        "declared": env.create_registration(
            **form(None, email("declared"), mp_selfdeclaredalumnus=True)),
        "invalid": env.create_registration(**form(None, "not-an-address")),
        "leaving": env.create_registration(
            **form(None, email("leaving"), mp_kind=100000001, mp_terminatemembership=True)),
        "quiet": env.create_registration(**form(None, email("quiet"), mp_kind=100000001)),
        "stranger": env.create_registration(**form(None, email("stranger"), mp_kind=100000001)),
        "twice-1": env.create_registration(**form(number(TWICE, copy), email("edsger"))),
        "twice-2": env.create_registration(**form(number(TWICE, copy), email("e.dijkstra"))),
    }


def results(env: PipelineEnv, ids: dict[str, str], copy: str) -> dict[str, Any]:
    """What the office would see: status, reason, open tasks, and people per scenario."""
    seen: dict[str, Any] = {name: env.office_view(i) for name, i in ids.items()}
    seen["people"] = {
        kind: len(env.contacts(number(kind, copy))) for kind in (NEW_ALUMNUS, UNKNOWN, TWICE)
    }
    return seen


def test_a_batch_of_every_kind_decides_as_one_by_one_does_with_few_requests(
    env: PipelineEnv,
) -> None:
    with env.routed("parked"):
        batch_ids = scenario(env, "b")
        batch_events = env.take_parked()
        single_ids = scenario(env, "s")
        single_events = env.take_parked()
        batch_requests = env.deliver_together(batch_events)
        single_requests = deliver_one_by_one(env, single_events)

    batched, single = results(env, batch_ids, "b"), results(env, single_ids, "s")
    assert batched == single
    statuses = {value[0] for key, value in batched.items() if key != "people"}
    assert statuses == {REGISTERED, APPROVED, NOT_APPROVED, UNREGISTERED}
    assert batched["people"] == {NEW_ALUMNUS: 1, UNKNOWN: 1, TWICE: 1}
    assert env.sandbox.servicebus.dead_letters(QUEUE) == []
    # One read and one write $batch; the second registration of one new person meets the
    # first one's create (412) and takes one more round of both.
    assert batch_requests <= 4
    assert single_requests >= 2 * len(single_ids)


def test_a_poisoned_message_and_a_412_leave_the_others_decided_and_settled(
    env: PipelineEnv,
) -> None:
    namespace = env.sandbox.servicebus
    with env.routed("parked"):
        ids = [env.create_registration(**form(None, f"poison.{n}@example.org"))
               for n in range(3)]
        events = env.take_parked()
    stale = {"left": 1}

    def refuse_first_write(request: Any, caller: Any) -> Any:
        # One registration's change set meets a newer version of the row once.
        if (request.method == "PATCH" and ids[1] in request.path and stale["left"]):
            stale["left"] -= 1
            raise ODataError(412, "0x80060882", "The version of the existing record "
                             "doesn't match the RowVersion property provided.")
        return original(request, caller)

    webapi = env.sandbox.webapi
    original = webapi.dispatch
    webapi.dispatch = refuse_first_write  # type: ignore[method-assign]
    try:
        env.deliver_together(events, poison=b'{"not": "an event"}')
    finally:
        webapi.dispatch = original  # type: ignore[method-assign]

    assert stale["left"] == 0
    assert [env.registration(i)["mp_status"] for i in ids] == [NOT_APPROVED] * 3
    assert namespace.active_count(QUEUE) == 0
    assert namespace.queue(QUEUE).scheduled_count() == 0
    assert namespace.dead_letters(QUEUE) == []


def test_duplicates_in_one_batch_and_across_batches_give_one_decision(env: PipelineEnv) -> None:
    with env.routed("parked"):
        registration_id = env.create_registration(
            **form(personnummer("19760101", "300"), "dup@example.org"))
        events = env.take_parked()
    env.deliver_together(events, copies=3)
    row = env.registration(registration_id)
    again = env.deliver_together(events, copies=2)

    assert row["mp_status"] == NOT_APPROVED
    assert env.registration(registration_id)["@odata.etag"] == row["@odata.etag"]
    assert len(env.tasks(registration_id)) == 1
    assert len(env.query("contacts?$filter=emailaddress1 eq 'dup@example.org'")) == 1
    # The second batch reads once and finds nothing to do.
    assert again == 1

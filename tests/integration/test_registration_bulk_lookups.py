"""A queue batch of Norwegian registrations asks Folkeregisteret once, in bulk.

A Norwegian institution (FS the student register, Folkeregisteret the population register)
whose rights package is ``offentlig-med-hjemmel`` may look people up in bulk: a batch of
registrations makes one ``bulkoppslag`` for exactly the people nobody matched, and decides
as the same registrations decided one at a time (the webhook) do. FS has no bulk look-up and
is still asked person by person. A failed bulk look-up fails only the registrations that
needed it, transiently; with a rights package without bulk, each person is looked up alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pipeline_env import QUEUE, PipelineEnv, pipeline_env
from stdnum.no import fodselsnummer

RECEIVED, APPROVED, NOT_APPROVED = 100000000, 100000002, 100000003
ALUMNUS_CAT = "100000000"
UNREGISTRATION = 100000001
BULK = "POST folkeregisteret/offentlig-med-hjemmel/api/v1/personer/bulkoppslag/"
NORWEGIAN = {
    "REGISTRATION__NATIONAL_ID_COUNTRY": "NO",
    "REGISTRATION__STUDENT_REGISTRY": "fs",
    "REGISTRATION__POPULATION_REGISTRY": "folkeregisteret",
}
WITHOUT_BULK = {"rights_package": "offentlig-uten-hjemmel",
                "scope": "folkeregister:deling/offentligutenhjemmel"}
DEGREE = [{"code": "MAMN", "title": "Master i matematikk", "awarded_on": "2015-06-20"}]
HOME = [{"kind": "registered", "lines": [], "postal_code": "0155", "city": "OSLO"},
        {"kind": "postal", "lines": ["Storgata 1"], "postal_code": "0155", "city": "OSLO"}]
# Each copy of the scenario has its own people: "b" decided in one batch, "s" one at a time,
# "f" for the failing bulk look-up, "n" without bulk rights.
COPIES = ("b", "s", "f", "n")
KINDS = ("alumna", "hidden", "known", "unknown", "member", "leaving")


def fnr(kind: str, copy: str) -> str:
    """A valid fødselsnummer of its own for each kind and copy (born in the 1970s)."""
    born = date(1970, 1, 1) + timedelta(days=KINDS.index(kind) * 40 + COPIES.index(copy))
    for individual in range(100, 500):
        base = born.strftime("%d%m%y") + f"{individual:03d}"
        first = fodselsnummer.calc_check_digit1(base)
        second = fodselsnummer.calc_check_digit2(base + first) if len(first) == 1 else "10"
        if len(second) == 1:
            return base + first + second
    raise AssertionError("no valid fødselsnummer that day")


def person(first_name: str, **fields: Any) -> dict[str, Any]:
    return {"first_name": first_name, "last_name": "Nordmann", **fields}


SEED = {
    "registries": {
        "fs": {
            **{fnr("alumna", c): person("Kari", degrees=DEGREE) for c in COPIES},
            **{fnr("hidden", c): person("Skjult", degrees=DEGREE) for c in COPIES},
        },
        "folkeregisteret": {
            **{fnr("alumna", c): person("Kari", protection="none", addresses=HOME)
               for c in COPIES},
            **{fnr("hidden", c): person("Skjult", protection="protected", addresses=HOME)
               for c in COPIES},
            **{fnr("known", c): person("Ola", protection="none", addresses=HOME)
               for c in COPIES},
        },
    }
}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[PipelineEnv]:
    # One per test: the host trusts one sandbox's CA at a time, so two never run together.
    with pipeline_env(tmp_path, SEED, NORWEGIAN, {"fs": {}, "folkeregisteret": {}}) as started:
        started.route("webhook")
        yield started


def form(national_id: str | None, email: str, **columns: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"mp_firstname": "Kari", "mp_lastname": "Nordmann", "mp_email": email}
    if national_id is not None:
        # As people type it: birth date, a space, the personal number.
        row["mp_nationalid"] = f"{national_id[:6]} {national_id[6:]}"
    return {**row, **columns}


def scenario(env: PipelineEnv, copy: str) -> dict[str, str]:
    """One registration of each kind; the ids by kind. ``member`` is in Dataverse already
    (matched by number), ``leaving`` unregisters though nobody matches, ``anonymous``
    gives no number and ``mistyped`` an invalid one: none of them is looked up."""
    env.create_contact(firstname="Kari", lastname="Nordmann", mp_nationalid=fnr("member", copy),
                       emailaddress1=f"member.{copy}@example.org", mp_personcategories=ALUMNUS_CAT)
    ids = {
        kind: env.create_registration(**form(fnr(kind, copy), f"{kind}.{copy}@example.org"))
        for kind in ("alumna", "hidden", "known", "unknown", "member")
    }
    ids["leaving"] = env.create_registration(**form(
        fnr("leaving", copy), f"leaving.{copy}@example.org", mp_kind=UNREGISTRATION,
        mp_terminatemembership=True))
    ids["anonymous"] = env.create_registration(**form(None, f"anonymous.{copy}@example.org"))
    ids["mistyped"] = env.create_registration(**form("01017000000", f"typo.{copy}@example.org"))
    return ids


def outcomes(env: PipelineEnv, ids: dict[str, str], copy: str) -> dict[str, Any]:
    """What the office sees per kind (status, reason, open tasks, linked person), and each
    person as created (name, address written, categories)."""
    seen: dict[str, Any] = {kind: env.office_view(i) for kind, i in ids.items()}
    seen["people"] = {
        kind: [(c["firstname"], c["address1_city"], c["address1_line1"],
                c["mp_personcategories"]) for c in env.contacts(fnr(kind, copy))]
        for kind in KINDS
    }
    return seen


def looked_up(env: PipelineEnv, register: str) -> list[str]:
    return getattr(env.sandbox.registries, register).looked_up()


def unmatched(copy: str) -> list[str]:
    """The numbers a decision rests on the registries for: nobody matched them."""
    return sorted(fnr(kind, copy) for kind in ("alumna", "hidden", "known", "unknown"))


def test_a_batch_asks_folkeregisteret_once_for_exactly_the_unmatched(env: PipelineEnv) -> None:
    registries = env.sandbox.registries
    with env.routed("parked"):
        batch_ids = scenario(env, "b")
        events = env.take_parked()
        registries.reset_stats()
        env.deliver_together(events)
    batch_routes = registries.folkeregisteret.stats()["by_route"]
    batch_looked_up = {name: looked_up(env, name) for name in ("folkeregisteret", "fs")}

    registries.reset_stats()
    single_ids = scenario(env, "s")  # the webhook: one registration at a time
    env.settle()
    single_routes = registries.folkeregisteret.stats()["by_route"]
    single_looked_up = looked_up(env, "folkeregisteret")

    batched, single = outcomes(env, batch_ids, "b"), outcomes(env, single_ids, "s")
    assert batched == single
    assert {kind: batched[kind][:2] for kind in batch_ids} == {
        "alumna": (APPROVED, "created-alumnus"),
        "hidden": (APPROVED, "created-alumnus"),
        "known": (NOT_APPROVED, "created-not-alumnus"),
        "unknown": (NOT_APPROVED, "unknown-to-registries"),
        "member": (APPROVED, "matched-alumnus"),
        "leaving": (NOT_APPROVED, "unregistration-person-not-found"),
        "anonymous": (NOT_APPROVED, "unknown-to-registries"),
        "mistyped": (NOT_APPROVED, "invalid-registration"),
    }
    # The protected identity's address is never written; the other's is.
    assert [p[1:3] for p in batched["people"]["hidden"]] == [(None, None)]
    assert [p[1:3] for p in batched["people"]["alumna"]] == [("OSLO", "Storgata 1")]
    assert env.sandbox.servicebus.dead_letters(QUEUE) == []

    # One bulk look-up, no person looked up alone, and only the people nobody matched.
    assert batch_routes == {BULK: 1}
    assert sorted(batch_looked_up["folkeregisteret"]) == unmatched("b")
    assert fnr("member", "b") not in batch_looked_up["folkeregisteret"]
    # FS has no bulk look-up: asked person by person, about the same people only.
    assert sorted(batch_looked_up["fs"]) == unmatched("b")
    # One at a time: one GET per person nobody matched.
    assert single_routes == {
        "GET folkeregisteret/offentlig-med-hjemmel/api/v1/personer/{id}": 4
    }
    assert sorted(single_looked_up) == unmatched("s")


def test_a_failed_bulk_look_up_fails_only_the_registrations_that_needed_it(
    env: PipelineEnv,
) -> None:
    namespace = env.sandbox.servicebus
    folkeregisteret = env.sandbox.registries.folkeregisteret
    with env.routed("parked"):
        ids = scenario(env, "f")
        events = env.take_parked()
        # The adapter tries twice: the bulk look-up fails for this delivery.
        folkeregisteret.script("500", "500")
        folkeregisteret.reset_stats()
        env.deliver_together(events)
        first = {kind: env.registration(i)["mp_status"] for kind, i in ids.items()}
        failed = folkeregisteret.stats()
        waiting = namespace.queue(QUEUE).scheduled_count()
        # Put back for 5 seconds, as after any registry failure, then decided.
        folkeregisteret.reset_stats()
        namespace.advance_clock(5)
        env.settle()
    final = outcomes(env, ids, "f")

    needed = {"alumna", "hidden", "known", "unknown"}
    assert {kind for kind, status in first.items() if status == RECEIVED} == needed
    assert first["member"] == APPROVED and first["mistyped"] == NOT_APPROVED
    assert failed["by_route"] == {BULK: 2} and failed["faults"] == {"500": 2}
    assert waiting == len(needed)
    assert {kind: final[kind][:2] for kind in needed} == {
        "alumna": (APPROVED, "created-alumnus"),
        "hidden": (APPROVED, "created-alumnus"),
        "known": (NOT_APPROVED, "created-not-alumnus"),
        "unknown": (NOT_APPROVED, "unknown-to-registries"),
    }
    assert sorted(folkeregisteret.looked_up()) == unmatched("f")
    assert namespace.dead_letters(QUEUE) == []


def test_without_bulk_rights_each_person_is_looked_up_alone(tmp_path: Path) -> None:
    registers = {"fs": {}, "folkeregisteret": WITHOUT_BULK}
    with pipeline_env(tmp_path, SEED, NORWEGIAN, registers) as env:
        with env.routed("parked"):
            ids = scenario(env, "n")
            events = env.take_parked()
        env.sandbox.registries.reset_stats()
        env.deliver_together(events)
        seen = outcomes(env, ids, "n")
        routes = env.sandbox.registries.folkeregisteret.stats()["by_route"]
        numbers = looked_up(env, "folkeregisteret")

    assert seen["alumna"][:2] == (APPROVED, "created-alumnus")
    assert seen["unknown"][:2] == (NOT_APPROVED, "unknown-to-registries")
    assert routes == {"GET folkeregisteret/offentlig-uten-hjemmel/api/v1/personer/{id}": 4}
    assert sorted(numbers) == unmatched("n")

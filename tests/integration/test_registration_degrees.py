"""The alumni rule sees degrees: read through a configured Ladok degree path, recorded in
the degree table by the Ladok degree feed, and on a person the feed made an alumnus. End to
end: registrations through the Web API, the product's function_app.py in the local host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pipeline_env import QUEUE, PipelineEnv, personnummer, pipeline_env
from sync_harness import SCHEMA, client_for
from werkzeug.wrappers import Request

from plugins.core.settings import RegistrySettings, SyncSettings
from plugins.degrees.repository import DegreeTable
from plugins.registries.ladok_feed import LadokFeedReader
from plugins.sync.degree_feed import DegreeFeed
from sandbox.webapi.context import API_PATH

RECEIVED, APPROVED, NOT_APPROVED = 100000000, 100000002, 100000003
ALUMNUS_CAT, STUDENT_CAT = "100000000", "100000002"
DEGREE_AND_45 = personnummer("19820202", "122")
RECORDED_AND_45 = personnummer("19820303", "123")
FEED_GRADUATE = personnummer("19820404", "124")
ONLY_45 = personnummer("19820505", "125")
# A queue batch: two students with a degree only in the degree table, one with none.
BATCH_RECORDED = [personnummer("19830101", "126"), personnummer("19830202", "127")]
BATCH_NONE = personnummer("19830303", "128")
DEGREES_DOWN = personnummer("19830404", "129")
CREDITS_45 = [{"code": "DA2001", "name": "Datateknik", "credits": "45", "start": "2017-08-28",
               "end": "2019-06-02", "passed_on": "2019-05-30"}]
BACHELOR = {"code": "K1DAT", "title": "Teknologie kandidatexamen",
            "title_en": "Bachelor of Science", "awarded_on": "2019-06-14", "credits": "180"}
SEED = {
    "registries": {
        "ladok": {
            DEGREE_AND_45: {"first_name": "Karin", "courses": CREDITS_45,
                            "degrees": [BACHELOR]},
            RECORDED_AND_45: {"first_name": "Lars", "courses": CREDITS_45},
            FEED_GRADUATE: {"first_name": "Majken", "courses": CREDITS_45,
                            "degrees": [BACHELOR]},
            ONLY_45: {"first_name": "Nora", "courses": CREDITS_45},
            **{n: {"first_name": "Olle", "courses": CREDITS_45}
               for n in (*BATCH_RECORDED, BATCH_NONE, DEGREES_DOWN)},
        },
        "navet": {n: {"first_name": "Test", "last_name": "Testsson"}
                  for n in (DEGREE_AND_45, RECORDED_AND_45, FEED_GRADUATE, ONLY_45,
                            *BATCH_RECORDED, BATCH_NONE, DEGREES_DOWN)},
    }
}
# "degree awarded, or at least 60 credits", as the institution in the report has it.
RULE = {"any_of": [{"kind": "degree_awarded"}, {"kind": "min_credits", "credits": 60}]}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineEnv]:
    settings = {
        "REGISTRATION__ALUMNI_RULE": json.dumps(RULE),
        "REGISTRIES__LADOK__DEGREE_PATH": "examen/utfardatbevis/student/{uid}",
        "REGISTRATION__REFRESH_STUDY": "true",
    }
    with pipeline_env(tmp_path_factory.mktemp("degrees"), SEED, settings) as started:
        started.route("webhook")
        yield started


def register(env: PipelineEnv, national_id: str, email: str) -> dict[str, Any]:
    registration_id = env.create_registration(
        mp_firstname="Test", mp_lastname="Testsson", mp_email=email,
        mp_nationalid=f"{national_id[:8]}-{national_id[8:]}",
    )
    env.settle()
    return env.registration(registration_id)


def test_a_degree_from_the_degree_path_approves_despite_too_few_credits(
    env: PipelineEnv,
) -> None:
    row = register(env, DEGREE_AND_45, "karin@example.org")
    assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "created-alumnus")
    assert "degree 'Teknologie kandidatexamen' awarded 2019-06-14" in row["mp_evidence"]
    # The new person carries the study information, the degree in the degree table.
    [person] = env.contacts(DEGREE_AND_45)
    assert person["mp_studentref"] == env.sandbox.registries.ladok.ref_of(DEGREE_AND_45)
    assert (person["mp_firststudyyear"], person["mp_laststudyyear"]) == (2017, 2019)
    assert person["mp_studycredits"] == 45
    [degree] = degrees_of(env, person["contactid"])
    assert (degree["mp_titlesv"], degree["mp_titleen"]) == (
        "Teknologie kandidatexamen", "Bachelor of Science")
    assert (degree["mp_issuedon"], degree["mp_source"]) == ("2019-06-14", "ladok")


def test_too_few_credits_and_no_degree_is_not_approved(env: PipelineEnv) -> None:
    row = register(env, ONLY_45, "nora@example.org")
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "created-not-alumnus")
    assert "no degree awarded" in row["mp_evidence"]


def record_degree(env: PipelineEnv, key: str, student_ref: str, *, removed: bool = False,
                  issued_on: str = "2020-01-15") -> None:
    """A degree row as the degree feed records it."""
    d = SCHEMA.degree
    response = env.dv.post(d.entity_set, json={
        d.key: key, d.name: "Filosofie magisterexamen",
        d.title_sv: "Filosofie magisterexamen", d.issued_on: issued_on,
        d.student_ref: student_ref, d.source: "ladok", d.removed: removed,
    })
    assert response.status_code == 204, response.text


def test_a_degree_recorded_in_the_degree_table_approves(env: PipelineEnv) -> None:
    uid = env.sandbox.registries.ladok.ref_of(RECORDED_AND_45)
    record_degree(env, "ladok:recorded-by-the-feed", uid)
    row = register(env, RECORDED_AND_45, "lars@example.org")
    assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "created-alumnus")
    assert "degree 'Filosofie magisterexamen' awarded 2020-01-15" in row["mp_evidence"]
    # The feed's row is linked to the new person, not recorded a second time.
    [person] = env.contacts(RECORDED_AND_45)
    [degree] = degrees_of(env, person["contactid"])
    assert degree["mp_key"] == "ladok:recorded-by-the-feed"
    assert len(env.query(f"{SCHEMA.degree.entity_set}?$filter=mp_studentref eq '{uid}'")) == 1


def test_the_degree_feed_makes_a_student_an_alumnus_approved_with_the_degree(
    env: PipelineEnv, tmp_path: Path
) -> None:
    sandbox = env.sandbox
    contact_id = env.create_contact(firstname="Maja", lastname="Testsson",
                                    emailaddress1="maja@example.org",
                                    mp_nationalid=FEED_GRADUATE, mp_personcategories=STUDENT_CAT)
    registries = sandbox.registries.client_settings(tmp_path / "k.pem",
                                                    http=RegistrySettings.Http(max_attempts=2))
    ladok = registries.ladok.model_copy(update={"ca_bundle": sandbox.ca_file})
    reader = LadokFeedReader.from_settings(ladok, registries.http)
    with client_for(sandbox) as client:
        try:
            DegreeFeed(client, SCHEMA, reader, SyncSettings.DegreeFeed(enabled=True), None).run(
                datetime.now(UTC)
            )
        finally:
            reader.close()
    categories = set(env.contact(contact_id)["mp_personcategories"].split(","))
    assert categories == {ALUMNUS_CAT, STUDENT_CAT}

    row = register(env, FEED_GRADUATE, "maja@example.org")
    assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "matched-alumnus")
    assert "Teknologie kandidatexamen (2019-06-14)" in row["mp_evidence"]
    # REGISTRATION__REFRESH_STUDY: the matched alumna's study information is refreshed;
    # her name stays her own ("Maja"): neither the register's ("Majken") nor what the form
    # offered ("Test", kept as a proposed change until she proves the address is hers).
    person = env.contact(contact_id)
    assert (person["mp_studycredits"], person["mp_laststudyyear"]) == (45, 2019)
    assert person["firstname"] == "Maja"
    assert len(degrees_of(env, contact_id)) == 1


def degrees_of(env: PipelineEnv, contact_id: str) -> list[dict[str, Any]]:
    return env.query(f"{SCHEMA.degree.entity_set}?$filter=_mp_personid_value eq {contact_id}")


def test_a_queue_batch_reads_the_recorded_degrees_of_its_students_in_one_request(
    env: PipelineEnv,
) -> None:
    ladok = env.sandbox.registries.ladok
    for index, number in enumerate(BATCH_RECORDED):
        record_degree(env, f"ladok:batch-{index}", ladok.ref_of(number))
    with env.routed("parked"):
        ids = {
            number: env.create_registration(
                mp_firstname="Test", mp_lastname="Testsson", mp_email=f"b{number}@example.org",
                mp_nationalid=f"{number[:8]}-{number[8:]}",
            )
            for number in (*BATCH_RECORDED, BATCH_NONE)
        }
        events = env.take_parked()
        degree_reads = f"{API_PATH}{SCHEMA.degree.entity_set}"
        before = env.sandbox.request_log.count("GET", degree_reads)
        requests = env.deliver_together(events)
        reads = env.sandbox.request_log.count("GET", degree_reads) - before

    for number in BATCH_RECORDED:
        row = env.registration(ids[number])
        assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "created-alumnus")
        assert "degree 'Filosofie magisterexamen' awarded 2020-01-15" in row["mp_evidence"]
    row = env.registration(ids[BATCH_NONE])
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "created-not-alumnus")
    # One read of the degree table for the three students, besides the read and the write
    # $batch (one at a time it is one read each).
    assert reads == 1
    assert requests == 3


def test_a_failed_degree_read_puts_back_only_the_registrations_that_needed_it(
    env: PipelineEnv,
) -> None:
    namespace = env.sandbox.servicebus
    record_degree(env, "ladok:down", env.sandbox.registries.ladok.ref_of(DEGREES_DOWN))
    with env.routed("parked"):
        student = env.create_registration(
            mp_firstname="Test", mp_lastname="Testsson", mp_email="down@example.org",
            mp_nationalid=f"{DEGREES_DOWN[:8]}-{DEGREES_DOWN[8:]}",
        )
        anonymous = env.create_registration(
            mp_firstname="Test", mp_lastname="Testsson", mp_email="anon@example.org")
        events = env.take_parked()

        def degree_read(request: Request) -> bool:
            return request.method == "GET" and SCHEMA.degree.entity_set in request.path

        # The client tries twice: the part's degree read fails for this delivery.
        with env.failing_writes(2, degree_read) as failures:
            env.deliver_together(events)
        first = env.registration(student)["mp_status"]
        waiting = namespace.queue(QUEUE).scheduled_count()
        namespace.advance_clock(5)
        env.settle()

    assert len(failures) == 2
    assert first == RECEIVED and waiting == 1
    assert env.registration(anonymous)["mp_reason"] == "unknown-to-registries"
    row = env.registration(student)
    assert (row["mp_status"], row["mp_reason"]) == (APPROVED, "created-alumnus")
    assert namespace.dead_letters(QUEUE) == []


def test_the_degree_table_answers_several_students_in_one_query(env: PipelineEnv) -> None:
    record_degree(env, "ladok:several-1", "UID-SEVERAL-1", issued_on="2021-06-01")
    record_degree(env, "ladok:several-2", "uid-several-1", issued_on="2018-06-01")
    record_degree(env, "ladok:several-removed", "uid-several-2", removed=True)
    record_degree(env, "ladok:several-other", "uid-several-3")
    before = env.sandbox.request_log.count("GET", f"{API_PATH}{SCHEMA.degree.entity_set}")
    with client_for(env.sandbox) as client:
        found = DegreeTable(client, SCHEMA.degree).for_students(
            [("ladok", "uid-several-1"), ("ladok", "uid-several-2"), ("fs", "uid-several-3")]
        )
    after = env.sandbox.request_log.count("GET", f"{API_PATH}{SCHEMA.degree.entity_set}")

    assert after - before == 1
    # Student refs compare without regard to case, as Dataverse compares strings; oldest
    # first; a removed degree and another register's student are not in the answer.
    assert [d.awarded_on for d in found[("ladok", "uid-several-1")]] == [
        date(2018, 6, 1), date(2021, 6, 1)]
    assert found[("ladok", "uid-several-2")] == []
    assert found[("fs", "uid-several-3")] == []

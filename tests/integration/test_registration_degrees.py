"""The alumni rule sees degrees: read through a configured Ladok degree path, recorded in
the degree table by the Ladok degree feed, and on a person the feed made an alumnus. End to
end: registrations through the Web API, the product's function_app.py in the local host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pipeline_env import PipelineEnv, personnummer, pipeline_env
from sync_harness import SCHEMA, client_for

from plugins.core.settings import RegistrySettings, SyncSettings
from plugins.registries.ladok_feed import LadokFeedReader
from plugins.sync.degree_feed import DegreeFeed

APPROVED, NOT_APPROVED = 100000002, 100000003
ALUMNUS_CAT, STUDENT_CAT = "100000000", "100000002"
DEGREE_AND_45 = personnummer("19820202", "122")
RECORDED_AND_45 = personnummer("19820303", "123")
FEED_GRADUATE = personnummer("19820404", "124")
ONLY_45 = personnummer("19820505", "125")
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
        },
        "navet": {n: {"first_name": "Test", "last_name": "Testsson"}
                  for n in (DEGREE_AND_45, RECORDED_AND_45, FEED_GRADUATE, ONLY_45)},
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


def test_a_degree_recorded_in_the_degree_table_approves(env: PipelineEnv) -> None:
    d = SCHEMA.degree
    uid = env.sandbox.registries.ladok.ref_of(RECORDED_AND_45)
    response = env.dv.post(d.entity_set, json={
        d.key: "ladok:recorded-by-the-feed", d.name: "Filosofie magisterexamen",
        d.title_sv: "Filosofie magisterexamen", d.issued_on: "2020-01-15",
        d.student_ref: uid, d.source: "ladok", d.removed: False,
    })
    assert response.status_code == 204, response.text
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

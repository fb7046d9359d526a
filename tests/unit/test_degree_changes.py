"""Degree events folded per certificate, and the study information on the person (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from plugins.core.schema_map import SchemaMap
from plugins.registration.eligibility import AlumniRule, Criterion, evaluate, with_degrees
from plugins.registration.study import degree_rows, study_columns
from plugins.registries.degree_events import DegreeEvent, DegreeEventKind, DegreeTitle
from plugins.registries.models import (
    Degree,
    Enrolment,
    Programme,
    RegistryName,
    RegistryPerson,
    StudyFacts,
)
from plugins.sync.degree_changes import degree_row, fold

SCHEMA = SchemaMap()
PERSON = "5e1f0000-0000-4000-8000-000000000001"
D, C = SCHEMA.degree, SCHEMA.contact
ISSUED = DegreeEvent(kind=DegreeEventKind.ISSUED, certificate="c1", student="s1",
                     title_ref="t1", issued_on=date(2019, 6, 14), credits=Decimal(180))
TITLES = {"t1": DegreeTitle(code="K1", sv="Kandidatexamen", en="Bachelor")}


def test_issued_then_removed_in_one_run_is_written_once_removed() -> None:
    removed = DegreeEvent(kind=DegreeEventKind.REMOVED, certificate="c1")
    [change] = fold([ISSUED, removed])
    assert (change.student, change.record, change.removed) == ("s1", ISSUED, True)
    key, values = degree_row(change, "ladok", TITLES, D, "contacts", None)
    assert key == "ladok:c1"
    assert (values[D.removed], values[D.title_sv], values[D.student_ref]) == (
        True, "Kandidatexamen", "s1")


def test_a_correction_replaces_and_a_move_keeps_the_record() -> None:
    corrected = ISSUED.model_copy(update={"kind": DegreeEventKind.CORRECTED,
                                          "issued_on": date(2019, 6, 20)})
    moved = DegreeEvent(kind=DegreeEventKind.MOVED, certificate="c1", student="s2")
    [change] = fold([ISSUED, corrected, moved])
    assert (change.student, change.record, change.removed) == ("s2", corrected, False)
    _, values = degree_row(change, "ladok", TITLES, D, "contacts", PERSON)
    assert values[D.issued_on] == date(2019, 6, 20)
    assert values[f"{D.person_nav}@odata.bind"] == f"/contacts({PERSON})"


def test_a_move_alone_says_nothing_about_removal() -> None:
    [change] = fold([DegreeEvent(kind=DegreeEventKind.MOVED, certificate="c9", student="s2")])
    _, values = degree_row(change, "ladok", TITLES, D, "contacts", None)
    assert D.removed not in values and D.title_sv not in values


def test_recorded_degrees_make_the_rule_hold_and_count_once() -> None:
    rule = AlumniRule(any_of=(Criterion(kind="degree_awarded"),
                              Criterion(kind="min_credits", credits=Decimal(60))))
    study = StudyFacts(credits=Decimal(45))
    assert not evaluate(rule, study, self_declared=False, today=date(2025, 1, 1)).eligible
    degree = Degree(title="Kandidatexamen", key="c1", awarded_on=date(2019, 6, 14))
    merged = with_degrees(study, [degree, degree.model_copy()])
    result = evaluate(rule, merged, self_declared=False, today=date(2025, 1, 1))
    assert result.eligible and result.evidence == ("degree 'Kandidatexamen' awarded 2019-06-14",)
    again = with_degrees(merged, [degree])
    assert again is not None and len(again.degrees) == 1
    assert rule.uses("degree_awarded") and not rule.uses("self_declared")


def test_study_columns_and_degree_rows_of_a_student() -> None:
    student = RegistryPerson(
        source=RegistryName.FS, national_id="09052400284", registry_ref="100001",
        study=StudyFacts(
            programmes=(Programme(code="MAMN", name="Matematikk", start=date(2014, 8, 15),
                                  end=date(2019, 6, 20)),),
            enrolments=(Enrolment(code="MAT101", start=date(2013, 8, 15),
                                  end=date(2013, 12, 20)),),
            degrees=(Degree(title="Master i matematikk", code="MAMN",
                            awarded_on=date(2020, 6, 20)),),
            credits=Decimal(120),
        ),
    )
    columns = study_columns(student, C)
    assert columns == {C.student_ref: "100001", C.study_programmes: "MAMN Matematikk",
                       C.first_study_year: 2013, C.last_study_year: 2020,
                       C.study_credits: Decimal(120)}
    [(key, values)] = degree_rows(student, D)
    assert key == "fs:100001/MAMN/2020-06-20"
    assert (values[D.source], values[D.title_sv]) == ("fs", "Master i matematikk")
    assert study_columns(None, C) == {} and degree_rows(None, D) == []

"""The decision as the office reads it: explanation, readable evidence, task (pure)."""

from __future__ import annotations

import pytest

from plugins.registration.decision import (
    Decision,
    Eligibility,
    Facts,
    Reason,
    RegistryAnswer,
    decide,
    decide_admin,
)
from plugins.registration.matching import ConflictReason, Match, MatchKind
from plugins.registration.model import Category, Person, Registration, Status
from plugins.registration.registry_facts import Registries
from plugins.registration.review_text import (
    LANGUAGES,
    OfficeLanguage,
    evidence_lines,
    explanation,
    review_task_text,
)

NID = "199001012384"
REG = Registration(id="r1", first_name="Ada", last_name="Lovelace", email="ada@example.org",
                   national_id=NID)
STUDENT = Person(id="p1", national_id=NID, emails=("ada@example.org",),
                 categories=frozenset({Category.STUDENT}))
NOT_HELD = Eligibility(eligible=False, rule="degree awarded", evidence=("no degree awarded",))


def matched_student() -> Decision:
    match = Match(kind=MatchKind.ONE, person=STUDENT, matched_by=("national_id", "email"),
                  candidate_ids=("p1",))
    return decide(Facts(registration=REG, match=match))


def test_matched_person_evidence_says_how_and_which_categories() -> None:
    d = matched_student()
    assert evidence_lines(d, "en") == (
        "Status: Not approved",
        "Matched by: identity number and e-mail address",
        "The person's categories: Student",
    )
    assert evidence_lines(d, "sv") == (
        "Status: Ej godkänd",
        "Matchad på: personnummer och e-postadress",
        "Personens kategorier: Student",
    )
    assert evidence_lines(d, "nb")[1] == "Matchet på: fødselsnummer og e-postadresse"


def test_registry_answer_and_the_part_of_the_rule_that_decided() -> None:
    d = decide(Facts(registration=REG, match=Match(kind=MatchKind.NONE),
                     registry=RegistryAnswer.FOUND, registry_source="ladok, navet",
                     eligibility=NOT_HELD))
    assert evidence_lines(d, "sv")[1:] == (
        "Register: personen är känd av ladok, navet",
        "Alumnregel: degree awarded: uppfylls inte",
        "Det regeln byggde på: no degree awarded",
    )
    held = decide(Facts(registration=REG, match=Match(kind=MatchKind.NONE),
                        registry=RegistryAnswer.FOUND, registry_source="ladok",
                        eligibility=Eligibility(eligible=True, rule="degree awarded",
                                                evidence=("degree 'MSc' awarded 2015-06-10",))))
    assert "Alumni rule: degree awarded: holds" in evidence_lines(held, "en")


@pytest.mark.parametrize(
    ("answer", "sv"),
    [
        (RegistryAnswer.NOT_ASKED, "Register: inte tillfrågade: inget personnummer angavs"),
        (RegistryAnswer.NOT_CONFIGURED,
         "Register: inte tillfrågade: inget register är konfigurerat"),
        (RegistryAnswer.NOT_FOUND, "Register: inget register känner personen"),
    ],
)
def test_why_no_registry_knows_the_person_is_told_apart(answer: RegistryAnswer, sv: str) -> None:
    d = decide(Facts(registration=REG, match=Match(kind=MatchKind.NONE), registry=answer))
    assert sv in evidence_lines(d, "sv")


def test_registries_not_configured_is_not_called_no_identity_number() -> None:
    assert Registries().ask(NID).answer is RegistryAnswer.NOT_CONFIGURED
    assert Registries().ask(None).answer is RegistryAnswer.NOT_CONFIGURED


def test_validation_problems_are_translated_and_unknown_ones_kept() -> None:
    d = decide(Facts(registration=REG, problems=(
        "the first name is missing",
        "the identity number is not a valid SE number (bad-checksum)",
        "something new",
    )))
    assert evidence_lines(d, "nb")[1] == (
        "Feil i registreringen: fornavn mangler; fødselsnummeret er ikke et gyldig SE-nummer "
        "(bad-checksum); something new"
    )


def test_conflict_is_told_in_words() -> None:
    d = decide(Facts(registration=REG, match=Match(
        kind=MatchKind.CONFLICT, conflict=ConflictReason.SEVERAL_BY_EMAIL,
        candidate_ids=("p1", "p2"))))
    assert evidence_lines(d, "en")[1:] == (
        "Conflict: several people share the e-mail address",
        "People compared: 2",
    )


STARTS = {"sv": "Ej godkänd. ", "nb": "Ikke godkjent. ", "en": "English text."}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_an_explanation_in_every_language(
    language: OfficeLanguage, reason: Reason
) -> None:
    d = Decision(status=Status.NOT_APPROVED, reason=reason, explanation="English text.")
    text = explanation(d, language)
    if language == "en":
        assert text == "English text."
    else:
        assert text.startswith(STARTS[language]) and len(text) > len(STARTS[language])


def test_english_keeps_the_decisions_own_explanation_and_others_translate() -> None:
    d = matched_student()
    assert explanation(d, "en") == d.explanation
    assert explanation(d, "sv").startswith("Ej godkänd. Personen fanns redan")
    approved = decide_admin(REG.model_copy(update={"status": Status.APPROVED_MANUALLY}), STUDENT)
    assert explanation(approved, "nb").startswith("En administrator godkjente")


def test_review_task_in_the_office_language() -> None:
    text = review_task_text(matched_student(), "Ada Lovelace", "sv")
    assert text.subject == "Granska alumnregistrering: Ada Lovelace"
    assert text.description.startswith("Ej godkänd. Personen fanns redan")
    assert "\n\nStatus: Ej godkänd\nMatchad på: personnummer och e-postadress" in (
        text.description
    )
    assert NID not in text.description and "{" not in text.description

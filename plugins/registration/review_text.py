"""The decision as the alumni office reads it, in the office's language (pure).

The decision itself (:mod:`plugins.registration.decision`) explains in English and keeps its
evidence as data. The office reads Swedish, Norwegian (bokmål) or English: this module turns
a decision into the explanation written on the registration, the evidence as readable lines
(how the person was matched, what each registry said, which part of the alumni rule held)
and the review task's subject and description. English keeps the decision's own
explanation word for word.

Texts that come from elsewhere as free text (the alumni rule's description and the study
facts it rested on) are quoted as they are; the known validation problems are translated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .decision import Decision, Reason, RegistryAnswer
from .matching import ConflictReason
from .model import SWEDISH_NAMES, Category, Status

OfficeLanguage = Literal["sv", "nb", "en"]
LANGUAGES: tuple[OfficeLanguage, ...] = ("sv", "nb", "en")

STATUS_NAMES: dict[OfficeLanguage, Mapping[Status, str]] = {
    "sv": SWEDISH_NAMES,
    "nb": {
        Status.RECEIVED: "Mottatt",
        Status.APPROVED_REGISTERED_ALUMNUS: "Godkjent som registrert alumn",
        Status.APPROVED_ALUMNUS: "Godkjent som alumn",
        Status.NOT_APPROVED: "Ikke godkjent",
        Status.APPROVED_MANUALLY: "Godkjent manuelt",
        Status.DENIED: "Avslått",
        Status.UNREGISTERED: "Avregistrert",
    },
    "en": {
        Status.RECEIVED: "Received",
        Status.APPROVED_REGISTERED_ALUMNUS: "Approved (registered alumnus)",
        Status.APPROVED_ALUMNUS: "Approved (alumnus)",
        Status.NOT_APPROVED: "Not approved",
        Status.APPROVED_MANUALLY: "Approved manually",
        Status.DENIED: "Denied",
        Status.UNREGISTERED: "Unregistered",
    },
}

_CATEGORIES: dict[OfficeLanguage, Mapping[Category, str]] = {
    "sv": {
        Category.ALUMNUS: "Alumn",
        Category.REGISTERED_ALUMNUS: "Registrerad alumn",
        Category.STUDENT: "Student",
        Category.STAFF: "Personal",
        Category.MEMBER: "Medlem",
    },
    "nb": {
        Category.ALUMNUS: "Alumn",
        Category.REGISTERED_ALUMNUS: "Registrert alumn",
        Category.STUDENT: "Student",
        Category.STAFF: "Ansatt",
        Category.MEMBER: "Medlem",
    },
    "en": {
        Category.ALUMNUS: "Alumnus",
        Category.REGISTERED_ALUMNUS: "Registered alumnus",
        Category.STUDENT: "Student",
        Category.STAFF: "Staff",
        Category.MEMBER: "Member",
    },
}

# What each reason means, said to the office (sv, nb); English uses the decision's own text.
_SUMMARIES: dict[Reason, tuple[str, str]] = {
    Reason.INVALID_REGISTRATION: (
        "Registreringen kan inte kontrolleras automatiskt eftersom uppgifter saknas eller är "
        "felaktiga. Den väntar på manuell granskning; inget annat har ändrats.",
        "Registreringen kan ikke kontrolleres automatisk fordi opplysninger mangler eller er "
        "feil. Den venter på manuell vurdering; ingenting annet er endret.",
    ),
    Reason.MATCH_CONFLICT: (
        "Matchningen gav en konflikt; registreringen är inte kopplad till någon person och "
        "väntar på manuell granskning.",
        "Matchingen ga en konflikt; registreringen er ikke koblet til noen person og venter "
        "på manuell vurdering.",
    ),
    Reason.MATCHED_REGISTERED_ALUMNUS: (
        "Personen fanns redan som registrerad alumn; uppgifterna uppdaterades från "
        "registreringen.",
        "Personen fantes allerede som registrert alumn; opplysningene ble oppdatert fra "
        "registreringen.",
    ),
    Reason.MATCHED_ALUMNUS: (
        "Personen fanns redan med kategorin Alumn och är nu registrerad alumn.",
        "Personen fantes allerede med kategorien Alumn og er nå registrert alumn.",
    ),
    Reason.MATCHED_NOT_ALUMNUS: (
        "Personen fanns redan men har varken kategorin Alumn eller Registrerad alumn. "
        "Registreringen väntar på manuell granskning (den är inte avslagen).",
        "Personen fantes allerede, men har verken kategorien Alumn eller Registrert alumn. "
        "Registreringen venter på manuell vurdering (den er ikke avslått).",
    ),
    Reason.CREATED_ALUMNUS: (
        "Ingen befintlig person matchade. Registren känner personen och alumnregeln uppfylls; "
        "personen skapades som registrerad alumn.",
        "Ingen eksisterende person passet. Registrene kjenner personen og alumniregelen er "
        "oppfylt; personen ble opprettet som registrert alumn.",
    ),
    Reason.CREATED_SELF_DECLARED: (
        "Ingen befintlig person matchade och inget register känner personen, men lärosätet "
        "godtar att personen själv uppger sig vara alumn; personen skapades från formuläret.",
        "Ingen eksisterende person passet og ingen registre kjenner personen, men "
        "institusjonen godtar egenerklæring som alumn; personen ble opprettet fra skjemaet.",
    ),
    Reason.CREATED_NOT_ALUMNUS: (
        "Ingen befintlig person matchade. Registren känner personen men alumnregeln uppfylls "
        "inte; personen skapades och registreringen väntar på manuell granskning.",
        "Ingen eksisterende person passet. Registrene kjenner personen, men alumniregelen er "
        "ikke oppfylt; personen ble opprettet og registreringen venter på manuell vurdering.",
    ),
    Reason.UNKNOWN_TO_REGISTRIES: (
        "Ingen befintlig person matchade och inget register känner personen; personen skapades "
        "från formuläret och registreringen väntar på manuell granskning.",
        "Ingen eksisterende person passet og ingen registre kjenner personen; personen ble "
        "opprettet fra skjemaet og registreringen venter på manuell vurdering.",
    ),
    Reason.UNREGISTERED: (
        "Alumnen avregistrerade sig och valde att avsluta medlemskapet; Registrerad alumn "
        "togs bort och personen får inga alumnutskick.",
        "Alumnen avregistrerte seg og valgte å avslutte medlemskapet; Registrert alumn ble "
        "fjernet og personen får ingen alumniutsendelser.",
    ),
    Reason.COMMUNICATION_WITHDRAWN: (
        "Alumnen avregistrerade sig utan att avsluta medlemskapet; personen finns kvar men "
        "får inga alumnutskick.",
        "Alumnen avregistrerte seg uten å avslutte medlemskapet; personen er fortsatt "
        "registrert, men får ingen alumniutsendelser.",
    ),
    Reason.UNREGISTRATION_NO_PERSON: (
        "En avregistrering kom in men ingen person matchar den; den väntar på manuell "
        "granskning.",
        "En avregistrering kom inn, men ingen person passer; den venter på manuell vurdering.",
    ),
    Reason.ERASED_PERSON: (
        "Personnumret tillhör en person som raderats på egen begäran (GDPR). Ingen person "
        "skapades och inget register tillfrågades; en administratör avgör för hand.",
        "Fødselsnummeret tilhører en person som er slettet på egen forespørsel (GDPR). Ingen "
        "person ble opprettet og ingen registre ble spurt; en administrator avgjør manuelt.",
    ),
    Reason.ADMIN_APPROVED: (
        "En administratör godkände registreringen; personen är registrerad alumn och "
        "granskningsuppgiften är stängd.",
        "En administrator godkjente registreringen; personen er registrert alumn og "
        "vurderingsoppgaven er lukket.",
    ),
    Reason.ADMIN_DENIED: (
        "En administratör nekade registreringen; personen är oförändrad och "
        "granskningsuppgiften är stängd.",
        "En administrator avslo registreringen; personen er uendret og vurderingsoppgaven er "
        "lukket.",
    ),
    Reason.ALREADY_PROCESSED: (
        "Registreringen är redan behandlad.",
        "Registreringen er allerede behandlet.",
    ),
}

_LABELS: dict[str, tuple[str, str, str]] = {
    # key: (sv, nb, en)
    "status": ("Status", "Status", "Status"),
    "problems": ("Fel i registreringen", "Feil i registreringen", "Problems found"),
    "conflict": ("Konflikt", "Konflikt", "Conflict"),
    "candidates": ("Personer som jämfördes", "Personer som ble sammenlignet",
                   "People compared"),
    "matched_by": ("Matchad på", "Matchet på", "Matched by"),
    "categories": ("Personens kategorier", "Personens kategorier", "The person's categories"),
    "registries": ("Register", "Registre", "Registries"),
    "rule": ("Alumnregel", "Alumniregel", "Alumni rule"),
    "rule_facts": ("Det regeln byggde på", "Det regelen bygget på", "What the rule rested on"),
    "none": ("inga", "ingen", "none"),
    "and": ("och", "og", "and"),
}

_MATCHED_BY: dict[str, tuple[str, str, str]] = {
    "email": ("e-postadress", "e-postadresse", "e-mail address"),
    "national_id": ("personnummer", "fødselsnummer", "identity number"),
}

_CONFLICTS: dict[ConflictReason, tuple[str, str, str]] = {
    ConflictReason.ID_AND_EMAIL_DISAGREE: (
        "personnumret och e-postadressen pekar på olika personer",
        "fødselsnummeret og e-postadressen peker på ulike personer",
        "the identity number and the e-mail address point at different people",
    ),
    ConflictReason.SEVERAL_BY_EMAIL: (
        "flera personer har samma e-postadress",
        "flere personer har samme e-postadresse",
        "several people share the e-mail address",
    ),
    ConflictReason.EMAIL_OWNER_HAS_OTHER_ID: (
        "e-postadressen tillhör en person med ett annat personnummer",
        "e-postadressen tilhører en person med et annet fødselsnummer",
        "the e-mail address belongs to a person with another identity number",
    ),
}

_REGISTRY_ANSWERS: dict[RegistryAnswer, tuple[str, str, str]] = {
    RegistryAnswer.FOUND: ("personen är känd av {source}", "personen er kjent av {source}",
                           "the person is known to {source}"),
    RegistryAnswer.NOT_FOUND: ("inget register känner personen",
                               "ingen registre kjenner personen",
                               "no registry knows the person"),
    RegistryAnswer.NOT_ASKED: ("inte tillfrågade: inget personnummer angavs",
                               "ikke spurt: ingen fødselsnummer ble oppgitt",
                               "not asked: no identity number was given"),
    RegistryAnswer.NOT_CONFIGURED: ("inte tillfrågade: inget register är konfigurerat",
                                    "ikke spurt: ingen registre er konfigurert",
                                    "not asked: no registry is configured"),
}

_RULE_VERDICT: dict[bool, tuple[str, str, str]] = {
    True: ("uppfylls", "er oppfylt", "holds"),
    False: ("uppfylls inte", "er ikke oppfylt", "does not hold"),
}

# The validation problems (plugins.registration.validation), as patterns with sv/nb texts.
_PROBLEMS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"the first name is missing"), "förnamn saknas", "fornavn mangler"),
    (re.compile(r"the last name is missing"), "efternamn saknas", "etternavn mangler"),
    (re.compile(r"the e-mail address is missing"), "e-postadress saknas",
     "e-postadresse mangler"),
    (re.compile(r"the e-mail address is not a valid address"),
     "e-postadressen är inte en giltig adress", "e-postadressen er ikke en gyldig adresse"),
    (re.compile(r"the identity number is missing"), "personnummer saknas",
     "fødselsnummer mangler"),
    (re.compile(r"the identity number is not a valid (\w+) number \((.+)\)"),
     r"personnumret är inte ett giltigt \1-nummer (\2)",
     r"fødselsnummeret er ikke et gyldig \1-nummer (\2)"),
    (re.compile(r"an unregistration needs an e-mail address or an identity number"),
     "en avregistrering behöver e-postadress eller personnummer",
     "en avregistrering trenger e-postadresse eller fødselsnummer"),
)

_TASK_SUBJECT = {
    "sv": "Granska alumnregistrering: {name}",
    "nb": "Vurder alumniregistrering: {name}",
    "en": "Review alumni registration: {name}",
}

_RULE_HELD = {Reason.CREATED_ALUMNUS, Reason.CREATED_SELF_DECLARED}


@dataclass(frozen=True)
class ReviewTaskText:
    """The review task's subject and description."""

    subject: str
    description: str


def _pick(texts: tuple[str, str, str], language: OfficeLanguage) -> str:
    return texts[LANGUAGES.index(language)]


def status_name(status: Status, language: OfficeLanguage) -> str:
    """The office's name of a registration status."""
    return STATUS_NAMES[language][status]


def explanation(decision: Decision, language: OfficeLanguage) -> str:
    """The decision's explanation in the office's language (English: the decision's own)."""
    if language == "en":
        return decision.explanation
    sv, nb = _SUMMARIES[decision.reason]
    summary = sv if language == "sv" else nb
    if decision.status is None:
        return summary
    return f"{status_name(decision.status, language)}. {summary}"


def evidence_lines(decision: Decision, language: OfficeLanguage) -> tuple[str, ...]:
    """The evidence of ``decision`` as lines a person reads ("Matched by: e-mail address")."""
    evidence = decision.evidence
    lines: list[str] = []
    if decision.status is not None:
        lines.append(_line("status", status_name(decision.status, language), language))
    problems = evidence.get("problems")
    if problems:
        lines.append(_line("problems", "; ".join(_problem(p, language) for p in problems),
                           language))
    if "conflict" in evidence:
        lines.append(_line("conflict", _conflict(str(evidence["conflict"]), language), language))
    if evidence.get("candidates") is not None:
        lines.append(_line("candidates", str(len(evidence["candidates"])), language))
    if evidence.get("matched_by"):
        how = [_pick(_MATCHED_BY[m], language) if m in _MATCHED_BY else str(m)
               for m in evidence["matched_by"]]
        lines.append(_line("matched_by", _joined(how, language), language))
    if "categories" in evidence:
        lines.append(_line("categories", _categories(evidence["categories"], language),
                           language))
    if "registry" in evidence:
        lines.append(_line("registries", _registries(evidence, language), language))
    if evidence.get("rule"):
        verdict = _pick(_RULE_VERDICT[decision.reason in _RULE_HELD], language)
        lines.append(_line("rule", f"{evidence['rule']}: {verdict}", language))
    if evidence.get("rule_evidence"):
        lines.append(_line("rule_facts", "; ".join(map(str, evidence["rule_evidence"])),
                           language))
    return tuple(lines)


def evidence_text(decision: Decision, language: OfficeLanguage) -> str:
    """:func:`evidence_lines` as one text, a line each."""
    return "\n".join(evidence_lines(decision, language))


def review_task_text(
    decision: Decision, person_name: str, language: OfficeLanguage
) -> ReviewTaskText:
    """The review task for ``decision``: who it is about, why, and the readable evidence."""
    description = explanation(decision, language)
    lines = evidence_lines(decision, language)
    if lines:
        description += "\n\n" + "\n".join(lines)
    return ReviewTaskText(
        subject=_TASK_SUBJECT[language].format(name=person_name), description=description
    )


def _line(label: str, value: str, language: OfficeLanguage) -> str:
    return f"{_pick(_LABELS[label], language)}: {value}"


def _joined(parts: Sequence[str], language: OfficeLanguage) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {_pick(_LABELS['and'], language)} {parts[-1]}"


def _problem(problem: str, language: OfficeLanguage) -> str:
    if language == "en":
        return problem
    for pattern, sv, nb in _PROBLEMS:
        if pattern.fullmatch(problem):
            return pattern.sub(sv if language == "sv" else nb, problem)
    return problem


def _conflict(conflict: str, language: OfficeLanguage) -> str:
    try:
        return _pick(_CONFLICTS[ConflictReason(conflict)], language)
    except ValueError:
        return conflict


def _categories(values: Any, language: OfficeLanguage) -> str:
    names = []
    for value in values or ():
        try:
            names.append(_CATEGORIES[language][Category(value)])
        except ValueError:
            names.append(str(value))
    return ", ".join(names) if names else _pick(_LABELS["none"], language)


def _registries(evidence: Mapping[str, Any], language: OfficeLanguage) -> str:
    try:
        answer = RegistryAnswer(evidence["registry"])
    except ValueError:
        return str(evidence["registry"])
    return _pick(_REGISTRY_ANSWERS[answer], language).format(
        source=evidence.get("registry_source") or _pick(("registren", "registrene",
                                                         "the registries"), language)
    )

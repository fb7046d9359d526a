"""The change set that writes a decision back to Dataverse (pure: it only builds requests).

Everything one decision changes goes into ONE ``$batch`` change set, so it is written
completely or not at all. In order:

1. the person: created with a create-only upsert on the identity-number alternate key
   (``If-None-Match: *``: a concurrent registration of the same new person makes it fail with
   412 instead of creating a second person), or, when no number is known, with a create-only
   upsert on the normalised e-mail key (one person per address); or the matched person
   updated with only the columns that differ, conditional on its ETag. A matched person's
   details, e-mail addresses, preferences and consent change only when the registration
   proves control of the person (:func:`~plugins.registration.decision.proves_control`);
   otherwise they are kept on the registration as proposed changes (field -> offered value);
2. the registration: status, reason code, explanation, evidence (compact JSON), processed-on
   and the link to the person (``$n`` when the person is created in this change set),
   conditional on the ETag it had when it was read, so a duplicate delivery processed at the
   same time fails with 412 and writes nothing;
3. the review task for a registration that waits for manual review;
4. for an unregistration that ends the membership, the person's other registrations set to
   Unregistered.

:func:`plan_admin_followup` does the same for an administrator's decision: the person's
category and the closing of the open review tasks. A plan is None when nothing differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plugins.core.schema_map import ContactMap, SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.batch import BatchRequest, ChangeSet, ContentRef
from plugins.identity import normalise_email
from plugins.registries.models import RegistryPerson
from plugins.sync.enrichment import enrichment_patch

from .decision import Decision, PersonAction, Reason, TaskAction
from .model import Kind, Registration, Status
from .records import (
    ContactRecord,
    RegistrationRecord,
    TaskRecord,
    choice_numbers,
    choice_text,
    parse_datetime,
)
from .review_text import OfficeLanguage, evidence_text, explanation, review_task_text
from .study import degree_rows, study_columns

EXPLANATION_LIMIT = 4000
EVIDENCE_LIMIT = 100_000
TASK_SUBJECT_LIMIT = 200
TASK_DESCRIPTION_LIMIT = 2000
CREATES = (PersonAction.CREATE_FROM_REGISTRY, PersonAction.CREATE_FROM_REGISTRATION)


@dataclass(frozen=True)
class WriteOptions:
    """How to write: the schema map, the time, who owns review tasks by when, and the
    language the office reads explanations, evidence and tasks in."""

    schema: SchemaMap
    now: datetime
    review_team_id: str | None = None
    task_due_days: int = 5
    language: OfficeLanguage = "en"


@dataclass(frozen=True)
class Subject:
    """What the decision was about, as it was read."""

    record: RegistrationRecord
    national_id: str | None = None
    person: ContactRecord | None = None
    registry_person: RegistryPerson | None = None
    student: RegistryPerson | None = None


def plan_decision(
    decision: Decision,
    subject: Subject,
    options: WriteOptions,
    batch: BatchRequest | None = None,
) -> BatchRequest | None:
    """The change set for a decision on a registration (None when the status is kept),
    added to ``batch`` (where other registrations' change sets may be) or to a new one."""
    if decision.status is None:
        return None
    batch = batch if batch is not None else BatchRequest()
    changes = batch.changeset()
    person = _write_person(changes, decision, subject, options)
    if person is not None and decision.person in (*CREATES, PersonAction.UPDATE):
        _write_degrees(changes, person, subject, options)
    registration = subject.record.registration
    m = options.schema.registration
    changes.update(
        odata.entity_path(m.entity_set, registration.id),
        {
            **_decision_columns(decision, options),
            **_person_link(person, subject.record, options),
            **_proposal_column(decision, subject, options),
        },
        if_match=subject.record.etag or "*",
    )
    if decision.task is TaskAction.OPEN:
        task = _review_task(decision, registration, options)
        changes.create(options.schema.task.entity_set, task)
    if decision.unregister_other_registrations:
        _unregister_others(changes, subject, options)
    return batch


def plan_admin_followup(
    decision: Decision,
    record: RegistrationRecord,
    person: ContactRecord | None,
    open_tasks: tuple[TaskRecord, ...],
    options: WriteOptions,
) -> BatchRequest | None:
    """The change set after an administrator's decision (None when all is already done,
    or when the status is not an administrator's decision at all)."""
    if not decision.changes_anything:
        return None
    batch = BatchRequest()
    changes = batch.changeset()
    c = options.schema.contact
    if decision.person is PersonAction.UPDATE and person is not None:
        category = _category_change(decision, person, c)
        if category:
            changes.update(
                odata.entity_path(c.entity_set, person.person.id),
                category,
                if_match=person.etag or "*",
            )
    if decision.task is TaskAction.CLOSE:
        t = options.schema.task
        for task in open_tasks:
            changes.update(
                odata.entity_path(t.entity_set, task.id),
                {t.state: t.completed_state, t.status: t.completed_status},
                if_match=task.etag or "*",
            )
    m = options.schema.registration
    if record.row.get(m.reason) != decision.reason.value:
        changes.update(
            odata.entity_path(m.entity_set, record.registration.id),
            _decision_columns(decision, options),
            if_match=record.etag or "*",
        )
    return batch if changes.operations else None


# ------------------------------------------------------------------------ registration


def _decision_columns(decision: Decision, options: WriteOptions) -> dict[str, Any]:
    m = options.schema.registration
    columns: dict[str, Any] = {
        m.reason: decision.reason.value,
        m.explanation: _clip(explanation(decision, options.language), EXPLANATION_LIMIT),
        m.evidence: _clip(compact_json(decision.evidence), EVIDENCE_LIMIT),
        m.evidence_text: _clip(evidence_text(decision, options.language), EXPLANATION_LIMIT),
        m.processed_on: options.now,
    }
    if decision.status is not None:
        columns[m.status] = m.status_values[decision.status]
    return columns


def _person_link(
    person: ContentRef | str | None, record: RegistrationRecord, options: WriteOptions
) -> dict[str, Any]:
    m = options.schema.registration
    if person is None or person == record.registration.person_id:
        return {}
    target = person.bind if isinstance(person, ContentRef) else odata.bind(
        options.schema.contact.entity_set, person
    )
    return {f"{m.person_nav}@odata.bind": target}


def compact_json(value: Any) -> str:
    """JSON without spaces, keys sorted (what the evidence column holds)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------ person


def _write_person(
    changes: ChangeSet, decision: Decision, subject: Subject, options: WriteOptions
) -> ContentRef | str | None:
    """Add the person's create or update; the person to link the registration to."""
    c = options.schema.contact
    if decision.person in CREATES:
        body = _new_person(decision, subject, options)
        email_key = body.get(c.email_key)
        if subject.national_id is None and email_key is None:
            return changes.create(c.entity_set, body)
        # The body carries the other key's column too: a person created meanwhile under
        # either key makes this create fail (412) and the registration is decided again.
        key = (
            {c.national_id: subject.national_id}
            if subject.national_id is not None
            else {c.email_key: email_key}
        )
        return changes.upsert(odata.entity_path(c.entity_set, key), body, create_only=True)
    if decision.person_id is None:
        return None
    if decision.person is PersonAction.UPDATE and subject.person is not None:
        differences = _person_differences(decision, subject, options)
        if differences:
            changes.update(
                odata.entity_path(c.entity_set, decision.person_id),
                differences,
                if_match=subject.person.etag or "*",
            )
    return decision.person_id


def _new_person(decision: Decision, subject: Subject, options: WriteOptions) -> dict[str, Any]:
    """The columns of a person created from the registration (and the registries).

    The identity number is not among them: it is the key the person is created by.
    """
    c = options.schema.contact
    registration = subject.record.registration
    body: dict[str, Any] = {
        c.first_name: registration.first_name,
        c.last_name: registration.last_name,
        c.emails[0]: registration.email,
        c.phone: registration.phone,
        c.email_key: normalise_email(registration.email),
        c.email_confirmation: (
            c.email_confirmation_values["unconfirmed"] if registration.email else None
        ),
        c.categories: c.categories_text(decision.add_categories),
        **_preferences(registration, options),
        **_consent(registration, c),
    }
    if decision.stop_communication:
        body[c.no_communication] = True
    if subject.registry_person is not None:
        body.update(enrichment_patch(subject.registry_person, {}, options.now, c))
    body.update(study_columns(subject.student, c))
    return {column: value for column, value in body.items() if value is not None}


def _write_degrees(
    changes: ChangeSet, person: ContentRef | str, subject: Subject, options: WriteOptions
) -> None:
    """The student's degrees into the degree table, linked to the person."""
    d = options.schema.degree
    target = person.bind if isinstance(person, ContentRef) else odata.bind(
        options.schema.contact.entity_set, person
    )
    for key, values in degree_rows(subject.student, d):
        changes.upsert(
            odata.entity_path(d.entity_set, {d.key: key}),
            {**values, f"{d.person_nav}@odata.bind": target},
        )


def _person_differences(
    decision: Decision, subject: Subject, options: WriteOptions
) -> dict[str, Any]:
    """The columns of the matched person that the decision and the registration change."""
    person = subject.person
    if person is None:
        return {}
    c = options.schema.contact
    row = person.row
    changes = _category_change(decision, person, c)
    if decision.stop_communication and not row.get(c.no_communication):
        changes[c.no_communication] = True
    registration = subject.record.registration
    # Study facts come from the student register, not from the registrant: no proof needed.
    changes.update(_differing(row, study_columns(subject.student, c), c))
    if registration.kind is Kind.REGISTRATION and decision.apply_details:
        changes.update(offered_changes(registration, subject, options))
    return changes


def offered_changes(
    registration: Registration, subject: Subject, options: WriteOptions
) -> dict[str, Any]:
    """The contact columns the registration's details, addresses, preferences and consent
    would change on the matched person (empty when nobody is matched)."""
    person = subject.person
    if person is None:
        return {}
    c = options.schema.contact
    row = person.row
    changes = _detail_differences(registration, subject, c, row)
    changes.update(_differing(row, _preferences(registration, options), c))
    consent = _consent(registration, c)
    # A consent is one unit: a new version or time rewrites its source too.
    given = {k: v for k, v in consent.items() if k != c.consent_source}
    if _differing(row, given, c):
        changes.update(consent)
    if c.emails[0] in changes:
        changes[c.email_key] = normalise_email(changes[c.emails[0]])
    return changes


def proposed_changes(
    registration: Registration, subject: Subject, options: WriteOptions
) -> dict[str, Any]:
    """What the registration offers to change on the matched person, as field -> value
    (JSON-ready): what the office sees and the person confirms."""
    columns = offered_changes(registration, subject, options)
    c = options.schema.contact
    fields: dict[str, Any] = {}
    plain = {
        "first_name": (c.first_name, registration.first_name),
        "last_name": (c.last_name, registration.last_name),
        "phone": (c.phone, registration.phone),
        "national_id": (c.national_id, subject.national_id),
        "topics": (c.topics, sorted(registration.topics)),
        "channels": (c.channels, sorted(registration.channels)),
    }
    for name, (column, value) in plain.items():
        if column in columns:
            fields[name] = value
    if any(column in columns for column in c.emails):
        fields["email"] = registration.email
    if c.consent_version in columns or c.consent_on in columns:
        fields["consent_version"] = registration.consent_version
        given = columns.get(c.consent_on)
        fields["consent_on"] = given.isoformat() if isinstance(given, datetime) else None
    return fields


def confirmed_changes(
    proposal: Mapping[str, Any], registration_id: str, person: ContactRecord,
    options: WriteOptions,
) -> dict[str, Any]:
    """The contact columns to write when the person confirms ``proposal`` (as
    :func:`proposed_changes` made it), against the person as they are now.

    Raises ValueError when the proposal is not of that shape.
    """
    if not isinstance(proposal, Mapping):
        raise ValueError("proposed changes are not a JSON object")
    registration = Registration.model_validate(
        {
            "id": registration_id,
            **{
                name: proposal.get(name)
                for name in ("first_name", "last_name", "email", "phone", "consent_version")
            },
            "topics": frozenset(proposal.get("topics") or ()),
            "channels": frozenset(proposal.get("channels") or ()),
            "consent_on": parse_datetime(proposal.get("consent_on")),
        }
    )
    national_id = proposal.get("national_id")
    subject = Subject(
        record=RegistrationRecord(registration=registration, row={}, etag=None),
        national_id=national_id if isinstance(national_id, str) else None,
        person=person,
    )
    return offered_changes(registration, subject, options)


def _proposal_column(
    decision: Decision, subject: Subject, options: WriteOptions
) -> dict[str, Any]:
    """The proposed-changes column of a registration whose details were not applied."""
    registration = subject.record.registration
    if (
        decision.apply_details
        or decision.person is not PersonAction.UPDATE
        or registration.kind is not Kind.REGISTRATION
    ):
        return {}
    proposal = proposed_changes(registration, subject, options)
    if not proposal:
        return {}
    return {options.schema.registration.proposed_changes: compact_json(proposal)}


def _category_change(decision: Decision, person: ContactRecord, c: ContactMap) -> dict[str, Any]:
    """The categories column, when the decision changes the person's categories."""
    categories = (person.person.categories | decision.add_categories) - decision.remove_categories
    if categories == person.person.categories:
        return {}
    return {c.categories: c.categories_text(categories)}


def _detail_differences(
    registration: Registration, subject: Subject, c: ContactMap, row: Mapping[str, Any]
) -> dict[str, Any]:
    wanted: dict[str, Any] = {
        c.first_name: registration.first_name,
        c.last_name: registration.last_name,
        c.phone: registration.phone,
    }
    if subject.person is not None and subject.person.person.national_id is None:
        wanted[c.national_id] = subject.national_id
    changes = _differing(row, {k: v for k, v in wanted.items() if v is not None}, c)
    changes.update(_email_placement(registration.email, subject, c, row))
    return changes


def _email_placement(
    email: str | None, subject: Subject, c: ContactMap, row: Mapping[str, Any]
) -> dict[str, Any]:
    """A new address becomes the primary one; the old primary moves to the first free
    secondary column (or over the last one when none is free)."""
    person = subject.person
    if email is None or person is None or normalise_email(email) in person.person.emails:
        return {}
    primary, *others = c.emails
    changes: dict[str, Any] = {primary: email}
    old = row.get(primary)
    if isinstance(old, str) and old.strip() and others:
        free = [column for column in others if not _present(row.get(column))]
        changes[free[0] if free else others[-1]] = old
    return changes


def _preferences(registration: Registration, options: WriteOptions) -> dict[str, Any]:
    """How the person asked to be kept in touch, when the form said."""
    c = options.schema.contact
    preferences = options.schema.preferences
    values: dict[str, Any] = {}
    if registration.topics:
        values[c.topics] = choice_text(registration.topics, preferences.topic_values)
    if registration.channels:
        values[c.channels] = choice_text(registration.channels, preferences.channel_values)
    return {column: value for column, value in values.items() if value is not None}


def _consent(registration: Registration, c: ContactMap) -> dict[str, Any]:
    """The consent the form recorded: version, time and where it was given."""
    if not registration.consent_version:
        return {}
    given = registration.consent_on or registration.created_on
    return {
        c.consent_version: registration.consent_version,
        **({c.consent_on: given} if given else {}),
        c.consent_source: f"registration {registration.id}",
    }


def _differing(
    row: Mapping[str, Any], wanted: Mapping[str, Any], c: ContactMap
) -> dict[str, Any]:
    multi = {c.topics, c.channels, c.categories}
    changes: dict[str, Any] = {}
    for column, value in wanted.items():
        current = row.get(column)
        if column in multi:
            same = choice_numbers(current) == choice_numbers(value)
        elif isinstance(value, datetime):
            same = parse_datetime(current) == value
        else:
            same = _plain(current) == _plain(value)
        if not same:
            changes[column] = value
    return changes


def _plain(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value


def _present(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# -------------------------------------------------------------------------------- task


def _review_task(
    decision: Decision, registration: Registration, options: WriteOptions
) -> dict[str, Any]:
    t = options.schema.task
    m = options.schema.registration
    name = " ".join(p for p in (registration.first_name, registration.last_name) if p)
    text = review_task_text(decision, name or registration.id, options.language)
    task: dict[str, Any] = {
        t.subject: _clip(text.subject, TASK_SUBJECT_LIMIT),
        t.description: _clip(text.description, TASK_DESCRIPTION_LIMIT),
        t.due: options.now + timedelta(days=options.task_due_days),
        f"{t.regarding_registration_nav}@odata.bind": odata.bind(m.entity_set, registration.id),
    }
    if options.review_team_id:
        teams = options.schema.team.entity_set
        task[f"{t.owner_nav}@odata.bind"] = odata.bind(teams, options.review_team_id)
    return task


# ------------------------------------------------------------------------ unregistration


def _unregister_others(changes: ChangeSet, subject: Subject, options: WriteOptions) -> None:
    m = options.schema.registration
    person = subject.person
    this = subject.record.registration.id
    for other in person.registrations if person else ():
        if other.id == this or other.status is Status.UNREGISTERED:
            continue
        changes.update(
            odata.entity_path(m.entity_set, other.id),
            {
                m.status: m.status_values[Status.UNREGISTERED],
                m.reason: Reason.UNREGISTERED.value,
                m.explanation: (
                    f"The membership was terminated by the person's unregistration {this}."
                ),
                m.processed_on: options.now,
            },
            if_match=other.etag or "*",
        )


"""The rows the pipeline reads, as model values plus what writing back needs (pure).

A :class:`RegistrationRecord` or :class:`ContactRecord` keeps the model value (what the
decision looks at), the row as Dataverse returned it (what the write-back compares against
to write only differences) and the row's ETag (what the write-back is conditional on).
Column names and choice numbers come from the schema map only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plugins.core.schema_map import ContactMap, DegreeMap, RegistrationMap, SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.odata import Expand
from plugins.identity import Country, normalise_email, parse_national_id

from .model import Person, Registration, Status

ETAG = "@odata.etag"


@dataclass(frozen=True)
class LinkedRegistration:
    """Another registration of a person (for an unregistration that ends the membership)."""

    id: str
    status: Status | None
    etag: str | None


@dataclass(frozen=True)
class RegistrationRecord:
    """A registration row, read back."""

    registration: Registration
    row: Mapping[str, Any]
    etag: str | None


@dataclass(frozen=True)
class ContactRecord:
    """A contact row, read back, with its registrations when they were asked for."""

    person: Person
    row: Mapping[str, Any]
    etag: str | None
    registrations: tuple[LinkedRegistration, ...] = field(default=())


@dataclass(frozen=True)
class TaskRecord:
    """An open review task."""

    id: str
    etag: str | None


def lookup_property(column: str) -> str:
    """The Web API property of a lookup column: ``mp_personid`` -> ``_mp_personid_value``."""
    return f"_{column}_value"


def registration_columns(m: RegistrationMap) -> list[str]:
    """Every registration column the pipeline reads."""
    return [
        m.id, m.kind, m.first_name, m.last_name, m.email, m.national_id, m.phone,
        m.self_declared, m.terminate_membership, m.status, m.reason, m.topics, m.channels,
        m.consent_version, m.consent_on, lookup_property(m.person), m.created_on,
        lookup_property(m.proof),
        m.office_decision,
    ]


def contact_columns(c: ContactMap) -> list[str]:
    """Every contact column matching and the write-back read."""
    return [
        c.id, c.first_name, c.last_name, *c.emails, c.phone, c.national_id, c.categories,
        c.no_communication, c.topics, c.channels, c.consent_version, c.consent_on,
        c.consent_source, c.email_key, c.student_ref, c.study_programmes, c.first_study_year,
        c.last_study_year, c.study_credits,
    ]


def registration_record(row: Mapping[str, Any], schema: SchemaMap) -> RegistrationRecord:
    """A registration row as a :class:`Registration`.

    An empty status counts as ``Received``: the status is set on every registration before
    the check, and a form that left it out has not been checked either.
    """
    m = schema.registration
    status_value = row.get(m.status)
    registration = Registration(
        id=str(row[m.id]).lower(),
        kind=m.kind_of(row.get(m.kind)),
        status=Status.RECEIVED if status_value is None else m.status_of(status_value),
        first_name=_text(row.get(m.first_name)),
        last_name=_text(row.get(m.last_name)),
        email=_text(row.get(m.email)),
        national_id=_text(row.get(m.national_id)),
        phone=_text(row.get(m.phone)),
        self_declared_alumnus=bool(row.get(m.self_declared)),
        terminate_membership=bool(row.get(m.terminate_membership)),
        topics=choice_names(row.get(m.topics), schema.preferences.topic_values),
        channels=choice_names(row.get(m.channels), schema.preferences.channel_values),
        consent_version=_text(row.get(m.consent_version)),
        consent_on=parse_datetime(row.get(m.consent_on)),
        person_id=_guid(row.get(lookup_property(m.person))),
        created_on=parse_datetime(row.get(m.created_on)),
        proof_link_id=_proof(row, schema),
        office_decision=m.status_of(row.get(m.office_decision)),
    )
    return RegistrationRecord(registration=registration, row=row, etag=row.get(ETAG))


def contact_record(
    row: Mapping[str, Any],
    schema: SchemaMap,
    country: Country,
    registrations: tuple[LinkedRegistration, ...] = (),
) -> ContactRecord:
    """A contact row as a :class:`Person` (e-mails normalised, identity number canonical)."""
    c = schema.contact
    # The e-mail key counts as an address of the person: it holds the address they were
    # created with (or their primary one), which no other person may be created with.
    keyed = (*c.emails, c.email_key)
    emails = (normalise_email(row.get(column)) for column in keyed)
    person = Person(
        id=str(row[c.id]).lower(),
        national_id=canonical_national_id(row.get(c.national_id), country),
        emails=tuple(dict.fromkeys(e for e in emails if e)),
        categories=c.categories_of(row.get(c.categories)),
        first_name=_text(row.get(c.first_name)),
        last_name=_text(row.get(c.last_name)),
        no_communication=bool(row.get(c.no_communication)),
        degrees=recorded_degrees(row.get(schema.degree.person_degrees_nav) or [], schema.degree),
    )
    return ContactRecord(person=person, row=row, etag=row.get(ETAG), registrations=registrations)


def degrees_expand(d: DegreeMap) -> Expand:
    """The contact's recorded degrees (not removed), as an ``$expand`` of the contact."""
    return Expand(
        d.person_degrees_nav,
        select=[d.name, d.issued_on],
        filter=odata.ne(d.removed, True),
    )


def recorded_degrees(rows: list[Mapping[str, Any]], d: DegreeMap) -> tuple[str, ...]:
    """The degrees expanded under a contact, described: title and date issued."""
    return tuple(
        f"{row.get(d.name) or 'degree'} ({row.get(d.issued_on) or 'date unknown'})"
        for row in rows
    )


def linked_registrations(
    rows: list[Mapping[str, Any]], m: RegistrationMap
) -> tuple[LinkedRegistration, ...]:
    """The registrations expanded under a contact."""
    return tuple(
        LinkedRegistration(
            id=str(row[m.id]).lower(), status=m.status_of(row.get(m.status)), etag=row.get(ETAG)
        )
        for row in rows
    )


def canonical_national_id(value: Any, country: Country) -> str | None:
    """The canonical form of a stored identity number; an unparseable one stays as stored."""
    text = _text(value)
    if text is None:
        return None
    result = parse_national_id(text, country)
    return result.canonical if result.valid else text


def choice_names(text: Any, values: Mapping[str, int]) -> frozenset[str]:
    """The names of the options in a multi-select value (``"100000000,100000002"``)."""
    numbers = choice_numbers(text)
    return frozenset(name for name, number in values.items() if number in numbers)


def choice_numbers(text: Any) -> frozenset[int]:
    """The option numbers of a multi-select value."""
    if not isinstance(text, str):
        return frozenset()
    return frozenset(int(part) for part in text.split(",") if part.strip().isdigit())


def choice_text(names: frozenset[str], values: Mapping[str, int]) -> str | None:
    """The multi-select value for option names (unknown names are left out)."""
    numbers = sorted(values[name] for name in names if name in values)
    return ",".join(str(n) for n in numbers) or None


def parse_datetime(value: Any) -> datetime | None:
    """A Web API datetime (``2024-05-01T10:00:00Z``) as an aware datetime."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _proof(row: Mapping[str, Any], schema: SchemaMap) -> str | None:
    """The link that proves control of the registration's person: only a link of that very
    person that was used (read expanded); a row naming any other link proves nothing."""
    m, links = schema.registration, schema.selfservice_link
    link_id = _guid(row.get(lookup_property(m.proof)))
    link = row.get(m.proof_nav)
    if link_id is None or not isinstance(link, Mapping) or not link.get(links.used_on):
        return None
    person = _guid(row.get(lookup_property(m.person)))
    return link_id if person and _guid(link.get(lookup_property(links.person))) == person else None


def _guid(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None

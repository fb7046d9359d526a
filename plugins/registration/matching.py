"""Matching a registration to the people already in Dataverse (pure).

A registration is matched by its canonical national identity number and by its normalised
e-mail address against each person's primary, secondary and tertiary e-mail. The result is
one of: nobody, exactly one person, or a conflict. A conflict is never resolved by guessing:
the registration goes to manual review with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .model import Person


class MatchKind(StrEnum):
    NONE = "none"
    ONE = "one"
    CONFLICT = "conflict"


class ConflictReason(StrEnum):
    ID_AND_EMAIL_DISAGREE = "id-and-email-point-at-different-people"
    SEVERAL_BY_EMAIL = "several-people-share-the-email"
    EMAIL_OWNER_HAS_OTHER_ID = "email-belongs-to-person-with-other-id"


class Match(BaseModel):
    """The outcome of matching, with the ids of every person considered."""

    model_config = ConfigDict(frozen=True)

    kind: MatchKind
    person: Person | None = None
    matched_by: tuple[str, ...] = ()
    conflict: ConflictReason | None = None
    candidate_ids: tuple[str, ...] = ()


def match_person(
    national_id: str | None,
    email: str | None,
    candidates: Iterable[Person],
    *,
    linked_id: str | None = None,
) -> Match:
    """Match on the canonical ``national_id`` and the normalised ``email``.

    ``candidates`` are the people a query returned for either value (duplicates allowed);
    their e-mail addresses must be normalised the same way as ``email``. ``linked_id`` is
    the person a registration made through a self-service link proved to be: that person,
    unless the identity number belongs to someone else.
    """
    people = {p.id: p for p in candidates}
    by_id = [p for p in people.values() if national_id and p.national_id == national_id]
    by_email = [p for p in people.values() if email and email in p.emails]
    considered = tuple(sorted(people))

    linked = people.get(linked_id) if linked_id else None
    if linked is not None:
        if any(p.id != linked.id for p in by_id):
            return Match(
                kind=MatchKind.CONFLICT,
                conflict=ConflictReason.ID_AND_EMAIL_DISAGREE,
                candidate_ids=considered,
            )
        return Match(kind=MatchKind.ONE, person=linked, matched_by=("link",),
                     candidate_ids=considered)

    if by_id:
        person = by_id[0]
        others = [p for p in by_email if p.id != person.id]
        if others:
            return Match(
                kind=MatchKind.CONFLICT,
                conflict=ConflictReason.ID_AND_EMAIL_DISAGREE,
                candidate_ids=considered,
            )
        how = ("national_id", "email") if any(p.id == person.id for p in by_email) else (
            "national_id",
        )
        return Match(kind=MatchKind.ONE, person=person, matched_by=how, candidate_ids=considered)

    if len(by_email) > 1:
        return Match(
            kind=MatchKind.CONFLICT,
            conflict=ConflictReason.SEVERAL_BY_EMAIL,
            candidate_ids=considered,
        )
    if len(by_email) == 1:
        person = by_email[0]
        if national_id and person.national_id and person.national_id != national_id:
            return Match(
                kind=MatchKind.CONFLICT,
                conflict=ConflictReason.EMAIL_OWNER_HAS_OTHER_ID,
                candidate_ids=considered,
            )
        return Match(
            kind=MatchKind.ONE, person=person, matched_by=("email",), candidate_ids=considered
        )
    return Match(kind=MatchKind.NONE, candidate_ids=considered)

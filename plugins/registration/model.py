"""The registration domain as plain values: statuses, categories, registrations, persons.

Nothing here knows Dataverse's column names or choice numbers; the schema map translates
between these values and the organisation's own tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Status(StrEnum):
    """A registration's status, with the Swedish names the alumni office uses."""

    RECEIVED = "Received"  # Inkommen
    APPROVED_REGISTERED_ALUMNUS = "ApprovedRegisteredAlumnus"  # Godkänd pga registrerad alumn
    APPROVED_ALUMNUS = "ApprovedAlumnus"  # Godkänd pga alumn
    NOT_APPROVED = "NotApproved"  # Ej godkänd
    APPROVED_MANUALLY = "ApprovedManually"  # Godkänd manuell
    DENIED = "Denied"  # Nekad
    UNREGISTERED = "Unregistered"  # Avregistrerad


SWEDISH_NAMES: dict[Status, str] = {
    Status.RECEIVED: "Inkommen",
    Status.APPROVED_REGISTERED_ALUMNUS: "Godkänd pga registrerad alumn",
    Status.APPROVED_ALUMNUS: "Godkänd pga alumn",
    Status.NOT_APPROVED: "Ej godkänd",
    Status.APPROVED_MANUALLY: "Godkänd manuell",
    Status.DENIED: "Nekad",
    Status.UNREGISTERED: "Avregistrerad",
}


class Kind(StrEnum):
    """What the person asked for: to register, or to unregister."""

    REGISTRATION = "Registration"
    UNREGISTRATION = "Unregistration"


class Category(StrEnum):
    """Person categories kept on the contact (a multi-select choice)."""

    ALUMNUS = "Alumnus"
    REGISTERED_ALUMNUS = "RegisteredAlumnus"
    STUDENT = "Student"
    STAFF = "Staff"
    MEMBER = "Member"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class Registration(_Value):
    """A registration (or unregistration) row as the person submitted it."""

    id: str
    kind: Kind = Kind.REGISTRATION
    status: Status | None = Status.RECEIVED
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    national_id: str | None = None
    phone: str | None = None
    self_declared_alumnus: bool = False
    terminate_membership: bool = False
    topics: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    consent_version: str | None = None
    consent_on: datetime | None = None
    person_id: str | None = None
    created_on: datetime | None = None
    # The self-service link the person followed to make this registration: proof that they
    # control an address the person ``person_id`` already had on file.
    proof_link_id: str | None = None
    office_decision: Status | None = None
    """What the alumni office chose in the decision column (ApprovedManually or Denied)."""


class Person(_Value):
    """A contact, reduced to what matching and the decision need (``degrees``: the
    degrees recorded for the person, described, for the decision's evidence)."""

    id: str
    national_id: str | None = None
    emails: tuple[str, ...] = ()
    categories: frozenset[Category] = frozenset()
    first_name: str | None = None
    last_name: str | None = None
    no_communication: bool = False
    degrees: tuple[str, ...] = ()

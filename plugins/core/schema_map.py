"""The schema map: which tables, columns and choice values the product reads and writes.

Defaults match the product's own tables (``plugins/core/schema/tables.json``). An
organisation that already has, say, ``new_alumniregistration`` maps it here through settings
(``SCHEMA_MAP__REGISTRATION__TABLE=new_alumniregistration`` and so on, or one JSON value in
``SCHEMA_MAP``) instead of forking the code. Nothing else in the product spells a Dataverse
table, column or choice number.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from plugins.registration.model import Category, Kind, Status


class _Map(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegistrationMap(_Map):
    """The registration table (one row per registration or unregistration)."""

    table: str = "mp_registration"
    entity_set: str = "mp_registrations"
    id: str = "mp_registrationid"
    name: str = "mp_name"
    kind: str = "mp_kind"
    first_name: str = "mp_firstname"
    last_name: str = "mp_lastname"
    email: str = "mp_email"
    national_id: str = "mp_nationalid"
    phone: str = "mp_phone"
    self_declared: str = "mp_selfdeclaredalumnus"
    terminate_membership: str = "mp_terminatemembership"
    status: str = "mp_status"
    reason: str = "mp_reason"
    explanation: str = "mp_explanation"
    evidence: str = "mp_evidence"
    processed_on: str = "mp_processedon"
    topics: str = "mp_topics"
    channels: str = "mp_channels"
    consent_version: str = "mp_consentversion"
    consent_on: str = "mp_consenton"
    person: str = Field(default="mp_personid", description="lookup column to the contact")
    person_nav: str = Field(default="mp_PersonId", description="its navigation property")
    created_on: str = "createdon"
    status_values: dict[Status, int] = {
        Status.RECEIVED: 100000000,
        Status.APPROVED_REGISTERED_ALUMNUS: 100000001,
        Status.APPROVED_ALUMNUS: 100000002,
        Status.NOT_APPROVED: 100000003,
        Status.APPROVED_MANUALLY: 100000004,
        Status.DENIED: 100000005,
        Status.UNREGISTERED: 100000006,
    }
    kind_values: dict[Kind, int] = {
        Kind.REGISTRATION: 100000000,
        Kind.UNREGISTRATION: 100000001,
    }

    def status_of(self, value: int | None) -> Status | None:
        """The status a choice number stands for (None for an unknown or empty value)."""
        for status, number in self.status_values.items():
            if number == value:
                return status
        return None

    def kind_of(self, value: int | None) -> Kind:
        for kind, number in self.kind_values.items():
            if number == value:
                return kind
        return Kind.REGISTRATION


class ContactMap(_Map):
    """The person table (``contact`` in every Dynamics environment)."""

    table: str = "contact"
    entity_set: str = "contacts"
    id: str = "contactid"
    first_name: str = "firstname"
    last_name: str = "lastname"
    emails: tuple[str, ...] = ("emailaddress1", "emailaddress2", "emailaddress3")
    phone: str = "telephone1"
    mobile_phone: str = "mobilephone"
    birth_date: str = "birthdate"
    address_line1: str = "address1_line1"
    address_line2: str = "address1_line2"
    postal_code: str = "address1_postalcode"
    city: str = "address1_city"
    country: str = "address1_country"
    national_id: str = "mp_nationalid"
    national_id_key: str = Field(
        default="mp_contact_nationalid", description="alternate key on the national id column"
    )
    categories: str = "mp_personcategories"
    protection_level: str = "mp_protectionlevel"
    deceased: str = "mp_deceased"
    emigrated: str = "mp_emigrated"
    no_communication: str = "mp_nocommunication"
    registry_source: str = "mp_registrysource"
    last_enriched_on: str = "mp_lastenrichedon"
    topics: str = "mp_topics"
    channels: str = "mp_channels"
    consent_version: str = "mp_consentversion"
    consent_on: str = "mp_consenton"
    consent_source: str = "mp_consentsource"
    do_not_bulk_email: str = "donotbulkemail"
    do_not_email: str = "donotemail"
    do_not_postal_mail: str = "donotpostalmail"
    do_not_phone: str = "donotphone"
    category_values: dict[Category, int] = {
        Category.ALUMNUS: 100000000,
        Category.REGISTERED_ALUMNUS: 100000001,
        Category.STUDENT: 100000002,
        Category.STAFF: 100000003,
        Category.MEMBER: 100000004,
    }
    protection_values: dict[str, int] = {
        "none": 100000000,
        "confidential": 100000001,
        "protected": 100000002,
        "unknown": 100000003,
    }

    def categories_of(self, text: str | None) -> frozenset[Category]:
        """Categories from a multi-select value such as ``"100000000,100000001"``."""
        numbers = {int(p) for p in (text or "").split(",") if p.strip()}
        return frozenset(c for c, n in self.category_values.items() if n in numbers)

    def categories_text(self, categories: frozenset[Category]) -> str | None:
        """The multi-select value for a set of categories (None when empty)."""
        numbers = sorted(self.category_values[c] for c in categories)
        return ",".join(str(n) for n in numbers) or None


class TaskMap(_Map):
    """The review task created for the alumni office."""

    table: str = "task"
    entity_set: str = "tasks"
    id: str = "activityid"
    subject: str = "subject"
    description: str = "description"
    due: str = "scheduledend"
    regarding_registration_nav: str = "regardingobjectid_mp_registration_task"
    regarding: str = "regardingobjectid"
    owner_nav: str = "ownerid"
    state: str = "statecode"
    status: str = "statuscode"
    open_state: int = 0
    completed_state: int = 1
    completed_status: int = 5


class PreferenceMap(_Map):
    """The choice numbers of relationship topics and channels (seed 003)."""

    topic_values: dict[str, int] = {
        "newsletter": 100000000,
        "events": 100000001,
        "mentoring": 100000002,
        "career": 100000003,
        "giving": 100000004,
    }
    channel_values: dict[str, int] = {"email": 100000000, "sms": 100000001, "post": 100000002}


class SchemaMap(_Map):
    """Every table, column and choice value the product uses."""

    registration: RegistrationMap = RegistrationMap()
    contact: ContactMap = ContactMap()
    task: TaskMap = TaskMap()
    preferences: PreferenceMap = PreferenceMap()

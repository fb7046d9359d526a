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
from plugins.sync.lifecycle import EventKind, MembershipStatus


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
    person_registrations_nav: str = Field(
        default="mp_contact_mp_registration_PersonId",
        description="the contact's collection of its registrations (the relationship name)",
    )
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
    state: str = Field(default="statecode", description="0 = active")
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


class EmailMap(_Map):
    """The e-mail activity (``email``) and its recipients (``activityparty`` rows)."""

    table: str = "email"
    entity_set: str = "emails"
    id: str = "activityid"
    subject: str = "subject"
    description: str = "description"
    direction: str = Field(default="directioncode", description="true = outgoing")
    regarding_contact_nav: str = "regardingobjectid_contact_email"
    parties_nav: str = Field(
        default="email_activity_parties", description="deep-inserted with the e-mail"
    )
    party_contact_nav: str = "partyid_contact"
    party_user_nav: str = Field(
        default="partyid_systemuser", description="a party that is a user (the sender)"
    )
    party_type: str = "participationtypemask"
    party_address: str = "addressused"
    sender: int = 1
    to_recipient: int = 2
    state: str = Field(default="statecode", description="0 = open (a draft, or failed to send)")


class SelfServiceLinkMap(_Map):
    """The self-service links sent by e-mail: one row per link, used at most once."""

    table: str = "mp_selfservicelink"
    entity_set: str = "mp_selfservicelinks"
    id: str = "mp_selfservicelinkid"
    name: str = "mp_name"
    purpose: str = "mp_purpose"
    expires_on: str = "mp_expireson"
    used_on: str = "mp_usedon"
    person: str = "mp_personid"
    person_nav: str = "mp_PersonId"
    purpose_values: dict[str, int] = {"update": 100000000, "unregister": 100000001}


class MembershipMap(_Map):
    """The membership table (one row per membership period of a person)."""

    table: str = "mp_membership"
    entity_set: str = "mp_memberships"
    id: str = "mp_membershipid"
    name: str = "mp_name"
    person: str = "mp_personid"
    person_nav: str = "mp_PersonId"
    type: str = "mp_type"
    start: str = "mp_startdate"
    end: str = "mp_enddate"
    status: str = "mp_status"
    automatic_renewal: str = "mp_automaticrenewal"
    renewal_active: str = "mp_renewalactive"
    membership_type: str = Field(
        default="mp_membershiptypeid", description="lookup to the membership type row"
    )
    membership_type_nav: str = "mp_MembershipTypeId"
    state: str = Field(default="statecode", description="0 = active")
    type_values: dict[str, int] = Field(
        default={
            "standard": 100000000,
            "student": 100000001,
            "senior": 100000002,
            "lifetime": 100000003,
            "honorary": 100000004,
        },
        description="the organisation's membership types; any other value is reported",
    )
    status_values: dict[MembershipStatus, int] = {
        MembershipStatus.ACTIVE: 100000000,
        MembershipStatus.GRACE: 100000001,
        MembershipStatus.LAPSED: 100000002,
        MembershipStatus.ENDED: 100000003,
    }


class LifecycleEventMap(_Map):
    """The lifecycle events: one row per message, keyed by (kind, person, period)."""

    table: str = "mp_lifecycleevent"
    entity_set: str = "mp_lifecycleevents"
    id: str = "mp_lifecycleeventid"
    key: str = Field(default="mp_key", description="column of the alternate key")
    person: str = "mp_personid"
    person_nav: str = "mp_PersonId"
    membership: str = "mp_membershipid"
    membership_nav: str = "mp_MembershipId"
    kind: str = "mp_kind"
    period: str = "mp_period"
    due: str = "mp_duedate"
    template: str = "mp_template"
    channel: str = "mp_channel"
    delivery_status: str = "mp_deliverystatus"
    reason: str = "mp_reason"
    sent_on: str = "mp_senton"
    kind_values: dict[EventKind, int] = {
        EventKind.EXPIRY_REMINDER: 100000000,
        EventKind.GRACE_NOTICE: 100000001,
        EventKind.LAPSE_NOTICE: 100000002,
        EventKind.ONBOARDING: 100000003,
        EventKind.BIRTHDAY: 100000004,
        EventKind.ANNIVERSARY: 100000005,
        EventKind.RENEWAL: 100000006,
        EventKind.FOLLOW_UP: 100000007,
        EventKind.PAYMENT_REMINDER: 100000008,
    }
    delivery_values: dict[str, int] = {
        "pending": 100000000,
        "sent": 100000001,
        "refused": 100000002,
        "failed": 100000003,
    }


class TombstoneMap(_Map):
    """People erased on request (GDPR), remembered only by a keyed hash of their number."""

    table: str = "mp_tombstone"
    entity_set: str = "mp_tombstones"
    id: str = "mp_tombstoneid"
    identity_hash: str = Field(default="mp_identityhash", description="column of the alternate key")
    erased_on: str = "mp_erasedon"


class CheckpointMap(_Map):
    """Where each scheduled job got to (its last successful run and its position)."""

    table: str = "mp_checkpoint"
    entity_set: str = "mp_checkpoints"
    id: str = "mp_checkpointid"
    name: str = Field(default="mp_name", description="column of the alternate key")
    value: str = "mp_value"
    last_successful_run: str = "mp_lastsuccessfulrun"


class TemplateMap(_Map):
    """E-mail templates (Dataverse's ``template`` table), found by title."""

    table: str = "template"
    entity_set: str = "templates"
    id: str = "templateid"
    title: str = "title"
    subject: str = "subject"
    body: str = "body"


class MembershipTypeMap(_Map):
    """Membership types: fee, currency, period and grace, kept by the office in Dataverse."""

    table: str = "mp_membershiptype"
    entity_set: str = "mp_membershiptypes"
    id: str = "mp_membershiptypeid"
    name: str = "mp_name"
    code: str = Field(default="mp_code", description="column of the alternate key")
    category: str = Field(default="mp_category", description="choice of mp_type it creates")
    fee: str = "mp_fee"
    currency: str = "mp_currency"
    period_months: str = "mp_periodmonths"
    grace_days: str = "mp_gracedays"
    state: str = "statecode"


class ApplicationMap(_Map):
    """Membership applications (organisations that are not alumni offices)."""

    table: str = "mp_application"
    entity_set: str = "mp_applications"
    id: str = "mp_applicationid"
    person: str = "mp_personid"
    membership_type: str = "mp_membershiptypeid"
    status: str = "mp_status"
    decided_on: str = "mp_decidedon"
    state: str = "statecode"
    status_values: dict[str, int] = {
        "received": 100000000,
        "approved": 100000001,
        "denied": 100000002,
    }


class InvoiceMap(_Map):
    """Membership invoices: one per membership and period, keyed by both."""

    table: str = "mp_invoice"
    entity_set: str = "mp_invoices"
    id: str = "mp_invoiceid"
    number: str = "mp_name"
    key: str = Field(default="mp_key", description="column of the alternate key")
    person: str = "mp_personid"
    person_nav: str = "mp_PersonId"
    membership: str = "mp_membershipid"
    membership_nav: str = "mp_MembershipId"
    amount: str = "mp_amount"
    currency: str = "mp_currency"
    invoice_date: str = "mp_invoicedate"
    due: str = "mp_duedate"
    period_start: str = "mp_periodstart"
    period_end: str = "mp_periodend"
    reference: str = Field(default="mp_reference", description="column of an alternate key")
    paid_amount: str = "mp_paidamount"
    paid_on: str = "mp_paidon"
    status: str = "mp_status"
    delivery: str = "mp_delivery"
    delivery_reason: str = "mp_deliveryreason"
    status_values: dict[str, int] = {
        "open": 100000000,
        "partly-paid": 100000001,
        "paid": 100000002,
        "overpaid": 100000003,
        "cancelled": 100000004,
    }
    delivery_values: dict[str, int] = {
        "pending": 100000000,
        "emailed": 100000001,
        "to-print": 100000002,
        "refused": 100000003,
        "failed": 100000004,
    }


class PaymentMap(_Map):
    """Payments received, one per bank transaction; unmatched ones wait for review."""

    table: str = "mp_payment"
    entity_set: str = "mp_payments"
    id: str = "mp_paymentid"
    key: str = Field(default="mp_key", description="column of the alternate key")
    invoice: str = "mp_invoiceid"
    invoice_nav: str = "mp_InvoiceId"
    amount: str = "mp_amount"
    currency: str = "mp_currency"
    reference: str = "mp_reference"
    paid_on: str = "mp_paidon"
    source: str = "mp_source"
    match: str = "mp_match"
    needs_review: str = "mp_needsreview"
    match_values: dict[str, int] = {
        "matched": 100000000,
        "partial": 100000001,
        "overpaid": 100000002,
        "unknown-reference": 100000003,
        "deduction": 100000004,
    }


class PaymentFileMap(_Map):
    """Bank files read: one row per file (by its digest), with the import's checkpoint."""

    table: str = "mp_paymentfile"
    entity_set: str = "mp_paymentfiles"
    id: str = "mp_paymentfileid"
    name: str = "mp_name"
    digest: str = Field(default="mp_digest", description="column of the alternate key")
    format: str = "mp_format"
    status: str = "mp_status"
    position: str = "mp_position"
    payments: str = "mp_payments"
    total: str = "mp_total"
    status_values: dict[str, int] = {"importing": 100000000, "imported": 100000001}


class AttachmentMap(_Map):
    """E-mail attachments (``activitymimeattachment``), deep-inserted with their e-mail."""

    table: str = "activitymimeattachment"
    entity_set: str = "activitymimeattachments"
    email_nav: str = Field(
        default="email_activity_mime_attachment", description="the e-mail's collection"
    )
    file_name: str = "filename"
    mime_type: str = "mimetype"
    body: str = Field(default="body", description="base64 content")
    object_type: str = "objecttypecode"


class NoteMap(_Map):
    """Notes (``annotation``) with a file: the printable invoices for post."""

    table: str = "annotation"
    entity_set: str = "annotations"
    id: str = "annotationid"
    subject: str = "subject"
    text: str = "notetext"
    file_name: str = "filename"
    mime_type: str = "mimetype"
    body: str = Field(default="documentbody", description="base64 content")
    is_document: str = "isdocument"
    object_type: str = "objecttypecode"
    invoice_nav: str = Field(
        default="objectid_mp_invoice", description="the note's link to its invoice"
    )


class CaseMap(_Map):
    """The person's cases (``incident``), shown on their own page."""

    table: str = "incident"
    entity_set: str = "incidents"
    id: str = "incidentid"
    title: str = "title"
    number: str = "ticketnumber"
    customer: str = "customerid"
    state: str = "statecode"
    created_on: str = "createdon"
    state_values: dict[str, int] = {"active": 0, "resolved": 1, "cancelled": 2}


class SchemaMap(_Map):
    """Every table, column and choice value the product uses."""

    registration: RegistrationMap = RegistrationMap()
    contact: ContactMap = ContactMap()
    task: TaskMap = TaskMap()
    preferences: PreferenceMap = PreferenceMap()
    membership: MembershipMap = MembershipMap()
    lifecycle_event: LifecycleEventMap = LifecycleEventMap()
    tombstone: TombstoneMap = TombstoneMap()
    checkpoint: CheckpointMap = CheckpointMap()
    template: TemplateMap = TemplateMap()
    email: EmailMap = EmailMap()
    selfservice_link: SelfServiceLinkMap = SelfServiceLinkMap()
    membership_type: MembershipTypeMap = MembershipTypeMap()
    application: ApplicationMap = ApplicationMap()
    invoice: InvoiceMap = InvoiceMap()
    payment: PaymentMap = PaymentMap()
    payment_file: PaymentFileMap = PaymentFileMap()
    attachment: AttachmentMap = AttachmentMap()
    case: CaseMap = CaseMap()
    note: NoteMap = NoteMap()

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
    # The string under each field documents it (docs/settings.md). Not
    # use_attribute_docstrings: pydantic would read and tokenise this file's source when the
    # module loads, half its import time; settings_doc reads the strings when it needs them.
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegistrationMap(_Map):
    """The registration table (one row per registration or unregistration)."""

    table: str = "mp_registration"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_registrations"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_registrationid"
    """primary key column (a GUID)"""
    name: str = "mp_name"
    """primary name column: a short title the office sees in lists"""
    kind: str = "mp_kind"
    """choice column: registration or unregistration"""
    first_name: str = "mp_firstname"
    """first name as the registrant typed it"""
    last_name: str = "mp_lastname"
    """last name as the registrant typed it"""
    email: str = "mp_email"
    """e-mail address as the registrant typed it"""
    national_id: str = "mp_nationalid"
    """identity number as typed (personnummer, fødselsnummer, HETU, CPR)"""
    phone: str = "mp_phone"
    """phone number as typed"""
    self_declared: str = "mp_selfdeclaredalumnus"
    """yes/no: the registrant says they studied here (for the `self_declared` rule)"""
    terminate_membership: str = "mp_terminatemembership"
    """yes/no on an unregistration: end the membership too"""
    status: str = "mp_status"
    """choice column holding the registration status (Received, NotApproved, ...)"""
    reason: str = "mp_reason"
    """text: the reason code of the last decision, e.g. `created-alumnus`"""
    explanation: str = "mp_explanation"
    """text: the decision explained in plain language for the office"""
    evidence: str = "mp_evidence"
    """text (JSON): what the decision was based on: match, registry answers, rule"""
    evidence_text: str = Field(
        default="mp_evidencetext", description="the evidence as readable lines for the office"
    )
    office_decision: str = Field(
        default="mp_officedecision",
        description="the office's decision (ApprovedManually or Denied; same choice numbers "
        "as the status), which the pipeline turns into the status",
    )
    processed_on: str = "mp_processedon"
    """date and time the product last decided the registration"""
    topics: str = "mp_topics"
    """multi-select choice: the topics the person wants to hear about"""
    channels: str = "mp_channels"
    """multi-select choice: the channels the person accepts (e-mail, SMS, post)"""
    consent_version: str = "mp_consentversion"
    """text: the version of the consent text the person accepted"""
    consent_on: str = "mp_consenton"
    """date and time the consent was given"""
    person: str = Field(default="mp_personid", description="lookup column to the contact")
    person_nav: str = Field(default="mp_PersonId", description="its navigation property")
    person_registrations_nav: str = Field(
        default="mp_contact_mp_registration_PersonId",
        description="the contact's collection of its registrations (the relationship name)",
    )
    created_on: str = "createdon"
    """Dataverse's own creation timestamp (the sweep's age and the views' order)"""
    proposed_changes: str = Field(
        default="mp_proposedchanges",
        description="JSON of field -> offered value not applied to an existing person",
    )
    proposed_changes_applied_on: str = "mp_proposedchangesappliedon"
    """date and time the proposed changes were applied (after the person's confirmation)"""
    proof: str = Field(
        default="mp_proofid", description="lookup to the link that proved control of the person"
    )
    proof_nav: str = "mp_ProofId"
    """navigation property of the proof lookup"""
    status_values: dict[Status, int] = {
        Status.RECEIVED: 100000000,
        Status.APPROVED_REGISTERED_ALUMNUS: 100000001,
        Status.APPROVED_ALUMNUS: 100000002,
        Status.NOT_APPROVED: 100000003,
        Status.APPROVED_MANUALLY: 100000004,
        Status.DENIED: 100000005,
        Status.UNREGISTERED: 100000006,
    }
    """the choice number of each status, as JSON: {"Received": 100000000, ...}"""
    kind_values: dict[Kind, int] = {
        Kind.REGISTRATION: 100000000,
        Kind.UNREGISTRATION: 100000001,
    }
    """the choice number of registration and unregistration, as JSON"""

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
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "contacts"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "contactid"
    """primary key column (a GUID)"""
    first_name: str = "firstname"
    """first name (the registries' given name)"""
    last_name: str = "lastname"
    """last name (the registries' surname)"""
    emails: tuple[str, ...] = ("emailaddress1", "emailaddress2", "emailaddress3")
    """the e-mail columns matched and filled in, primary first (JSON list)"""
    phone: str = "telephone1"
    """main phone number"""
    mobile_phone: str = "mobilephone"
    """mobile phone number (SMS goes here)"""
    birth_date: str = "birthdate"
    """date of birth (from the registries; birthdays are sent from it)"""
    address_line1: str = "address1_line1"
    """street address, first line"""
    address_line2: str = "address1_line2"
    """street address, second line (c/o)"""
    postal_code: str = "address1_postalcode"
    """postal code of the address"""
    city: str = "address1_city"
    """city (post town) of the address"""
    country: str = "address1_country"
    """country of the address"""
    national_id: str = "mp_nationalid"
    """identity number in its canonical form (12 digits for Sweden)"""
    national_id_key: str = Field(
        default="mp_contact_nationalid", description="alternate key on the national id column"
    )
    categories: str = "mp_personcategories"
    """multi-select choice: Alumnus, Registered alumnus, Student, Staff, Member"""
    protection_level: str = "mp_protectionlevel"
    """choice: the registry's protection marking (protected identities have no address)"""
    deceased: str = "mp_deceased"
    """yes/no, from the population register"""
    emigrated: str = "mp_emigrated"
    """yes/no, from the population register"""
    no_communication: str = "mp_nocommunication"
    """yes/no: the person asked for no alumni communication (unregistration)"""
    registry_source: str = "mp_registrysource"
    """text: which registry last enriched the person"""
    last_enriched_on: str = "mp_lastenrichedon"
    """date and time of the last registry refresh (upkeep picks the oldest)"""
    topics: str = "mp_topics"
    """multi-select choice: the topics the person wants to hear about"""
    channels: str = "mp_channels"
    """multi-select choice: the channels the person accepts"""
    consent_version: str = "mp_consentversion"
    """text: the version of the consent text the person accepted"""
    consent_on: str = "mp_consenton"
    """date and time the consent was given"""
    consent_source: str = "mp_consentsource"
    """text: where the consent came from (the pages, a registration row)"""
    student_ref: str = Field(
        default="mp_studentref",
        description="the student register's id of the person (Ladok student UID)",
    )
    study_programmes: str = "mp_studyprogrammes"
    """text: the programmes the person studied, from the student register"""
    first_study_year: str = "mp_firststudyyear"
    """whole number: the first year the person studied here"""
    last_study_year: str = "mp_laststudyyear"
    """whole number: the last year the person studied here"""
    study_credits: str = "mp_studycredits"
    """decimal: the passed credits the student register reports"""
    undeliverable_email: str = Field(
        default="mp_undeliverableemail", description="the address an e-mail to bounced"
    )
    undeliverable_on: str = Field(
        default="mp_undeliverableon", description="when it bounced (empty = deliverable)"
    )
    details_confirmed_on: str = Field(
        default="mp_detailsconfirmedon", description="when the person last confirmed details"
    )
    language: str = Field(default="mp_language", description="language of messages: sv, nb, en")
    do_not_bulk_email: str = "donotbulkemail"
    """Dynamics' own "do not allow bulk e-mails" flag, honoured by every mailing"""
    do_not_email: str = "donotemail"
    """Dynamics' own "do not allow e-mails" flag"""
    do_not_postal_mail: str = "donotpostalmail"
    """Dynamics' own "do not allow mail" flag"""
    do_not_phone: str = "donotphone"
    """Dynamics' own "do not allow phone calls" flag (also stops SMS)"""
    state: str = Field(default="statecode", description="state column (0 = active)")
    email_key: str = Field(
        default="mp_emailkey", description="normalised primary e-mail (one person per address)"
    )
    email_key_name: str = Field(
        default="mp_contact_emailkey", description="alternate key on the e-mail key column"
    )
    email_confirmation: str = Field(
        default="mp_emailconfirmation", description="double opt-in state of the primary e-mail"
    )
    email_confirmation_values: dict[str, int] = {"unconfirmed": 100000000, "confirmed": 100000001}
    """the choice number of each e-mail confirmation state, as JSON"""
    created_on: str = "createdon"
    """Dataverse's own creation timestamp of the person"""
    category_values: dict[Category, int] = {
        Category.ALUMNUS: 100000000,
        Category.REGISTERED_ALUMNUS: 100000001,
        Category.STUDENT: 100000002,
        Category.STAFF: 100000003,
        Category.MEMBER: 100000004,
    }
    """the choice number of each person category, as JSON"""
    protection_values: dict[str, int] = {
        "none": 100000000,
        "confidential": 100000001,
        "protected": 100000002,
        "unknown": 100000003,
    }
    """the choice number of each protection level, as JSON"""

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
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "tasks"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "activityid"
    """primary key column (a GUID)"""
    subject: str = "subject"
    """the task's title"""
    description: str = "description"
    """the task's text (reason and readable evidence)"""
    due: str = "scheduledend"
    """due date of the review task"""
    regarding_registration_nav: str = "regardingobjectid_mp_registration_task"
    """navigation property binding the task to its registration"""
    regarding_contact_nav: str = Field(
        default="regardingobjectid_contact_task", description="a task about a person"
    )
    regarding: str = "regardingobjectid"
    """the regarding lookup column, to find a registration's tasks"""
    owner_nav: str = "ownerid"
    """navigation property of the owner (the review team)"""
    state: str = "statecode"
    """state column (open, completed)"""
    status: str = "statuscode"
    """status reason column"""
    open_state: int = 0
    """state number of an open task"""
    completed_state: int = 1
    """state number of a completed task"""
    completed_status: int = 5
    """status reason number of a completed task"""


class PreferenceMap(_Map):
    """The choice numbers of relationship topics and channels (what the person asked for)."""

    topic_values: dict[str, int] = {
        "newsletter": 100000000,
        "events": 100000001,
        "mentoring": 100000002,
        "career": 100000003,
        "giving": 100000004,
    }
    """the choice number of each relationship topic, as JSON"""
    channel_values: dict[str, int] = {"email": 100000000, "sms": 100000001, "post": 100000002}
    """the choice number of each channel (email, sms, post), as JSON"""


class EmailMap(_Map):
    """The e-mail activity (``email``) and its recipients (``activityparty`` rows)."""

    table: str = "email"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "emails"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "activityid"
    """primary key column (a GUID)"""
    subject: str = "subject"
    """the e-mail's subject"""
    description: str = "description"
    """the e-mail's body (HTML)"""
    direction: str = Field(
        default="directioncode", description="direction column (true = outgoing)"
    )
    regarding: str = Field(default="regardingobjectid", description="lookup: what it is about")
    regarding_contact_nav: str = "regardingobjectid_contact_email"
    """navigation property binding the e-mail to its person"""
    parties_nav: str = Field(
        default="email_activity_parties", description="deep-inserted with the e-mail"
    )
    party_contact_nav: str = "partyid_contact"
    """navigation property of a recipient that is a contact"""
    party_user_nav: str = Field(
        default="partyid_systemuser", description="a party that is a user (the sender)"
    )
    party_type: str = "participationtypemask"
    """participation type of a party (sender, to, cc)"""
    party_address: str = "addressused"
    """the address a party was reached at"""
    sender: int = 1
    """participation type number of the sender"""
    to_recipient: int = 2
    """participation type number of a To recipient"""
    state: str = Field(default="statecode", description="0 = open (a draft, or failed to send)")
    status: str = Field(default="statuscode", description="status reason (8 = Failed)")
    failed_status: int = Field(
        default=8, description="statuscode of an e-mail the mailbox could not send"
    )
    party: str = Field(default="partyid", description="the party's lookup (contact or user)")
    modified_on: str = "modifiedon"
    """Dataverse's own last-modified timestamp (bounces are looked for since the last run)"""


class SelfServiceLinkMap(_Map):
    """The self-service links sent by e-mail: one row per link, used at most once."""

    table: str = "mp_selfservicelink"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_selfservicelinks"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_selfservicelinkid"
    """primary key column (a GUID)"""
    name: str = "mp_name"
    """primary name column (the link's id, never the token)"""
    purpose: str = "mp_purpose"
    """choice: what the link allows (update, unregister)"""
    expires_on: str = "mp_expireson"
    """date and time after which the link is refused"""
    used_on: str = "mp_usedon"
    """date and time the link was used (a used link is refused)"""
    person: str = "mp_personid"
    """lookup column to the person the link is for"""
    person_nav: str = "mp_PersonId"
    """navigation property of that lookup"""
    registration: str = Field(default="mp_registrationid", description="registration to confirm")
    registration_nav: str = "mp_RegistrationId"
    """navigation property of the registration lookup"""
    purpose_values: dict[str, int] = {
        "update": 100000000, "unregister": 100000001, "confirm": 100000002,
        "form": 100000003,
    }
    """the choice number of each purpose, as JSON"""


class MembershipMap(_Map):
    """The membership table (one row per membership period of a person)."""

    table: str = "mp_membership"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_memberships"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_membershipid"
    """primary key column (a GUID)"""
    name: str = "mp_name"
    """primary name column: what the office sees in lists"""
    person: str = "mp_personid"
    """lookup column to the member"""
    person_nav: str = "mp_PersonId"
    """navigation property of that lookup"""
    type: str = "mp_type"
    """choice column: the membership type"""
    start: str = "mp_startdate"
    """first day of the period"""
    end: str = "mp_enddate"
    """last day of the period (reminders and grace count from it)"""
    status: str = "mp_status"
    """choice column: active, grace, lapsed, ended"""
    automatic_renewal: str = "mp_automaticrenewal"
    """yes/no: the membership renews itself"""
    renewal_active: str = "mp_renewalactive"
    """yes/no: an automatic renewal is still in force"""
    state: str = Field(default="statecode", description="state column (0 = active)")
    membership_type: str = Field(
        default="mp_membershiptypeid", description="lookup to the membership type row"
    )
    membership_type_nav: str = "mp_MembershipTypeId"
    """navigation property of the membership type lookup"""
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
    """the choice number of each membership status, as JSON"""


class LifecycleEventMap(_Map):
    """The lifecycle events: one row per message, keyed by (kind, person, period)."""

    table: str = "mp_lifecycleevent"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_lifecycleevents"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_lifecycleeventid"
    """primary key column (a GUID)"""
    key: str = Field(default="mp_key", description="column of the alternate key")
    person: str = "mp_personid"
    """lookup column to the person the message is for"""
    person_nav: str = "mp_PersonId"
    """navigation property of that lookup"""
    membership: str = "mp_membershipid"
    """lookup column to the membership the message is about"""
    membership_nav: str = "mp_MembershipId"
    """navigation property of that lookup"""
    kind: str = "mp_kind"
    """choice column: which message (expiry reminder, birthday, ...)"""
    period: str = "mp_period"
    """text: the period the message belongs to (part of its key)"""
    due: str = "mp_duedate"
    """date the message is due"""
    template: str = "mp_template"
    """text: the template used"""
    channel: str = "mp_channel"
    """text: the channel used (email, topic message)"""
    delivery_status: str = "mp_deliverystatus"
    """choice column: pending, sent, refused, failed"""
    reason: str = "mp_reason"
    """text: why it was sent or refused (consent, preferences)"""
    sent_on: str = "mp_senton"
    """date and time the message was sent"""
    plan: str = Field(default="mp_plan", description="the plan that applied, and why")
    kind_values: dict[EventKind, int] = {
        EventKind.EXPIRY_REMINDER: 100000000,
        EventKind.GRACE_NOTICE: 100000001,
        EventKind.LAPSE_NOTICE: 100000002,
        EventKind.ONBOARDING: 100000003,
        EventKind.BIRTHDAY: 100000004,
        EventKind.ANNIVERSARY: 100000005,
        EventKind.RENEWAL: 100000006,
        EventKind.FOLLOW_UP: 100000007,
        EventKind.ADDRESS_REQUEST: 100000008,
        EventKind.DATA_CHECK: 100000009,
        EventKind.PAYMENT_REMINDER: 100000010,
    }
    """the choice number of each message kind, as JSON"""
    delivery_values: dict[str, int] = {
        "pending": 100000000,
        "sent": 100000001,
        "refused": 100000002,
        "failed": 100000003,
    }
    """the choice number of each delivery status, as JSON"""


class TombstoneMap(_Map):
    """People erased on request (GDPR), remembered only by a keyed hash of their number."""

    table: str = "mp_tombstone"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_tombstones"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_tombstoneid"
    """primary key column (a GUID)"""
    identity_hash: str = Field(default="mp_identityhash", description="column of the alternate key")
    erased_on: str = "mp_erasedon"
    """date and time the person was erased"""


class ErasureRequestMap(_Map):
    """The office's erasure requests (GDPR art. 17): one row per person to erase.

    A row of its own rather than a flag on the contact, because erasure deletes (or blanks)
    the contact: the request row is what remains to show the request was carried out, and it
    can name someone by identity number for whom no contact exists yet.
    """

    table: str = "mp_erasurerequest"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_erasurerequests"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_erasurerequestid"
    """primary key column (a GUID)"""
    name: str = "mp_name"
    """primary name column: a title the office sees in lists"""
    person: str = Field(default="mp_personid", description="lookup to the contact to erase")
    person_nav: str = "mp_PersonId"
    """navigation property of the person lookup"""
    national_id: str = Field(
        default="mp_nationalid", description="or the identity number (cleared when processed)"
    )
    status: str = "mp_status"
    """choice column: requested, done, not found, failed"""
    result: str = "mp_result"
    """text: what the erasure did, in counts only (never personal data)"""
    processed_on: str = "mp_processedon"
    """date and time the request was carried out"""
    state: str = Field(default="statecode", description="state column (0 = active)")
    created_on: str = "createdon"
    """Dataverse's own creation timestamp (requests are taken oldest first)"""
    status_values: dict[str, int] = {
        "requested": 100000000,
        "done": 100000001,
        "not-found": 100000002,
        "failed": 100000003,
    }
    """the choice number of each request status, as JSON"""


class CheckpointMap(_Map):
    """Where each scheduled job got to (its last successful run and its position)."""

    table: str = "mp_checkpoint"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_checkpoints"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_checkpointid"
    """primary key column (a GUID)"""
    name: str = Field(default="mp_name", description="column of the alternate key")
    value: str = "mp_value"
    """text: the job's position (its own format)"""
    last_successful_run: str = "mp_lastsuccessfulrun"
    """date and time the job last finished without error"""


class DegreeMap(_Map):
    """Degrees awarded to a person, one row per certificate the student register issued."""

    table: str = "mp_degree"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_degrees"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_degreeid"
    """primary key column (a GUID)"""
    name: str = "mp_name"
    """primary name column: the degree's title as the office sees it in lists"""
    key: str = Field(default="mp_key", description="column of the alternate key")
    person: str = "mp_personid"
    """lookup column to the person the degree was awarded to"""
    person_nav: str = "mp_PersonId"
    """navigation property of that lookup"""
    person_degrees_nav: str = Field(
        default="mp_contact_mp_degree_PersonId",
        description="the contact's collection of its degrees (the relationship name)",
    )
    student_ref: str = "mp_studentref"
    """text: the student register's id of the student (kept until a person exists)"""
    title_sv: str = "mp_titlesv"
    """text: the degree's title in Swedish"""
    title_en: str = "mp_titleen"
    """text: the degree's title in English"""
    code: str = "mp_code"
    """text: the degree's code in the student register"""
    national_type: str = "mp_nationaltype"
    """text: the national degree type (its id in the student register)"""
    programme: str = "mp_programme"
    """text: the programme the degree belongs to"""
    credits: str = "mp_credits"
    """decimal: the credits of the degree"""
    issued_on: str = "mp_issuedon"
    """date the certificate was issued"""
    completed_on: str = "mp_completedon"
    """date the requirements of the degree were met"""
    institution: str = "mp_institution"
    """text: the institution that issued the degree"""
    source: str = "mp_source"
    """text: which register reported the degree (ladok, fs)"""
    removed: str = "mp_removed"
    """yes/no: the register withdrew the certificate (the row is kept for the record)"""


class TemplateMap(_Map):
    """E-mail templates (Dataverse's ``template`` table), found by title."""

    table: str = "template"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "templates"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "templateid"
    """primary key column (a GUID)"""
    title: str = "title"
    """the template's title (the product finds templates by it)"""
    subject: str = "subject"
    """the template's subject (XML with placeholders, as Dynamics stores it)"""
    body: str = "body"
    """the template's body (XML with placeholders, as Dynamics stores it)"""
    language: str = Field(default="languagecode", description="the template's language (LCID)")
    language_codes: dict[str, int] = Field(
        default={"sv": 1053, "nb": 1044, "en": 1033}, description="language -> LCID"
    )


class TeamMap(_Map):
    """Teams (Dataverse's ``team`` table): the review team is found by its name."""

    table: str = "team"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "teams"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "teamid"
    """primary key column (a GUID)"""
    name: str = "name"
    """the team's name (REGISTRATION__REVIEW_TEAM names the review team by it)"""


class MembershipTypeMap(_Map):
    """Membership types: fee, currency, period and grace, kept by the office in Dataverse."""

    table: str = "mp_membershiptype"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_membershiptypes"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_membershiptypeid"
    """primary key column (a GUID)"""
    name: str = "mp_name"
    """primary name column: the type's name as members see it"""
    code: str = Field(default="mp_code", description="column of the alternate key")
    category: str = Field(default="mp_category", description="choice of mp_type it creates")
    fee: str = "mp_fee"
    """decimal: the fee per period (0 = free)"""
    currency: str = "mp_currency"
    """text: the fee's currency (ISO 4217, e.g. SEK)"""
    period_months: str = "mp_periodmonths"
    """whole number: how many months one period runs"""
    grace_days: str = "mp_gracedays"
    """whole number: days an unpaid new membership runs after the due date"""
    state: str = "statecode"
    """state column (0 = active; inactive types are not offered)"""


class ApplicationMap(_Map):
    """Membership applications (organisations that are not alumni offices)."""

    table: str = "mp_application"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_applications"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_applicationid"
    """primary key column (a GUID)"""
    person: str = "mp_personid"
    """lookup column to the applicant"""
    membership_type: str = "mp_membershiptypeid"
    """lookup column to the membership type applied for"""
    status: str = "mp_status"
    """choice column: received, approved, denied"""
    decided_on: str = "mp_decidedon"
    """date and time the office decided"""
    state: str = "statecode"
    """state column (0 = active)"""
    status_values: dict[str, int] = {
        "received": 100000000,
        "approved": 100000001,
        "denied": 100000002,
    }
    """the choice number of each application status, as JSON"""


class InvoiceMap(_Map):
    """Membership invoices: one per membership and period, keyed by both."""

    table: str = "mp_invoice"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_invoices"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_invoiceid"
    """primary key column (a GUID)"""
    number: str = "mp_name"
    """primary name column: the invoice number"""
    key: str = Field(default="mp_key", description="column of the alternate key")
    person: str = "mp_personid"
    """lookup column to the member invoiced"""
    person_nav: str = "mp_PersonId"
    """navigation property of the member lookup"""
    membership: str = "mp_membershipid"
    """lookup column to the membership invoiced"""
    membership_nav: str = "mp_MembershipId"
    """navigation property of the membership lookup"""
    amount: str = "mp_amount"
    """decimal: the amount to pay"""
    currency: str = "mp_currency"
    """text: the amount's currency (ISO 4217)"""
    invoice_date: str = "mp_invoicedate"
    """date the invoice was issued"""
    due: str = "mp_duedate"
    """date the payment is due"""
    period_start: str = "mp_periodstart"
    """first day of the period the invoice pays for"""
    period_end: str = "mp_periodend"
    """last day of the period the invoice pays for"""
    reference: str = Field(default="mp_reference", description="column of an alternate key")
    paid_amount: str = "mp_paidamount"
    """decimal: what has been paid so far"""
    paid_on: str = "mp_paidon"
    """date of the payment that settled the invoice"""
    status: str = "mp_status"
    """choice column: open, partly paid, paid, overpaid, cancelled"""
    delivery: str = "mp_delivery"
    """choice column: how the invoice went out (e-mailed, to print, refused)"""
    delivery_reason: str = "mp_deliveryreason"
    """text: why the invoice was not e-mailed (the policy's reason)"""
    status_values: dict[str, int] = {
        "open": 100000000,
        "partly-paid": 100000001,
        "paid": 100000002,
        "overpaid": 100000003,
        "cancelled": 100000004,
    }
    """the choice number of each invoice status, as JSON"""
    delivery_values: dict[str, int] = {
        "pending": 100000000,
        "emailed": 100000001,
        "to-print": 100000002,
        "refused": 100000003,
        "failed": 100000004,
    }
    """the choice number of each delivery state, as JSON"""


class PaymentMap(_Map):
    """Payments received, one per bank transaction; unmatched ones wait for review."""

    table: str = "mp_payment"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_payments"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_paymentid"
    """primary key column (a GUID)"""
    key: str = Field(default="mp_key", description="column of the alternate key")
    invoice: str = "mp_invoiceid"
    """lookup column to the invoice the payment settles (empty: unknown reference)"""
    invoice_nav: str = "mp_InvoiceId"
    """navigation property of the invoice lookup"""
    amount: str = "mp_amount"
    """decimal: the amount paid"""
    currency: str = "mp_currency"
    """text: the currency paid in"""
    reference: str = "mp_reference"
    """text: the payment reference the payer gave (OCR, KID)"""
    paid_on: str = "mp_paidon"
    """date the bank booked the payment"""
    source: str = "mp_source"
    """text: where the payment came from (a bank file, the provider's webhook)"""
    match: str = "mp_match"
    """choice column: matched, partial, overpaid, unknown reference, deduction"""
    needs_review: str = "mp_needsreview"
    """yes/no: the office must look at the payment"""
    match_values: dict[str, int] = {
        "matched": 100000000,
        "partial": 100000001,
        "overpaid": 100000002,
        "unknown-reference": 100000003,
        "deduction": 100000004,
    }
    """the choice number of each match outcome, as JSON"""


class PaymentFileMap(_Map):
    """Bank files read: one row per file (by its digest), with the import's checkpoint."""

    table: str = "mp_paymentfile"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "mp_paymentfiles"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "mp_paymentfileid"
    """primary key column (a GUID)"""
    name: str = "mp_name"
    """primary name column: the file's name"""
    digest: str = Field(default="mp_digest", description="column of the alternate key")
    format: str = "mp_format"
    """text: the file format (BgMax, Nets OCR giro)"""
    status: str = "mp_status"
    """choice column: importing, imported"""
    position: str = "mp_position"
    """whole number: how many payments of the file are written (the checkpoint)"""
    payments: str = "mp_payments"
    """whole number: payments in the file"""
    total: str = "mp_total"
    """decimal: the file's total amount"""
    status_values: dict[str, int] = {"importing": 100000000, "imported": 100000001}
    """the choice number of each import status, as JSON"""


class AttachmentMap(_Map):
    """E-mail attachments (``activitymimeattachment``), deep-inserted with their e-mail."""

    table: str = "activitymimeattachment"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "activitymimeattachments"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    email_nav: str = Field(
        default="email_activity_mime_attachment", description="the e-mail's collection"
    )
    file_name: str = "filename"
    """the attachment's file name"""
    mime_type: str = "mimetype"
    """the attachment's MIME type (application/pdf)"""
    body: str = Field(default="body", description="the file's content, base64-encoded")
    object_type: str = "objecttypecode"
    """the type of the activity it is attached to (email)"""


class NoteMap(_Map):
    """Notes (``annotation``) with a file: the printable invoices for post."""

    table: str = "annotation"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "annotations"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "annotationid"
    """primary key column (a GUID)"""
    subject: str = "subject"
    """the note's title"""
    text: str = "notetext"
    """the note's text"""
    file_name: str = "filename"
    """the attached file's name"""
    mime_type: str = "mimetype"
    """the attached file's MIME type"""
    body: str = Field(default="documentbody", description="the file's content, base64-encoded")
    is_document: str = "isdocument"
    """yes/no: the note carries a file"""
    object_type: str = "objecttypecode"
    """the type of the row the note is on (the invoice table)"""
    invoice_nav: str = Field(
        default="objectid_mp_invoice", description="the note's link to its invoice"
    )


class CaseMap(_Map):
    """The person's cases (``incident``), shown on their own page."""

    table: str = "incident"
    """logical name of the table, e.g. in a `$filter` or when provisioning"""
    entity_set: str = "incidents"
    """entity set name: the Web API collection of the rows (usually the plural)"""
    id: str = "incidentid"
    """primary key column (a GUID)"""
    title: str = "title"
    """the case's title as the person sees it"""
    number: str = "ticketnumber"
    """the case number Dynamics gives"""
    customer: str = "customerid"
    """the case's customer lookup (the person)"""
    state: str = "statecode"
    """state column: active, resolved, cancelled"""
    created_on: str = "createdon"
    """Dataverse's own creation timestamp (newest cases first)"""
    state_values: dict[str, int] = {"active": 0, "resolved": 1, "cancelled": 2}
    """the state number of each case state, as JSON"""


class SchemaMap(_Map):
    """Every table, column and choice value the product uses."""

    registration: RegistrationMap = RegistrationMap()
    contact: ContactMap = ContactMap()
    task: TaskMap = TaskMap()
    preferences: PreferenceMap = PreferenceMap()
    membership: MembershipMap = MembershipMap()
    lifecycle_event: LifecycleEventMap = LifecycleEventMap()
    tombstone: TombstoneMap = TombstoneMap()
    erasure_request: ErasureRequestMap = ErasureRequestMap()
    checkpoint: CheckpointMap = CheckpointMap()
    template: TemplateMap = TemplateMap()
    email: EmailMap = EmailMap()
    selfservice_link: SelfServiceLinkMap = SelfServiceLinkMap()
    degree: DegreeMap = DegreeMap()
    team: TeamMap = TeamMap()
    membership_type: MembershipTypeMap = MembershipTypeMap()
    application: ApplicationMap = ApplicationMap()
    invoice: InvoiceMap = InvoiceMap()
    payment: PaymentMap = PaymentMap()
    payment_file: PaymentFileMap = PaymentFileMap()
    attachment: AttachmentMap = AttachmentMap()
    case: CaseMap = CaseMap()
    note: NoteMap = NoteMap()

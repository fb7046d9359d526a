"""The preferences and consent policy: every refusal, and the contact columns it reads."""

from __future__ import annotations

from dataclasses import replace

import pytest

from plugins.core.schema import product_schema
from plugins.core.schema_map import ContactMap, PreferenceMap
from plugins.sync.policy import (
    Action,
    Channel,
    Recipient,
    Refusal,
    check,
    contact_columns,
    recipient_from_contact,
)

WILLING = Recipient(
    person_id="p1",
    protected=False,
    topics=frozenset({"newsletter", "events"}),
    channels=frozenset({Channel.EMAIL, Channel.SMS, Channel.POST}),
    consented=True,
    has_email=True,
    has_mobile=True,
    has_address=True,
)
EMAIL = Action(Channel.EMAIL)


def refusal(recipient: Recipient, action: Action = EMAIL) -> Refusal | None:
    return check(recipient, action).refusal


@pytest.mark.parametrize("channel", list(Channel))
def test_a_willing_reachable_person_may_be_contacted_on_each_channel(channel: Channel) -> None:
    verdict = check(WILLING, Action(channel, topic="events", bulk=True))
    assert verdict.allowed
    assert verdict.reason == "allowed"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"deceased": True}, Refusal.DECEASED),
        ({"no_communication": True}, Refusal.NO_COMMUNICATION),
        ({"emigrated": True}, Refusal.EMIGRATED),
        ({"active": False}, Refusal.INACTIVE),
    ],
)
def test_nobody_deceased_unregistered_emigrated_or_inactive(
    change: dict[str, bool], expected: Refusal
) -> None:
    for channel in Channel:
        assert refusal(replace(WILLING, **change), Action(channel)) is expected


def test_deceased_is_the_reason_given_before_anything_else() -> None:
    gone = replace(WILLING, deceased=True, no_communication=True, do_not_email=True)
    verdict = check(gone, EMAIL)
    assert not verdict.allowed
    assert verdict.reason == "deceased"


def test_donotemail_forbids_all_email_but_not_post() -> None:
    person = replace(WILLING, do_not_email=True)
    assert refusal(person) is Refusal.DO_NOT_EMAIL
    assert refusal(person, Action(Channel.POST)) is None


def test_donotbulkemail_forbids_mass_email_only() -> None:
    person = replace(WILLING, do_not_bulk_email=True)
    assert refusal(person, Action(Channel.EMAIL, bulk=True)) is Refusal.DO_NOT_BULK_EMAIL
    assert refusal(person, Action(Channel.EMAIL, bulk=False)) is None


def test_an_unconfirmed_address_gets_no_email_but_other_channels_still_work() -> None:
    person = replace(WILLING, email_unconfirmed=True)
    assert refusal(person) is Refusal.EMAIL_UNCONFIRMED
    assert refusal(person, Action(Channel.POST)) is None
    row = {"contactid": "c1", "emailaddress1": "a@example.se", "mp_emailconfirmation": 100000000}
    assert recipient_from_contact(row, ContactMap(), PreferenceMap()).email_unconfirmed
    row["mp_emailconfirmation"] = 100000001
    assert not recipient_from_contact(row, ContactMap(), PreferenceMap()).email_unconfirmed


def test_donotpostalmail_and_donotphone() -> None:
    assert refusal(replace(WILLING, do_not_postal_mail=True), Action(Channel.POST)) is (
        Refusal.DO_NOT_POSTAL_MAIL
    )
    assert refusal(replace(WILLING, do_not_phone=True), Action(Channel.SMS)) is Refusal.DO_NOT_PHONE
    assert refusal(replace(WILLING, do_not_phone=True), EMAIL) is None


def test_a_channel_the_person_did_not_choose_is_refused() -> None:
    email_only = replace(WILLING, channels=frozenset({Channel.EMAIL}))
    assert refusal(email_only, Action(Channel.SMS)) is Refusal.CHANNEL_NOT_CHOSEN
    assert refusal(email_only, Action(Channel.POST)) is Refusal.CHANNEL_NOT_CHOSEN
    never_asked = replace(WILLING, channels=frozenset())
    assert refusal(never_asked) is Refusal.CHANNEL_NOT_CHOSEN


def test_a_topic_needs_to_be_chosen_and_consent_recorded() -> None:
    assert refusal(WILLING, Action(Channel.EMAIL, topic="giving")) is Refusal.TOPIC_NOT_CHOSEN
    no_consent = replace(WILLING, consented=False)
    assert refusal(no_consent, Action(Channel.EMAIL, topic="events")) is Refusal.NO_CONSENT
    # A message about the membership itself carries no topic.
    assert refusal(no_consent, Action(Channel.EMAIL)) is None


def test_post_never_reveals_a_protected_address() -> None:
    person = replace(WILLING, protected=True)
    assert refusal(person, Action(Channel.POST)) is Refusal.PROTECTED_ADDRESS
    assert refusal(person, EMAIL) is None


def test_a_person_must_be_reachable_on_the_channel() -> None:
    assert refusal(replace(WILLING, has_email=False)) is Refusal.UNREACHABLE
    assert refusal(replace(WILLING, has_mobile=False), Action(Channel.SMS)) is Refusal.UNREACHABLE
    assert refusal(replace(WILLING, has_address=False), Action(Channel.POST)) is (
        Refusal.UNREACHABLE
    )


# ------------------------------------------------------------- contact columns

COLUMNS = ContactMap()
PREFERENCES = PreferenceMap()


def contact(**values: object) -> dict[str, object]:
    return {"contactid": "c1", **values}


def test_recipient_from_a_contact_row() -> None:
    row = contact(
        statecode=0,
        mp_protectionlevel=100000000,
        mp_topics="100000000,100000004",
        mp_channels="100000000,100000002",
        mp_consenton="2025-01-02T03:04:05Z",
        emailaddress2="a@example.se",
        address1_line1="Storgatan 1",
        address1_postalcode="11122",
        donotbulkemail=True,
    )
    recipient = recipient_from_contact(row, COLUMNS, PREFERENCES)
    assert recipient == Recipient(
        person_id="c1",
        protected=False,
        do_not_bulk_email=True,
        topics=frozenset({"newsletter", "giving"}),
        channels=frozenset({Channel.EMAIL, Channel.POST}),
        consented=True,
        has_email=True,
        has_address=True,
    )


def test_a_contact_without_a_stated_protection_counts_as_protected() -> None:
    for level in (None, 100000001, 100000002, 100000003):
        row = contact(mp_protectionlevel=level)
        assert recipient_from_contact(row, COLUMNS, PREFERENCES).protected


def test_flags_and_an_inactive_contact_are_read() -> None:
    row = contact(statecode=1, mp_deceased=True, mp_emigrated=True, mp_nocommunication=True)
    recipient = recipient_from_contact(row, COLUMNS, PREFERENCES)
    assert (recipient.active, recipient.deceased, recipient.emigrated) == (False, True, True)
    assert recipient.no_communication
    assert recipient.channels == frozenset()


def test_the_columns_read_exist_on_the_contact_table() -> None:
    table = product_schema().table("contact")
    assert set(contact_columns(COLUMNS)) <= set(table.columns)


def test_a_bounced_address_does_not_count_and_the_refusal_says_so() -> None:
    c = ContactMap()
    row = {
        c.id: "p1", c.channels: "100000000,100000001", c.emails[0]: "Gone@Example.se",
        c.undeliverable_email: " gone@example.se", c.mobile_phone: "+46701234567",
    }
    bounced = recipient_from_contact(row, c, PreferenceMap())
    assert not bounced.has_email and bounced.email_undeliverable
    assert refusal(bounced) is Refusal.EMAIL_UNDELIVERABLE
    assert refusal(bounced, Action(Channel.SMS)) is None
    # Another address given later is used: the bounce named the old one only.
    other = recipient_from_contact({**row, c.emails[1]: "new@example.se"}, c, PreferenceMap())
    assert other.has_email and not other.email_undeliverable and refusal(other) is None
    assert c.undeliverable_email in contact_columns(c)

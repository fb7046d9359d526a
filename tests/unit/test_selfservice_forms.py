"""The pages' form checks: every field, what was typed kept, nothing valid until all is."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from plugins.core.schema import product_schema
from plugins.core.schema_map import SchemaMap
from plugins.selfservice import forms

PREFS = SchemaMap().preferences
RULES = forms.Rules(
    topics=tuple(PREFS.topic_values), channels=tuple(PREFS.channel_values),
    countries=("SE", "NO"), today=date(2025, 3, 1),
)


def form(**fields: Any) -> dict[str, list[str]]:
    base: dict[str, Any] = {
        "first_name": "Anna", "last_name": "Svensson", "email": " anna@example.se ",
        "national_id": "", "phone": "", "consent": "yes",
    }
    base.update(fields)
    return {k: v if isinstance(v, list) else [v] for k, v in base.items() if v is not None}


def problems(**fields: Any) -> dict[str, str]:
    checked = forms.check_profile(form(**fields), RULES)
    return {name: problem.key for name, problem in checked.problems.items()}


def test_a_valid_form_gives_the_profile_with_canonical_values() -> None:
    checked = forms.check_profile(
        form(national_id="900101-1239", phone="+46 (0)70-123 45 67", topics=["events", "giving"],
             channels=["email"], self_declared="yes"),
        RULES,
    )

    assert checked.valid
    profile = checked.result
    assert profile is not None
    assert profile.email == "anna@example.se"
    assert profile.national_id == "199001011239"
    assert profile.phone == "+460701234567"
    assert profile.topics == {"events", "giving"} and profile.channels == {"email"}
    assert profile.self_declared and profile.consent


def test_a_norwegian_number_is_accepted_where_norway_is_configured() -> None:
    checked = forms.check_profile(form(national_id="150765 00565"), RULES)

    assert checked.result is not None and checked.result.national_id == "15076500565"
    swedish_only = forms.Rules(topics=(), channels=(), countries=("SE",))
    assert forms.check_profile(form(national_id="15076500565"), swedish_only).problems


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"first_name": "  "}, {"first_name": "error_required"}),
        ({"last_name": None}, {"last_name": "error_required"}),
        ({"first_name": "Anna2"}, {"first_name": "error_invalid_name"}),
        ({"first_name": "<script>"}, {"first_name": "error_invalid_name"}),
        ({"last_name": "x" * 51}, {"last_name": "error_too_long"}),
        ({"email": ""}, {"email": "error_required"}),
        ({"email": "anna@"}, {"email": "error_invalid_email"}),
        ({"email": "a" * 96 + "@x.se"}, {"email": "error_too_long"}),
        ({"national_id": "19900101-1238"}, {"national_id": "error_national_id_checksum"}),
        ({"national_id": "19901301-1234"}, {"national_id": "error_national_id_date"}),
        ({"national_id": "12345"}, {"national_id": "error_national_id_length"}),
        ({"national_id": "abc"}, {"national_id": "error_national_id"}),
        ({"phone": "070-12"}, {"phone": "error_invalid_phone"}),
        ({"phone": "call me"}, {"phone": "error_invalid_phone"}),
        ({"phone": "+46+70123456"}, {"phone": "error_invalid_phone"}),
        ({"topics": ["events", "lottery"]}, {"topics": "error_invalid_choice"}),
        ({"channels": ["pigeon"]}, {"channels": "error_invalid_choice"}),
        ({"consent": None}, {"consent": "error_consent_required"}),
        ({"consent": "no"}, {"consent": "error_consent_required"}),
    ],
)
def test_each_bad_field_gets_its_own_problem(
    fields: dict[str, Any], expected: dict[str, str]
) -> None:
    assert problems(**fields) == expected


def test_names_people_really_have_are_accepted() -> None:
    for name in ("O'Brien", "O\u2019Brien", "Anna-Karin", "Jean Luc", "Øyvind", "Åsa", "J. R."):
        assert problems(first_name=name) == {}, name


def test_all_problems_come_at_once_and_what_was_typed_is_kept() -> None:
    checked = forms.check_profile(
        form(first_name="", email="nope", national_id="19900101-1238", topics=["x"],
             consent=None, phone="12"),
        RULES,
    )

    assert checked.result is None and not checked.valid
    assert set(checked.problems) == {
        "first_name", "email", "national_id", "topics", "consent", "phone",
    }
    assert checked.typed.value("email") == "nope"
    assert checked.typed.value("national_id") == "19900101-1238"
    assert checked.typed.is_ticked("topics", "x")


def test_the_identity_number_may_be_required_and_an_update_may_leave_it_out() -> None:
    strict = forms.Rules(
        topics=(), channels=(), countries=("SE",), national_id_required=True,
    )

    assert forms.check_profile(form(), strict).problems["national_id"].key == "error_required"
    assert forms.check_profile(form(), strict, national_id_optional=True).valid


def test_the_link_request_needs_one_valid_address() -> None:
    assert forms.check_email_request({"email": ["  bo@example.se "]}).result == "bo@example.se"
    assert forms.check_email_request({"email": ["bo"]}).problems["email"].key == (
        "error_invalid_email"
    )
    assert forms.check_email_request({}).problems["email"].key == "error_required"


def test_the_unregistration_form_reads_the_terminate_box() -> None:
    assert forms.check_unregistration({"terminate": ["yes"]}).result is True
    assert forms.check_unregistration({}).result is False


def test_the_honeypot_is_noticed() -> None:
    assert forms.honeypot_filled({"website": ["http://spam.example"]})
    assert not forms.honeypot_filled({"website": [""]})
    assert not forms.honeypot_filled({})


def test_the_length_limits_are_the_registration_table_columns() -> None:
    columns = product_schema().table("mp_registration").columns

    assert columns["mp_firstname"].max_length == forms.NAME_MAX
    assert columns["mp_lastname"].max_length == forms.NAME_MAX
    assert columns["mp_email"].max_length == forms.EMAIL_MAX
    assert columns["mp_phone"].max_length == forms.PHONE_MAX
    assert columns["mp_nationalid"].max_length == forms.NATIONAL_ID_MAX

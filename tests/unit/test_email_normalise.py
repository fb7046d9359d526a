"""E-mail match keys, syntax check and masking for logs."""

from __future__ import annotations

import pytest

from plugins.identity import is_valid_email, mask_email, mask_national_id, normalise_email


def test_match_key_trims_and_case_folds() -> None:
    assert normalise_email("  Anna.Svensson@Example.SE\n") == "anna.svensson@example.se"


def test_local_part_is_case_folded_not_just_lowered() -> None:
    assert normalise_email("STRAßE@example.de") == "strasse@example.de"


@pytest.mark.parametrize("address", ["first.last+news@gmail.com", "f.i.r.s.t@university.se"])
def test_no_provider_specific_tricks(address: str) -> None:
    assert normalise_email(address) == address


def test_international_addresses_are_accepted() -> None:
    assert normalise_email("Åsa@Exämple.se") == "åsa@exämple.se"


@pytest.mark.parametrize(
    "address",
    [
        "plain",
        "a@b",
        "@example.se",
        "anna@",
        "anna..b@example.se",
        ".anna@example.se",
        "anna.@example.se",
        "an na@example.se",
        "anna@-example.se",
        "anna@example-.se",
        "anna@example..se",
        "anna@example.123",
        '"quoted"@example.se',
        "anna@[127.0.0.1]",
        "anna@exa_mple.se",
        "anna@example.se\u200b",
        "a" * 65 + "@example.se",
        "anna@" + "a" * 64 + ".se",
        "anna@" + ("a" * 60 + ".") * 5 + "se",
        "",
        None,
    ],
)
def test_invalid_addresses(address: str | None) -> None:
    assert not is_valid_email(address)
    assert normalise_email(address) is None


@pytest.mark.parametrize(
    "address", ["a@b.se", "anna.svensson@sub.example.co.uk", "o'brien@example.ie", "x-y_z@a-b.se"]
)
def test_valid_addresses(address: str) -> None:
    assert is_valid_email(address)


def test_mask_email_keeps_first_letter_and_top_level_domain() -> None:
    assert mask_email(" Anna.Svensson@Example.SE ") == "a***@***.se"
    assert mask_email("not-an-address") == "***"
    assert mask_email(None) == "<none>"


def test_mask_national_id_keeps_length_and_last_two() -> None:
    assert mask_national_id("197010632391") == "**********91"
    assert mask_national_id("131052-308T") == "*********8T"
    assert mask_national_id("123") == "***"
    assert mask_national_id("") == "<none>"

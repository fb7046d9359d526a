"""CSRF tokens: bound to the session cookie and the form, expiring, unforgeable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugins.selfservice.csrf import (
    CsrfError,
    check_csrf,
    csrf_token,
    is_session_id,
    new_session_id,
)
from plugins.selfservice.signing import KeyRing

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEYS = KeyRing({"k1": b"csrf-test-key-0123456789-0123456789"}, "k1")
LIFETIME = timedelta(minutes=120)


def test_a_token_fits_its_session_and_form() -> None:
    session = new_session_id()
    token = csrf_token(KEYS, session, "register", NOW, LIFETIME)

    use = check_csrf(KEYS, token, session, "register", NOW + timedelta(minutes=119))
    assert use.expires_at == NOW + LIFETIME


def test_every_token_has_its_own_id_to_be_recorded_once_used() -> None:
    session = new_session_id()
    first, second = (csrf_token(KEYS, session, "register", NOW, LIFETIME) for _ in range(2))
    ids = {check_csrf(KEYS, token, session, "register", NOW).id for token in (first, second)}
    assert len(ids) == 2
    assert check_csrf(KEYS, first, session, "register", NOW).id in ids


@pytest.mark.parametrize(
    ("session", "form", "at"),
    [
        ("other", "register", NOW),
        ("same", "request:update", NOW),
        ("same", "register", NOW + LIFETIME),
    ],
)
def test_a_token_does_not_fit_another_session_form_or_time(
    session: str, form: str, at: datetime
) -> None:
    mine = new_session_id()
    token = csrf_token(KEYS, mine, "register", NOW, LIFETIME)
    presented = mine if session == "same" else new_session_id()

    with pytest.raises(CsrfError):
        check_csrf(KEYS, token, presented, form, at)


@pytest.mark.parametrize("token", [None, "", "k1.AAAA.BBBB", "garbage"])
def test_missing_or_malformed_tokens_are_refused(token: str | None) -> None:
    with pytest.raises(CsrfError):
        check_csrf(KEYS, token, new_session_id(), "register", NOW)


def test_no_session_cookie_means_no_valid_token() -> None:
    token = csrf_token(KEYS, new_session_id(), "register", NOW, LIFETIME)

    with pytest.raises(CsrfError):
        check_csrf(KEYS, token, None, "register", NOW)


def test_a_token_made_with_another_key_is_refused() -> None:
    session = new_session_id()
    other = KeyRing({"k1": b"another-key-0123456789-0123456789-01"}, "k1")
    token = csrf_token(other, session, "register", NOW, LIFETIME)

    with pytest.raises(CsrfError):
        check_csrf(KEYS, token, session, "register", NOW)


def test_session_ids_are_random_and_recognisable() -> None:
    ids = {new_session_id() for _ in range(100)}

    assert len(ids) == 100
    assert all(is_session_id(i) for i in ids)
    assert not is_session_id("short") and not is_session_id(None)
    assert not is_session_id("x" * 42 + ";")

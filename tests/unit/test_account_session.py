"""The member page's sign-in tokens: who, until when, from which browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugins.selfservice.account_session import (
    session_contact,
    session_token,
    sign_in_state,
    state_language,
)
from plugins.selfservice.signing import (
    KeyRing,
    LinkPurpose,
    TokenError,
    TokenExpired,
    link_token,
    new_link,
    read_link_token,
)

KEYS = KeyRing({"k1": b"k" * 32}, "k1")
NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
PERSON = "11111111-1111-4111-8111-111111111111"


def test_session_names_its_person_until_it_expires() -> None:
    token = session_token(KEYS, PERSON, NOW, timedelta(minutes=30))
    assert session_contact(KEYS, token, NOW + timedelta(minutes=29)) == PERSON
    with pytest.raises(TokenExpired):
        session_contact(KEYS, token, NOW + timedelta(minutes=30))
    with pytest.raises(TokenError):
        session_contact(KeyRing({"k1": b"x" * 32}, "k1"), token, NOW)


def test_sessions_and_links_are_not_interchangeable() -> None:
    session = session_token(KEYS, PERSON, NOW, timedelta(minutes=30))
    with pytest.raises(TokenError):
        read_link_token(KEYS, session, NOW)
    link = link_token(KEYS, new_link(LinkPurpose.UPDATE, NOW, timedelta(minutes=30)))
    with pytest.raises(TokenError):
        session_contact(KEYS, link, NOW)


def test_state_is_bound_to_the_browser_and_carries_the_language() -> None:
    state = sign_in_state(KEYS, "session-a", "nb", NOW)
    assert state_language(KEYS, state, "session-a", NOW + timedelta(minutes=5)) == "nb"
    with pytest.raises(TokenError):
        state_language(KEYS, state, "session-b", NOW)
    with pytest.raises(TokenExpired):
        state_language(KEYS, state, "session-a", NOW + timedelta(minutes=11))

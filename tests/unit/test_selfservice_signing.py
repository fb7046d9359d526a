"""Signed links and tokens: signing, tampering, expiry, key rotation, purpose separation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from plugins.selfservice.signing import (
    KeyRing,
    Link,
    LinkPurpose,
    TokenError,
    TokenExpired,
    link_token,
    new_link,
    read_link_token,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OLD = b"old-key-0123456789-0123456789-0123456789"
NEW = b"new-key-0123456789-0123456789-0123456789"


def ring(active: str = "k1", **keys: bytes) -> KeyRing:
    return KeyRing(keys or {"k1": OLD}, active)


def test_a_link_reads_back_as_it_was_made() -> None:
    keys = ring()
    link = new_link(LinkPurpose.UNREGISTER, NOW, timedelta(minutes=60))

    read = read_link_token(keys, link_token(keys, link), NOW + timedelta(minutes=59))

    assert read == link
    assert read.expires_at == NOW + timedelta(minutes=60)
    assert uuid.UUID(read.id).version == 4


def test_a_link_token_carries_nothing_personal_and_is_url_safe() -> None:
    link = Link(str(uuid.uuid4()), LinkPurpose.UPDATE, NOW)

    token = link_token(ring(), link)

    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert link.id not in token and len(token) < 100


def test_a_link_stops_working_when_it_expires() -> None:
    keys = ring()
    link = new_link(LinkPurpose.UPDATE, NOW, timedelta(minutes=30))
    token = link_token(keys, link)

    with pytest.raises(TokenExpired) as expired:
        read_link_token(keys, token, NOW + timedelta(minutes=30))

    assert expired.value.link == link


@pytest.mark.parametrize("position", [3, 10, 20, 40, -1])
def test_any_changed_character_breaks_the_signature(position: int) -> None:
    keys = ring()
    token = link_token(keys, new_link(LinkPurpose.UPDATE, NOW, timedelta(hours=1)))
    replacement = "A" if token[position] != "A" else "B"
    tampered = token[:position] + replacement + token[position + 1 :] if position != -1 else (
        token[:-1] + replacement
    )

    with pytest.raises(TokenError):
        read_link_token(keys, tampered, NOW)


@pytest.mark.parametrize("token", ["", "x", "k1..", "k1.abc", "k1.abc.def", "a.b.c.d", "k1.!!.??"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(TokenError):
        read_link_token(ring(), token, NOW)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    link = new_link(LinkPurpose.UPDATE, NOW, timedelta(hours=1))
    forged = link_token(KeyRing({"k1": NEW}, "k1"), link)

    with pytest.raises(TokenError, match="bad signature"):
        read_link_token(ring(), forged, NOW)


def test_rotation_keeps_links_in_flight_working_until_the_old_key_goes() -> None:
    before = ring("k1", k1=OLD)
    during = ring("k2", k1=OLD, k2=NEW)
    after = ring("k2", k2=NEW)
    old_link = new_link(LinkPurpose.UPDATE, NOW, timedelta(hours=1))
    old_token = link_token(before, old_link)
    new_token = link_token(during, new_link(LinkPurpose.UPDATE, NOW, timedelta(hours=1)))

    assert read_link_token(during, old_token, NOW) == old_link
    assert new_token.startswith("k2.")
    assert read_link_token(after, new_token, NOW).purpose is LinkPurpose.UPDATE
    with pytest.raises(TokenError, match="unknown key"):
        read_link_token(after, old_token, NOW)


def test_a_token_made_for_another_purpose_is_not_a_link() -> None:
    keys = ring()
    link_shaped = link_token(keys, new_link(LinkPurpose.UPDATE, NOW, timedelta(hours=1)))
    payload = keys.verify("link", link_shaped)

    with pytest.raises(TokenError):
        read_link_token(keys, keys.sign("csrf", payload), NOW)


def test_a_key_ring_refuses_an_active_key_it_does_not_hold() -> None:
    with pytest.raises(ValueError):
        KeyRing({"k1": OLD}, "k2")
    with pytest.raises(ValueError):
        KeyRing({"bad id": OLD}, "bad id")


def test_derived_values_are_stable_per_key_and_differ_between_keys() -> None:
    assert ring().derive("pkce", "state") == ring().derive("pkce", "state")
    assert ring().derive("pkce", "state") != ring().derive("nonce", "state")
    assert ring().derive("pkce", "state") != ring("k1", k1=NEW).derive("pkce", "state")
    assert len(ring().derive("pkce", "state")) == 43

"""Function and master keys of the local host."""

from __future__ import annotations

import pytest

from sandbox.host import keys as host_keys
from sandbox.host.keys import KeyRing, presented_key, same_key

NAMES = ["open", "guarded", "admin_only"]


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(NAMES, {"guarded": "guarded-key"}, master_key="master-key")


def test_anonymous_needs_no_key(ring: KeyRing) -> None:
    assert ring.allows("ANONYMOUS", "open", None)
    assert ring.allows("anonymous", "open", "anything")


def test_function_level_takes_its_own_key_or_the_master_key(ring: KeyRing) -> None:
    assert ring.allows("FUNCTION", "guarded", "guarded-key")
    assert ring.allows("function", "guarded", "master-key")
    assert not ring.allows("function", "guarded", None)
    assert not ring.allows("function", "guarded", "wrong")
    assert not ring.allows("function", "guarded", "")


def test_a_function_key_does_not_open_another_function(ring: KeyRing) -> None:
    assert not ring.allows("function", "open", "guarded-key")
    assert ring.allows("function", "open", ring.function_key("open"))


def test_admin_level_takes_only_the_master_key(ring: KeyRing) -> None:
    assert ring.allows("ADMIN", "admin_only", "master-key")
    assert not ring.allows("admin", "admin_only", ring.function_key("admin_only"))
    assert not ring.allows("admin", "admin_only", None)
    assert ring.allows_admin("master-key")
    assert not ring.allows_admin("guarded-key")


def test_unknown_auth_level_is_closed(ring: KeyRing) -> None:
    assert not ring.allows("system", "guarded", "master-key")


def test_missing_keys_are_generated_unique_and_long() -> None:
    ring = KeyRing(NAMES)
    generated = {ring.master_key, *(ring.function_key(n) for n in NAMES)}
    assert len(generated) == 4
    assert all(len(key) >= 40 for key in generated)


def test_keys_for_unknown_functions_are_refused() -> None:
    with pytest.raises(ValueError, match="typo"):
        KeyRing(NAMES, {"typo": "k"})


def test_header_wins_over_code_query_parameter() -> None:
    assert presented_key({"x-functions-key": "h"}, {"code": "q"}) == "h"
    assert presented_key({}, {"code": "q"}) == "q"
    assert presented_key({}, {}) is None
    assert presented_key({"x-functions-key": ""}, {"code": ""}) is None


def test_keys_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []

    def recording_compare(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(host_keys.hmac, "compare_digest", recording_compare)
    assert same_key("k", "k") and not same_key("k", "x")
    assert calls == [(b"k", b"k"), (b"k", b"x")]


def test_non_ascii_keys_compare_without_error() -> None:
    assert not same_key("nyckel-å", "nyckel")
    assert same_key("nyckel-å", "nyckel-å")

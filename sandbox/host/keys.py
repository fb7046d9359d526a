"""Function keys and the master key, checked the way the Functions host checks them.

``anonymous`` functions are open. ``function`` functions accept that function's key or the
master key. ``admin`` functions and the ``/admin/`` routes accept only the master key. The
key comes from the ``x-functions-key`` header, else from the ``code`` query parameter.
Keys not given are generated, as the host creates a default key for each function.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping

KEY_HEADER = "x-functions-key"
KEY_QUERY_PARAMETER = "code"
ANONYMOUS = "anonymous"
FUNCTION = "function"
ADMIN = "admin"
AUTH_LEVELS = (ANONYMOUS, FUNCTION, ADMIN)


def generate_key() -> str:
    """A new random key (about as long as the host's own)."""
    return secrets.token_urlsafe(40)


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request carries: the header first, then ``?code=``."""
    return headers.get(KEY_HEADER) or query.get(KEY_QUERY_PARAMETER) or None


def same_key(presented: str | None, expected: str) -> bool:
    """Compare in constant time, so response timing does not leak the key."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


class KeyRing:
    """The master key and one key per function of one app."""

    def __init__(
        self,
        function_names: Iterable[str],
        function_keys: Mapping[str, str] | None = None,
        master_key: str | None = None,
    ) -> None:
        names = list(function_names)
        given = dict(function_keys or {})
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise ValueError(f"keys given for functions the app does not have: {unknown}")
        self.master_key = master_key or generate_key()
        self._function_keys = {name: given.get(name) or generate_key() for name in names}

    def function_key(self, name: str) -> str:
        """The key of function ``name``."""
        return self._function_keys[name]

    def allows(self, auth_level: str, function_name: str, presented: str | None) -> bool:
        """Whether ``presented`` opens a function of ``auth_level``; unknown levels never."""
        level = auth_level.lower()
        if level == ANONYMOUS:
            return True
        if same_key(presented, self.master_key):
            return level in (FUNCTION, ADMIN)
        return level == FUNCTION and same_key(presented, self._function_keys[function_name])

    def allows_admin(self, presented: str | None) -> bool:
        """Whether ``presented`` is the master key (for ``/admin/`` routes)."""
        return same_key(presented, self.master_key)

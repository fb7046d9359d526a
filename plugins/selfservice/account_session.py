"""The member page's own sign-in token (pure): who signed in with OpenID Connect, until when.

After a sign-in the page is opened with a short-lived token that names the contact and
expires; it is signed (HMAC, the pages' key ring) under its own purpose, so it is worth
nothing as an e-mailed link or a CSRF token, and a link token is worth nothing here. The
sign-in's ``state`` binds the round trip to the browser's session and carries the language.
"""

from __future__ import annotations

import struct
import uuid
from datetime import datetime, timedelta

from .signing import KeyRing, TokenError, TokenExpired

SESSION_PURPOSE = "account-session"
STATE_PURPOSE = "account-state"
_SESSION = struct.Struct(">q16s")
_STATE = struct.Struct(">q32s2s")


def session_token(keys: KeyRing, contact_id: str, now: datetime, lifetime: timedelta) -> str:
    """A token for the page of ``contact_id`` that works for ``lifetime``."""
    expires = int((now + lifetime).timestamp())
    return keys.sign(SESSION_PURPOSE, _SESSION.pack(expires, uuid.UUID(contact_id).bytes))


def session_contact(keys: KeyRing, token: str, now: datetime) -> str:
    """The contact a session token names; TokenError when forged, TokenExpired when late."""
    payload = keys.verify(SESSION_PURPOSE, token)
    if len(payload) != _SESSION.size:
        raise TokenError("wrong session size")
    expires, raw = _SESSION.unpack(payload)
    if now.timestamp() >= expires:
        raise TokenExpired("sign-in expired")
    return str(uuid.UUID(bytes=raw))


def sign_in_state(keys: KeyRing, session_id: str, lang: str, now: datetime) -> str:
    """The ``state`` of a sign-in from the browser with ``session_id`` (10 minutes)."""
    binding = keys.derive(STATE_PURPOSE, session_id).encode()[:32]
    expires = int((now + timedelta(minutes=10)).timestamp())
    return keys.sign(STATE_PURPOSE, _STATE.pack(expires, binding, lang.encode()))


def state_language(keys: KeyRing, state: str, session_id: str, now: datetime) -> str:
    """The language a valid ``state`` from this browser carries; TokenError otherwise."""
    payload = keys.verify(STATE_PURPOSE, state)
    if len(payload) != _STATE.size:
        raise TokenError("wrong state size")
    expires, binding, lang = _STATE.unpack(payload)
    if binding != keys.derive(STATE_PURPOSE, session_id).encode()[:32]:
        raise TokenError("state of another browser")
    if now.timestamp() >= expires:
        raise TokenExpired("sign-in took too long")
    return lang.decode(errors="replace")

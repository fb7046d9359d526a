"""CSRF protection: a signed token bound to the browser's session cookie and to one form (pure).

The session cookie holds a random id (``HttpOnly``, ``SameSite=Lax``). Each form carries a
token signed with the key ring over an expiry and a digest of the session id and the form's
name, so a page on another site can neither read a token nor make one that fits the
victim's cookie, and a token taken from one form does not fit another.

Each token also carries a random id. A form that writes (a registration, a link request)
records that id as used in Dataverse, in the same change set as what it writes (a row of
the link table whose id is the token's, created with ``If-None-Match: *``): a second
submission of the same token fails there, on whichever Function App instance it arrives.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .signing import KeyRing, TokenError

_LAYOUT = struct.Struct(">q16s16s")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


class CsrfError(ValueError):
    """The form's token is missing, forged, expired, or does not fit the session cookie."""


@dataclass(frozen=True)
class FormUse:
    """A form's token as checked: its id (a UUID, recorded once used) and its expiry."""

    id: str
    expires_at: datetime


def new_session_id() -> str:
    """A fresh random session id for the cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def is_session_id(value: str | None) -> bool:
    """Whether a cookie value has the shape :func:`new_session_id` gives."""
    return bool(value and _SESSION_ID.match(value))


def csrf_token(
    keys: KeyRing, session_id: str, form: str, now: datetime, lifetime: timedelta
) -> str:
    """The token to put in ``form`` for the browser holding ``session_id``."""
    expires = int((now + lifetime).astimezone(UTC).timestamp())
    payload = _LAYOUT.pack(expires, _binding(session_id, form), uuid.uuid4().bytes)
    return keys.sign("csrf", payload)


def check_csrf(
    keys: KeyRing, token: str | None, session_id: str | None, form: str, now: datetime
) -> FormUse:
    """The token's id and expiry; :class:`CsrfError` unless ``token`` was made for this
    session and form, in time (whether it was used already is Dataverse's to say)."""
    if not token or not is_session_id(session_id):
        raise CsrfError("no token or no session")
    try:
        payload = keys.verify("csrf", token)
    except TokenError as exc:
        raise CsrfError(str(exc)) from exc
    if len(payload) != _LAYOUT.size:
        raise CsrfError("wrong payload size")
    expires, binding, token_id = _LAYOUT.unpack(payload)
    if not hmac.compare_digest(binding, _binding(session_id or "", form)):
        raise CsrfError("token of another session or form")
    if now.astimezone(UTC).timestamp() >= expires:
        raise CsrfError("token expired")
    return FormUse(str(uuid.UUID(bytes=token_id)), datetime.fromtimestamp(expires, UTC))


def _binding(session_id: str, form: str) -> bytes:
    return hashlib.sha256(f"{session_id}\x00{form}".encode()).digest()[:16]

"""Signed tokens (HMAC-SHA256) with key rotation, and the e-mailed links built on them (pure).

A token is ``<key id>.<payload>.<mac>`` (payload and MAC base64url without padding). The MAC
covers a purpose label, the key id and the payload, so a token made for one purpose (a link)
is worthless for another (a CSRF token). New tokens are signed with the active key; any key
of the ring verifies, which is how keys are rotated without breaking links in flight.

A link token carries only the link row's id (random, 122 bits), its purpose and its expiry:
nothing personal reaches a URL. Whether it was used already is kept in Dataverse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import SecretStr

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$")
_LINK_LAYOUT = struct.Struct(">BBq16s")
_LINK_VERSION = 1


class TokenError(ValueError):
    """A token that is malformed, signed with an unknown key or wrongly signed."""


class TokenExpired(TokenError):
    """A well-signed token whose time is up; ``link`` is what it was for (if a link)."""

    def __init__(self, message: str, link: Link | None = None) -> None:
        super().__init__(message)
        self.link = link


class KeyRing:
    """HMAC keys by id; ``active`` signs, every key verifies."""

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError("the active key id is not among the keys")
        for key_id in keys:
            if not _KEY_ID.match(key_id):
                raise ValueError("key ids are 1-32 letters, digits, '-' or '_'")
        self._keys = dict(keys)
        self.active = active

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, SecretStr], active: str) -> KeyRing:
        """The ring of the configured secrets (``SELFSERVICE__LINK_KEYS``)."""
        return cls({kid: key.get_secret_value().encode() for kid, key in secrets.items()}, active)

    def sign(self, purpose: str, payload: bytes) -> str:
        """A token carrying ``payload`` for ``purpose``, signed with the active key."""
        body = _b64(payload)
        mac = self._mac(self.active, purpose, body)
        return f"{self.active}.{body}.{mac}"

    def verify(self, purpose: str, token: str) -> bytes:
        """The payload of a token made for ``purpose`` by a key of the ring; else TokenError."""
        match = _TOKEN.match(token or "")
        if match is None:
            raise TokenError("malformed token")
        key_id, body, mac = match.groups()
        if key_id not in self._keys:
            raise TokenError("unknown key")
        if not hmac.compare_digest(self._mac(key_id, purpose, body), mac):
            raise TokenError("bad signature")
        return _unb64(body)

    def derive(self, purpose: str, data: str) -> str:
        """A secret value only this ring can compute from ``data`` (active key; 43 chars)."""
        return self._mac(self.active, purpose, data)

    def _mac(self, key_id: str, purpose: str, body: str) -> str:
        message = f"{purpose}\x00{key_id}\x00{body}".encode()
        return _b64(hmac.new(self._keys[key_id], message, hashlib.sha256).digest())


class LinkPurpose(StrEnum):
    """What an e-mailed link lets the person do."""

    UPDATE = "update"
    UNREGISTER = "unregister"
    # Confirming a registration: proof of control of an address on file (an existing
    # person), or of the address typed in (a new person's double opt-in).
    CONFIRM = "confirm"


_PURPOSE_CODES = {LinkPurpose.UPDATE: 1, LinkPurpose.UNREGISTER: 2, LinkPurpose.CONFIRM: 3}


@dataclass(frozen=True)
class Link:
    """An e-mailed link: the id of its Dataverse row, what it is for, when it expires."""

    id: str
    purpose: LinkPurpose
    expires_at: datetime


def new_link(purpose: LinkPurpose, now: datetime, lifetime: timedelta) -> Link:
    """A fresh link with a random id (the Dataverse row is created with that id)."""
    return Link(str(uuid.uuid4()), purpose, _whole_seconds(now + lifetime))


def link_token(keys: KeyRing, link: Link) -> str:
    """The signed token that goes into the link's URL."""
    payload = _LINK_LAYOUT.pack(
        _LINK_VERSION,
        _PURPOSE_CODES[link.purpose],
        int(link.expires_at.timestamp()),
        uuid.UUID(link.id).bytes,
    )
    return keys.sign("link", payload)


def read_link_token(keys: KeyRing, token: str, now: datetime) -> Link:
    """The link a token stands for; TokenError when forged or damaged, TokenExpired when late."""
    payload = keys.verify("link", token)
    if len(payload) != _LINK_LAYOUT.size:
        raise TokenError("wrong payload size")
    version, code, expires, raw_id = _LINK_LAYOUT.unpack(payload)
    purposes = {number: purpose for purpose, number in _PURPOSE_CODES.items()}
    if version != _LINK_VERSION or code not in purposes:
        raise TokenError("unknown link format")
    link = Link(str(uuid.UUID(bytes=raw_id)), purposes[code], datetime.fromtimestamp(expires, UTC))
    if now >= link.expires_at:
        raise TokenExpired("link expired", link)
    return link


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise TokenError("malformed token") from exc

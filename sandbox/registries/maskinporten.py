"""Maskinporten's token endpoint (JWT-bearer grant) for the Folkeregisteret emulator.

``POST /registries/maskinporten/token`` with ``grant_type`` =
``urn:ietf:params:oauth:grant-type:jwt-bearer`` and an ``assertion``: a JWT signed (RS256)
by a registered client, issuer = client id, audience = this endpoint's base URL with a
trailing slash, lifetime at most 120 s, and a ``scope`` the client may have. The answer is a
bearer token (``expires_in`` seconds); refusals are OAuth 2.0 errors (400 ``invalid_grant``
/ ``invalid_scope`` / ``unsupported_grant_type``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jwt
from werkzeug.wrappers import Request, Response

from .base import RegistryEmulator, json_answer, text_answer
from .seed import SeedClient

if TYPE_CHECKING:
    from ..core import Host

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 120
_MAX_ASSERTION_LIFETIME = 120


@dataclass(frozen=True)
class Grant:
    """What an issued token allows, until when."""

    client_id: str
    scopes: frozenset[str]
    expires_at: float


class MaskinportenEmulator(RegistryEmulator):
    """Issues and validates bearer tokens for registered clients."""

    name = "maskinporten"

    def __init__(self, sandbox: Host) -> None:
        super().__init__(sandbox)
        self.clients: dict[str, SeedClient] = {}
        self._grants: dict[str, Grant] = {}

    @property
    def audience(self) -> str:
        return f"{self.base_url}/"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def register(self, client_id: str, client: SeedClient) -> None:
        """Let ``client_id`` sign assertions with ``client.public_key_pem``."""
        with self._lock:
            self.clients[client_id] = client

    def grant_for(self, token: str) -> Grant | None:
        """The live grant behind a bearer token, or None (unknown or expired)."""
        with self._lock:
            grant = self._grants.get(token)
        return grant if grant is not None and grant.expires_at > time.time() else None

    def authenticate(self, request: Request) -> Response | None:
        return None

    def serve(self, request: Request, path: str) -> Response:
        if path != "token":
            return text_answer(404, "Not Found")
        if request.method != "POST":
            return text_answer(405, "Method Not Allowed")
        if request.form.get("grant_type") != GRANT_TYPE:
            return _error("unsupported_grant_type", "use the JWT-bearer grant")
        try:
            client_id, claims = self._verified(request.form.get("assertion", ""))
        except jwt.PyJWTError as exc:
            return _error("invalid_grant", str(exc))
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes or not scopes <= set(self.clients[client_id].scopes):
            return _error("invalid_scope", "scope not granted to this client")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = Grant(client_id, scopes, time.time() + TOKEN_LIFETIME)
        return json_answer(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "scope": " ".join(sorted(scopes)),
            }
        )

    def malformed(self) -> Response:
        return json_answer({"token_type": "Bearer"})

    def _verified(self, assertion: str) -> tuple[str, dict[str, object]]:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
        client_id = str(unverified.get("iss", ""))
        with self._lock:
            client = self.clients.get(client_id)
        if client is None:
            raise jwt.InvalidIssuerError(f"unknown client {client_id!r}")
        claims = jwt.decode(
            assertion,
            client.public_key_pem,
            algorithms=["RS256"],
            audience=self.audience,
            issuer=client_id,
            options={"require": ["iss", "aud", "iat", "exp", "jti"]},
        )
        if int(claims["exp"]) - int(claims["iat"]) > _MAX_ASSERTION_LIFETIME:
            raise jwt.InvalidTokenError("assertion lives longer than 120 seconds")
        return client_id, claims


def _error(code: str, description: str) -> Response:
    return json_answer({"error": code, "error_description": description}, status=400)

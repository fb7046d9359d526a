"""Maskinporten tokens for Folkeregisteret (JWT-bearer grant, RFC 7523).

The client signs a short-lived JWT (issuer = its client id, audience = Maskinporten, the
scopes wanted) with its private key (own key with a ``kid``, or the virksomhetssertifikat's
key) and exchanges it at the token endpoint for a bearer token, which is cached until
shortly before it expires.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jwt
import requests

from plugins.core.settings import RegistrySettings

from .errors import RegistryRejected, reading
from .http import RegistryHttp, json_body

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_ASSERTION_LIFETIME = 60
_REFRESH_MARGIN = 10.0


class MaskinportenAuth(requests.auth.AuthBase):
    """Puts a current Maskinporten bearer token on every request."""

    def __init__(
        self,
        settings: RegistrySettings.Maskinporten,
        scope: str,
        http: RegistryHttp,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.client_id or not settings.key_file:
            raise ValueError("maskinporten: client_id and key_file must be set")
        self._settings = settings
        self._scope = scope
        self._http = http
        self._clock = clock
        self._private_key = Path(settings.key_file).read_bytes()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        """A bearer token valid for at least a few more seconds."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - _REFRESH_MARGIN:
                self._token, self._expires_at = self._fetch()
            return self._token

    def _fetch(self) -> tuple[str, float]:
        now = int(self._clock())
        claims = {
            "iss": self._settings.client_id,
            "aud": self._settings.audience,
            "scope": self._scope,
            "iat": now,
            "exp": now + _ASSERTION_LIFETIME,
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": self._settings.key_id} if self._settings.key_id else None
        assertion = jwt.encode(claims, self._private_key, algorithm="RS256", headers=headers)
        response = self._http.request(
            "POST",
            self._settings.token_url,
            data={"grant_type": GRANT_TYPE, "assertion": assertion},
        )
        if response is None:
            raise RegistryRejected(self._http.registry, "no Maskinporten token endpoint", 404)
        body = json_body(self._http.registry, response)
        with reading(self._http.registry, "token response"):
            return str(body["access_token"]), now + float(body["expires_in"])

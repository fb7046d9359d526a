"""Signing in with an OpenID Connect provider to prefill name and e-mail (the adapter).

The authorization code flow with PKCE (S256) and a nonce, as LinkedIn and the Nordic eID
brokers offer it: the browser is sent to the provider's ``authorization_endpoint``, comes
back with a code, and the code is exchanged at the ``token_endpoint`` with the client
secret (``client_secret_basic``). The ID token's signature is checked against the provider's
published keys, and its issuer, audience, lifetime and nonce against what was sent. Only the
given name, family name and (verified) e-mail are taken. Nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

from plugins.core.settings import SelfServiceSettings

if TYPE_CHECKING:
    import jwt

_ALGORITHMS = ["RS256", "PS256", "ES256"]
_LEEWAY_SECONDS = 60


class OidcError(Exception):
    """The provider could not be reached, refused, or answered with something unusable."""


@dataclass(frozen=True)
class Identity:
    """What the provider vouched for that the registration form can use."""

    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class _Metadata:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def code_challenge(verifier: str) -> str:
    """The S256 PKCE challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """One provider, as the settings describe it; thread-safe."""

    def __init__(
        self, settings: SelfServiceSettings.OpenIdConnect, session: requests.Session | None = None
    ) -> None:
        self.settings = settings
        self.issuer = settings.issuer.rstrip("/")
        self._http = session or requests.Session()
        self._metadata: _Metadata | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._lock = threading.RLock()

    @property
    def display_name(self) -> str:
        """The provider's name for the sign-in button."""
        return self.settings.display_name

    def authorization_url(
        self, redirect_uri: str, state: str, nonce: str, verifier: str, language: str
    ) -> str:
        """Where to send the browser to sign in."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.settings.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge(verifier),
                "code_challenge_method": "S256",
                "ui_locales": language,
            }
        )
        return f"{self._discover().authorization_endpoint}?{query}"

    def identity(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> Identity:
        """Exchange the code and read the person's name and e-mail from the ID token."""
        secret = self.settings.client_secret
        answer = self._call(
            "POST",
            self._discover().token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(self.settings.client_id, secret.get_secret_value() if secret else ""),
        )
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the token answer has no id_token")
        claims = self._verified_claims(id_token)
        if claims.get("nonce") != nonce:
            raise OidcError("the ID token's nonce is not the one sent")
        verified = claims.get("email_verified", True) in (True, "true")
        return Identity(
            first_name=str(claims.get("given_name") or ""),
            last_name=str(claims.get("family_name") or ""),
            email=str(claims.get("email") or "") if verified else "",
        )

    def _verified_claims(self, id_token: str) -> dict[str, Any]:
        import jwt  # only a sign-in needs it; pages without one start without PyJWT

        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = self._signing_key(kid)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=_ALGORITHMS,
                audience=self.settings.client_id,
                issuer=self.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise OidcError(f"the ID token is not valid: {exc}") from exc
        return claims

    def _signing_key(self, kid: str | None) -> jwt.PyJWK:
        for refresh in (False, True):
            keys = self._key_set(refresh)
            for key in keys.keys:
                if kid is None or key.key_id == kid:
                    return key
        raise OidcError("no published key matches the ID token")

    def _key_set(self, refresh: bool) -> jwt.PyJWKSet:
        import jwt

        with self._lock:
            if self._keys is None or refresh:
                answer = self._call("GET", self._discover().jwks_uri)
                try:
                    self._keys = jwt.PyJWKSet.from_dict(answer)
                except jwt.PyJWTError as exc:
                    raise OidcError("the provider's key set is unusable") from exc
            return self._keys

    def _discover(self) -> _Metadata:
        with self._lock:
            if self._metadata is None:
                document = self._call("GET", f"{self.issuer}/.well-known/openid-configuration")
                if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                    raise OidcError("the discovery document names another issuer")
                try:
                    self._metadata = _Metadata(
                        authorization_endpoint=document["authorization_endpoint"],
                        token_endpoint=document["token_endpoint"],
                        jwks_uri=document["jwks_uri"],
                    )
                except KeyError as exc:
                    raise OidcError(f"the discovery document lacks {exc}") from exc
            return self._metadata

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(
                method, url, timeout=self.settings.timeout_seconds, **kwargs
            )
        except requests.RequestException as exc:
            raise OidcError(f"{method} {url} failed: {type(exc).__name__}") from exc
        if not response.ok:
            raise OidcError(f"{method} {url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise OidcError(f"{method} {url} did not answer JSON") from exc
        if not isinstance(body, dict):
            raise OidcError(f"{method} {url} did not answer a JSON object")
        return body

"""An OpenID Connect provider, as LinkedIn and the Nordic eID brokers run one, under ``/oidc/``.

It serves the authorization code flow with PKCE the self-service pages use to prefill a
registration:

- ``GET /oidc/.well-known/openid-configuration``: discovery (issuer ``<sandbox>/oidc``);
- ``GET /oidc/jwks``: the RS256 signing key;
- ``GET /oidc/authorize``: the sign-in page (one button per test person; no script), after
  checking the client, its registered ``redirect_uri``, ``response_type=code``, the
  ``openid`` scope and the PKCE method; ``POST /oidc/authorize`` signs the chosen person in
  and redirects back with a single-use code (or ``error=access_denied``);
- ``POST /oidc/token``: the code for an ID token, with ``client_secret_basic`` or
  ``client_secret_post``, the same ``redirect_uri`` and the PKCE ``code_verifier``.

Errors are answered as RFC 6749 says: a bad client or redirect URI on a page (never a
redirect), other authorization errors as ``error=`` on the redirect, token errors as JSON
``{"error": ...}`` (401 ``invalid_client``, else 400). Codes live 60 seconds and work once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from .core import Host

PREFIX = "/oidc"
CODE_LIFETIME_SECONDS = 60
ID_TOKEN_LIFETIME_SECONDS = 300
_ALGORITHM = "RS256"


@dataclass(frozen=True)
class OidcClient:
    """A relying party registered with the provider."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class OidcUser:
    """A person who can sign in, and the claims the provider vouches for."""

    sub: str
    given_name: str
    family_name: str
    email: str
    email_verified: bool = True


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    user: OidcUser
    nonce: str | None
    challenge: str | None
    expires: float
    used: bool = False


@dataclass
class _Key:
    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, Any]:
        key: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**key, "kid": self.kid, "use": "sig", "alg": _ALGORITHM}


class _Refusal(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class OpenIdProvider:
    """The provider of one sandbox: its clients, its people, its codes."""

    def __init__(self, sandbox: Host) -> None:
        self.sandbox = sandbox
        self.clients: dict[str, OidcClient] = {}
        self.users: dict[str, OidcUser] = {}
        self._grants: dict[str, _Grant] = {}
        self._key: _Key | None = None
        self._lock = threading.Lock()
        sandbox.mount(f"{PREFIX}/", self.handle)

    @property
    def issuer(self) -> str:
        """The issuer URL (also where discovery starts); valid once the sandbox listens."""
        return f"{self.sandbox.base_url}{PREFIX}"

    def register_client(self, client_id: str, client_secret: str, *redirect_uris: str) -> None:
        """Register a relying party with the redirect URIs it may use."""
        self.clients[client_id] = OidcClient(client_id, client_secret, tuple(redirect_uris))

    def add_user(self, user: OidcUser) -> None:
        """Someone who can sign in."""
        self.users[user.sub] = user

    # ------------------------------------------------------------------- HTTP

    def handle(self, request: Request) -> Response:
        """Serve one request under ``/oidc/``."""
        route = (request.method, request.path[len(PREFIX):])
        if route == ("GET", "/.well-known/openid-configuration"):
            return _json(self._configuration())
        if route == ("GET", "/jwks"):
            return _json({"keys": [self._signing_key().jwk()]})
        if route[1] == "/authorize" and request.method in ("GET", "POST"):
            return self._authorize(request)
        if route == ("POST", "/token"):
            return self._token(request)
        return _page("Not found", "<p>No such endpoint.</p>", 404)

    def _configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [_ALGORITHM],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub", "given_name", "family_name", "email", "email_verified", "nonce",
            ],
        }

    def _authorize(self, request: Request) -> Response:
        params = request.values
        client = self.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None:
            return _page("Sign-in error", "<p>Unknown client_id.</p>", 400)
        if redirect_uri not in client.redirect_uris:
            return _page("Sign-in error", "<p>redirect_uri is not registered.</p>", 400)
        state = params.get("state")
        try:
            if params.get("response_type") != "code":
                raise _Refusal("unsupported_response_type", "only response_type=code")
            if "openid" not in params.get("scope", "").split():
                raise _Refusal("invalid_scope", "the openid scope is required")
            challenge = params.get("code_challenge")
            if challenge and params.get("code_challenge_method") != "S256":
                raise _Refusal("invalid_request", "code_challenge_method must be S256")
            if request.method == "GET":
                return self._sign_in_page(params)
            if params.get("action") == "cancel":
                raise _Refusal("access_denied", "the person cancelled")
            user = self.users.get(params.get("sub", ""))
            if user is None:
                raise _Refusal("access_denied", "no such person")
        except _Refusal as refusal:
            return _redirect(redirect_uri, error=refusal.error,
                             error_description=refusal.description, state=state)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                client.client_id, redirect_uri, user, params.get("nonce"), challenge,
                time.monotonic() + CODE_LIFETIME_SECONDS,
            )
        return _redirect(redirect_uri, code=code, state=state)

    def _sign_in_page(self, params: Any) -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in params.items(multi=True)
        )
        buttons = "".join(
            f'<p><button type="submit" name="sub" value="{html.escape(u.sub)}">'
            f"Sign in as {html.escape(u.given_name)} {html.escape(u.family_name)}</button></p>"
            for u in self.users.values()
        )
        body = (
            f'<form method="post" action="{PREFIX}/authorize">{hidden}{buttons}'
            '<p><button type="submit" name="action" value="cancel">Cancel</button></p></form>'
        )
        return _page("Sign in", body, 200)

    def _token(self, request: Request) -> Response:
        try:
            client = self._client_of(request)
            form = request.form
            if form.get("grant_type") != "authorization_code":
                raise _Refusal("unsupported_grant_type", "only authorization_code")
            with self._lock:
                grant = self._grants.get(form.get("code", ""))
                if grant is None or grant.used or grant.expires < time.monotonic():
                    raise _Refusal("invalid_grant", "the code is unknown, used or expired")
                grant.used = True
            if grant.client_id != client.client_id:
                raise _Refusal("invalid_grant", "the code was issued to another client")
            if grant.redirect_uri != form.get("redirect_uri"):
                raise _Refusal("invalid_grant", "redirect_uri differs from the authorization")
            if grant.challenge is not None and not _pkce_ok(
                form.get("code_verifier", ""), grant.challenge
            ):
                raise _Refusal("invalid_grant", "the code_verifier does not match")
        except _Refusal as refusal:
            response = _json(
                {"error": refusal.error, "error_description": refusal.description},
                refusal.status,
            )
            if refusal.status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="oidc"'
            return response
        return _json(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": ID_TOKEN_LIFETIME_SECONDS,
                "id_token": self._id_token(grant),
            }
        )

    def _client_of(self, request: Request) -> OidcClient:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            client_id, secret = auth.username or "", auth.password or ""
        else:
            client_id = request.form.get("client_id", "")
            secret = request.form.get("client_secret", "")
        client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(client.client_secret, secret):
            raise _Refusal("invalid_client", "client authentication failed", 401)
        return client

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        user = grant.user
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": user.sub,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME_SECONDS,
            "auth_time": now,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
            "email_verified": user.email_verified,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        key = self._signing_key()
        return jwt.encode(claims, key.private, algorithm=_ALGORITHM, headers={"kid": key.kid})

    def _signing_key(self) -> _Key:
        # Made on first use: an RSA key costs tens of milliseconds, and most sandboxes
        # never sign anyone in.
        with self._lock:
            if self._key is None:
                private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self._key = _Key(secrets.token_hex(8), private)
            return self._key


def _pkce_ok(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(expected, challenge)


def _redirect(uri: str, **params: str | None) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if "?" in uri else "?"
    return Response(status=302, headers={"Location": f"{uri}{separator}{query}"})


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(body), status=status, content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _page(title: str, body: str, status: int) -> Response:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h1>{title}</h1>{body}</body></html>"
    )
    return Response(document, status=status, content_type="text/html; charset=utf-8")

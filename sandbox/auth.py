"""The sandbox's Microsoft identity platform (Entra ID) tenant and the Web API's bearer check.

Serves what MSAL's client-credentials flow calls, for the configured tenant:
``GET /<tenant>/v2.0/.well-known/openid-configuration`` (tenant discovery),
``GET /<tenant>/discovery/v2.0/keys`` (the signing keys) and
``POST /<tenant>/oauth2/v2.0/token`` (client secret, or a client assertion signed with a
certificate registered in :class:`~sandbox.config.SandboxConfig`). Failures are answered in
Entra's own shape (``error``, ``error_description`` starting with the AADSTS code,
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``).

Access tokens look like the v1 tokens Entra issues for Dataverse (``aud`` = environment URL,
``iss`` = ``https://sts.windows.net/<tenant>/``, ``appid``, ``oid``, ``tid``). They are signed
with a per-sandbox ES256 key (fast to generate, publishable as a JWK); :meth:`rotate_signing_key`
replaces it so every outstanding token stops working, as after a real key roll-over.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from werkzeug.wrappers import Request, Response

from . import errors
from .store import Caller

if TYPE_CHECKING:
    from .core import Handler, Host

APPLICATION_USER_ID = "00000000-0000-4000-8000-0000000a9905"
APPLICATION_USER_OBJECT_ID = "00000000-0000-4000-8000-0000000a0b1d"
APPLICATION_USER_NAME = "# member-plugins"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Entra's discovery answers for any tenant id path; only the configured one exists.
_ENTRA_PATH = re.compile(
    r"^/(?P<tenant>[^/]+)/(?P<endpoint>oauth2/v2\.0/token|v2\.0/\.well-known/openid-configuration"
    r"|discovery/v2\.0/keys)$"
)
_ALGORITHM = "ES256"
_ASSERTION_ALGORITHMS = ["PS256", "RS256"]
_RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
_VERIFIED_CACHE_SIZE = 1024


class EntraError(Exception):
    """A token-endpoint failure, answered the way Entra ID answers it."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message


def _missing_parameter(name: str) -> EntraError:
    return EntraError(
        400, "invalid_request", 900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def _unknown_tenant(tenant: str) -> EntraError:
    return EntraError(
        400, "invalid_request", 90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud. Check with your subscription administrator, this "
        "may happen if there are no active subscriptions for the tenant.",
    )


def _unknown_client(client_id: str, tenant: str) -> EntraError:
    return EntraError(
        400, "unauthorized_client", 700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant.",
    )


def _invalid_secret(client_id: str) -> EntraError:
    return EntraError(
        401, "invalid_client", 7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        f"client secret value, not the client secret ID, for a secret added to app "
        f"'{client_id}'.",
    )


def _invalid_assertion(code: int, message: str) -> EntraError:
    return EntraError(401, "invalid_client", code, message)


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    private: ec.EllipticCurvePrivateKey
    # Claims of tokens already verified with this key: a client sends the same token on
    # every request, and an ECDSA verification costs more than the sandbox's own work.
    verified: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    @classmethod
    def generate(cls) -> _SigningKey:
        return cls(uuid.uuid4().hex, ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        key: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        return {**key, "kid": self.kid, "use": "sig", "alg": _ALGORITHM}


class TokenService:
    """The tenant's token endpoint, the application user and the Web API's bearer check."""

    def __init__(self, sandbox: Host) -> None:
        self.sandbox = sandbox
        self._key = _SigningKey.generate()
        self._certificates = {
            thumbprint: cert
            for cert in map(_load_certificate, sandbox.config.client_certificates)
            for thumbprint in _thumbprints(cert)
        }
        with sandbox.store.transaction(sandbox.system_caller):
            sandbox.store.insert(
                "systemuser",
                {
                    "fullname": APPLICATION_USER_NAME,
                    "applicationid": sandbox.config.client_id,
                    "azureactivedirectoryobjectid": APPLICATION_USER_OBJECT_ID,
                },
                row_id=APPLICATION_USER_ID,
            )
        sandbox.mount("/", self._serve_entra)
        sandbox.add_api_middleware(self._authenticate)

    # ------------------------------------------------------------- Python API

    @property
    def application_user_id(self) -> str:
        """``systemuserid`` of the application user bound to the configured client id."""
        return APPLICATION_USER_ID

    @property
    def authority(self) -> str:
        """The authority URL to give MSAL (``<base url>/<tenant>``)."""
        return f"{self.sandbox.base_url}/{self.sandbox.config.tenant_id}"

    @property
    def issuer(self) -> str:
        """The ``iss`` of the access tokens (Entra's v1 issuer for the tenant)."""
        return f"https://sts.windows.net/{self.sandbox.config.tenant_id}/"

    def issue_token(
        self, client_id: str | None = None, lifetime_seconds: int | None = None
    ) -> str:
        """An access token for this environment, as the token endpoint would issue it.

        The audience is the environment URL, so call it once the sandbox is started.
        """
        config = self.sandbox.config
        lifetime = config.token_lifetime_seconds if lifetime_seconds is None else lifetime_seconds
        return self._sign(client_id or config.client_id, lifetime, assertion_used=False)

    def rotate_signing_key(self) -> None:
        """Replace the signing key: every token issued so far is rejected from now on."""
        self._key = _SigningKey.generate()

    # ------------------------------------------------------------ token issue

    def _sign(self, client_id: str, lifetime: int, *, assertion_used: bool) -> str:
        config = self.sandbox.config
        now = int(time.time())
        claims = {
            "aud": self.sandbox.base_url,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client_id,
            "appidacr": "2" if assertion_used else "1",
            "idp": self.issuer,
            "idtyp": "app",
            "oid": APPLICATION_USER_OBJECT_ID,
            "sub": APPLICATION_USER_OBJECT_ID,
            "tid": config.tenant_id,
            "uti": uuid.uuid4().hex,
            "ver": "1.0",
        }
        key = self._key
        return jwt.encode(
            claims, key.private, algorithm=_ALGORITHM, headers={"kid": key.kid, "typ": "JWT"}
        )

    # ---------------------------------------------------------- Entra routes

    def _serve_entra(self, request: Request) -> Response:
        match = _ENTRA_PATH.match(request.path)
        if match is None:
            raise errors.ODataError(
                404, "", f"No HTTP resource was found that matches the request URI "
                f"'{request.url}'."
            )
        tenant, endpoint = match["tenant"], match["endpoint"]
        try:
            if tenant.lower() != self.sandbox.config.tenant_id.lower():
                raise _unknown_tenant(tenant)
            if endpoint.endswith("token"):
                return self._token(request, tenant)
            if request.method != "GET":
                raise EntraError(
                    400, "invalid_request", 900561,
                    f"The endpoint only accepts GET requests. Received a {request.method} "
                    "request.",
                )
            if endpoint.endswith("keys"):
                return _entra_json({"keys": [self._key.jwk()]})
            return _entra_json(self._openid_configuration(tenant))
        except EntraError as exc:
            return self._entra_error(request, exc)

    def _openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{self.sandbox.base_url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post", "private_key_jwt",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }

    def _token(self, request: Request, tenant: str) -> Response:
        if request.method != "POST":
            raise EntraError(
                400, "invalid_request", 900561,
                f"The endpoint only accepts POST, OPTIONS requests. Received a {request.method} "
                "request.",
            )
        form = request.form
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _missing_parameter("grant_type")
        if grant_type != "client_credentials":
            raise EntraError(
                400, "unsupported_grant_type", 70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        client_id = form.get("client_id")
        if not client_id:
            raise _missing_parameter("client_id")
        if client_id.lower() != self.sandbox.config.client_id.lower():
            raise _unknown_client(client_id, tenant)
        self._check_scope(form.get("scope"))
        assertion_used = self._check_credential(request, client_id)
        lifetime = self.sandbox.config.token_lifetime_seconds
        body = {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._sign(
                self.sandbox.config.client_id, lifetime, assertion_used=assertion_used
            ),
        }
        return _entra_json(body)

    def _check_scope(self, scope: str | None) -> None:
        if not scope:
            raise _missing_parameter("scope")
        resources = [s for s in scope.split() if s not in _RESERVED_SCOPES]
        if len(resources) == 1 and resources[0].endswith("/.default"):
            # Entra also accepts the resource's trailing slash ("https://org/" + "/.default").
            resource = resources[0].removesuffix("/.default").rstrip("/")
            if resource.lower() == self.sandbox.base_url.lower():
                return
        raise EntraError(
            400, "invalid_scope", 70011,
            f"The provided value for the input parameter 'scope' is not valid. The scope "
            f"{scope} is not valid.",
        )

    def _check_credential(self, request: Request, client_id: str) -> bool:
        """Verify the client secret or certificate assertion; True when it was an assertion."""
        form = request.form
        secret = form.get("client_secret")
        assertion = form.get("client_assertion")
        if secret is not None:
            expected = self.sandbox.config.client_secret.encode()
            if not hmac.compare_digest(secret.encode(), expected):
                raise _invalid_secret(client_id)
            return False
        if assertion is None:
            raise EntraError(
                401, "invalid_client", 7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the "
                "'client_credentials' grant type.",
            )
        if form.get("client_assertion_type") != JWT_BEARER:
            raise EntraError(
                400, "invalid_request", 50027,
                f"Invalid client_assertion_type: expected '{JWT_BEARER}'.",
            )
        self._verify_assertion(assertion, client_id, self.sandbox.base_url + request.path)
        return True

    def _verify_assertion(self, assertion: str, client_id: str, token_endpoint: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise _invalid_assertion(50027, "JWT token is invalid or malformed.") from exc
        # MSAL pads its base64url thumbprints; RFC 7515 does not. Entra accepts both.
        thumbprint = (header.get("x5t#S256") or header.get("x5t") or "").rstrip("=")
        cert = self._certificates.get(thumbprint)
        if cert is None:
            raise _invalid_assertion(
                700027,
                "The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Thumbprint of "
                f"key used by client: '{_thumbprint_hex(thumbprint)}']",
            )
        try:
            claims = jwt.decode(
                assertion, cert.public_key(), algorithms=_ASSERTION_ALGORITHMS,
                audience=token_endpoint, options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _invalid_assertion(
                700024, "Client assertion is not within its valid time range."
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise _invalid_assertion(
                700027, "Client assertion contains an invalid signature."
            ) from exc
        except jwt.PyJWTError as exc:
            raise _invalid_assertion(50027, f"JWT token is invalid or malformed. ({exc})") from exc
        if claims["iss"] != client_id or claims["sub"] != client_id:
            raise _invalid_assertion(
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )

    def _entra_error(self, request: Request, exc: EntraError) -> Response:
        trace_id = str(uuid.uuid4())
        # Entra echoes the client's client-request-id (MSAL always sends one).
        correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        description = (
            f"AADSTS{exc.code}: {exc.message} Trace ID: {trace_id} Correlation ID: "
            f"{correlation_id} Timestamp: {stamp}"
        )
        body = {
            "error": exc.error,
            "error_description": description,
            "error_codes": [exc.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{self.sandbox.base_url}/error?code={exc.code}",
        }
        return _entra_json(body, status=exc.status, request_id=trace_id)

    # ------------------------------------------------------- Web API bearer

    def _authenticate(self, request: Request, nxt: Handler) -> Response:
        claims = self._verified_claims(request.headers.get("Authorization", ""))
        if claims.get("appid", "").lower() != self.sandbox.config.client_id.lower():
            raise errors.ODataError(
                403, "0x80072560", "The user is not a member of the organization."
            )
        headers = request.headers
        context: dict[str, Any] = {
            "tag": request.args.get("tag"),
            "user_agent": headers.get("User-Agent", ""),
        }
        if headers.get("x-ms-correlation-request-id"):
            context["correlation_id"] = headers["x-ms-correlation-request-id"]
        if headers.get("x-ms-client-request-id"):
            context["request_id"] = headers["x-ms-client-request-id"]
        request.environ["sandbox.caller"] = Caller(user_id=APPLICATION_USER_ID, **context)
        return nxt(request)

    def _verified_claims(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self._unauthorized("Authorization failed for the request.")
        key = self._key
        claims = key.verified.get(token)
        if claims is None:
            claims = self._decode(token, key)
            if len(key.verified) >= _VERIFIED_CACHE_SIZE:
                key.verified.clear()
            key.verified[token] = claims
        if claims["exp"] <= time.time():
            raise self._expired()
        return claims

    def _decode(self, token: str, key: _SigningKey) -> dict[str, Any]:
        try:
            if jwt.get_unverified_header(token).get("kid") != key.kid:
                raise jwt.InvalidSignatureError("token was signed with a key no longer in use")
            return jwt.decode(
                token, key.private.public_key(), algorithms=[_ALGORITHM],
                audience=self.sandbox.base_url,
                issuer=self.issuer,
                options={"require": ["exp", "nbf", "aud", "iss", "appid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise self._expired() from exc
        except jwt.PyJWTError as exc:
            raise self._unauthorized(f"Bearer token is not valid: {exc}.") from exc

    def _expired(self) -> errors.ODataError:
        return self._unauthorized(
            "Bearer token is expired. The access token expiry UTC time is earlier than current "
            "UTC time."
        )

    def _unauthorized(self, message: str) -> errors.ODataError:
        error = errors.unauthorized(message)
        # Dataverse names the authority and resource so a client can discover where to sign in.
        error.headers["WWW-Authenticate"] += (
            f", authorization_uri={self.authority}/oauth2/authorize, "
            f"resource_id={self.sandbox.base_url}/"
        )
        return error


def _entra_json(body: dict[str, Any], status: int = 200, request_id: str = "") -> Response:
    response = Response(
        json.dumps(body), status=status, content_type="application/json; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-store, no-cache"
    response.headers["Pragma"] = "no-cache"
    response.headers["x-ms-request-id"] = request_id or str(uuid.uuid4())
    return response


def _load_certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _thumbprints(cert: x509.Certificate) -> tuple[str, str]:
    """The certificate's ``x5t#S256`` and ``x5t`` header values (base64url, no padding)."""
    return (
        _b64url(cert.fingerprint(hashes.SHA256())),
        _b64url(cert.fingerprint(hashes.SHA1())),
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _thumbprint_hex(header_value: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(header_value + "=" * (-len(header_value) % 4))
    except ValueError:
        return header_value
    return raw.hex().upper()

"""Bearer tokens for the Dataverse Web API through msal.

Three credentials (``DataverseSettings.auth_method``):

- ``secret``: ``ConfidentialClientApplication`` with the client secret;
- ``certificate``: the same with a certificate: a PEM private key plus its SHA-1 thumbprint
  (or with the certificate in the same PEM file, from which msal derives the thumbprint), or a
  ``.pfx``/``.p12`` file (msal reads key and certificate from it);
- ``managed_identity``: ``ManagedIdentityClient`` with the system-assigned identity, or the
  user-assigned one named by ``managed_identity_client_id``.

Authority ``<authority_host>/<tenant_id>``; scope ``<environment url>/.default`` (managed
identity: the resource ``<environment url>``). msal keeps the tokens in an in-memory cache
and answers from it until five minutes before expiry, then fetches a new one, so a token is
refreshed before it expires. :func:`token_provider_for` hands out one provider per
configuration per process, so the msal application (and its cache) is built once.

Failures become :class:`~plugins.dataverse.errors.AuthenticationError` (msal's ``error``,
``error_description`` and AADSTS codes) or, when the authority cannot be reached,
:class:`~plugins.dataverse.errors.TransportError`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import msal
import requests

from plugins.core.settings import DataverseSettings

from .errors import AuthenticationError, TransportError
from .transport import new_session

_PFX_SUFFIXES = (".pfx", ".p12")


class TokenProvider(Protocol):
    """Something that hands out bearer tokens for one Dataverse environment."""

    def token(self, *, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` skips the cache (after a 401)."""
        ...


class MsalTokenProvider:
    """Tokens from msal for the credential the settings name; thread-safe."""

    def __init__(
        self, settings: DataverseSettings, http_client: requests.Session | None = None
    ) -> None:
        if not settings.url:
            raise AuthenticationError("invalid_configuration", "the environment URL is not set")
        self.settings = settings
        self.resource = settings.url.rstrip("/")
        self._http = http_client or new_session(settings, pool_size=2)
        self._cache = msal.TokenCache()
        self._lock = threading.Lock()
        self._app: msal.ConfidentialClientApplication | msal.ManagedIdentityClient | None = None

    def token(self, *, force_refresh: bool = False) -> str:
        """A valid access token, from msal's cache unless ``force_refresh``."""
        with self._lock:
            if force_refresh:
                self._forget_access_tokens()
            result = self._acquire()
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            raise AuthenticationError.from_msal(result if isinstance(result, dict) else {})
        return str(token)

    def _acquire(self) -> dict[str, Any]:
        try:
            app = self._application()
            if isinstance(app, msal.ManagedIdentityClient):
                return app.acquire_token_for_client(resource=self.resource)
            return app.acquire_token_for_client(scopes=[f"{self.resource}/.default"])
        except requests.RequestException as exc:
            raise TransportError(f"token request failed: {exc}") from exc
        except msal.ManagedIdentityError as exc:
            raise AuthenticationError("managed_identity_error", str(exc)) from exc
        except ValueError as exc:
            # msal raises ValueError for an authority it cannot use and a bad credential.
            raise AuthenticationError("invalid_configuration", str(exc)) from exc

    def _application(self) -> msal.ConfidentialClientApplication | msal.ManagedIdentityClient:
        if self._app is None:
            self._app = self._build()
        return self._app

    def _build(self) -> msal.ConfidentialClientApplication | msal.ManagedIdentityClient:
        settings = self.settings
        if settings.auth_method == "managed_identity":
            identity: msal.SystemAssignedManagedIdentity | msal.UserAssignedManagedIdentity
            if settings.managed_identity_client_id:
                identity = msal.UserAssignedManagedIdentity(
                    client_id=settings.managed_identity_client_id
                )
            else:
                identity = msal.SystemAssignedManagedIdentity()
            return msal.ManagedIdentityClient(
                identity, http_client=self._http, token_cache=self._cache
            )
        if not settings.tenant_id or not settings.client_id:
            raise AuthenticationError(
                "invalid_configuration", "tenant id and client id are required"
            )
        return msal.ConfidentialClientApplication(
            settings.client_id,
            client_credential=client_credential(settings),
            authority=f"{settings.authority_host.rstrip('/')}/{settings.tenant_id}",
            token_cache=self._cache,
            http_client=self._http,
            # Entra's instance discovery is a call to login.microsoftonline.com that only
            # validates the host; a sovereign cloud or a test authority would fail it.
            instance_discovery=settings.authority_host.rstrip("/")
            == "https://login.microsoftonline.com",
            timeout=settings.request_timeout_seconds,
        )

    def _forget_access_tokens(self) -> None:
        kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
        for item in list(self._cache.search(kind)):
            self._cache.remove_at(item)


def client_credential(settings: DataverseSettings) -> str | dict[str, Any]:
    """msal's ``client_credential`` for the secret or certificate the settings name."""
    password = (
        settings.certificate_password.get_secret_value() if settings.certificate_password else None
    )
    if settings.auth_method == "secret":
        if settings.client_secret is None or not settings.client_secret.get_secret_value():
            raise AuthenticationError("invalid_configuration", "the client secret is not set")
        return settings.client_secret.get_secret_value()
    path = settings.certificate_path
    if not path:
        raise AuthenticationError("invalid_configuration", "the certificate path is not set")
    credential: dict[str, Any] = {"passphrase": password} if password else {}
    if path.lower().endswith(_PFX_SUFFIXES):
        return {**credential, "private_key_pfx_path": path}
    try:
        pem = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthenticationError(
            "invalid_configuration", f"cannot read the certificate file: {exc}"
        ) from exc
    credential["private_key"] = pem
    if settings.certificate_thumbprint:
        credential["thumbprint"] = settings.certificate_thumbprint.replace(":", "")
    elif "BEGIN CERTIFICATE" in pem:
        credential["public_certificate"] = pem
    else:
        raise AuthenticationError(
            "invalid_configuration",
            "a PEM private key needs certificate_thumbprint or the certificate in the same file",
        )
    return credential


_PROVIDERS: dict[tuple[Any, ...], MsalTokenProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def token_provider_for(settings: DataverseSettings) -> MsalTokenProvider:
    """The process-wide provider for this configuration (built on first use)."""
    key = _identity(settings)
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get(key)
        if provider is None:
            provider = _PROVIDERS[key] = MsalTokenProvider(settings)
        return provider


def _identity(settings: DataverseSettings) -> tuple[Any, ...]:
    secret = settings.client_secret.get_secret_value() if settings.client_secret else None
    password = (
        settings.certificate_password.get_secret_value() if settings.certificate_password else None
    )
    return (
        settings.url.rstrip("/"),
        settings.auth_method,
        settings.tenant_id,
        settings.client_id,
        secret,
        settings.certificate_path,
        settings.certificate_thumbprint,
        password,
        settings.managed_identity_client_id,
        settings.authority_host,
        settings.ca_bundle,
    )

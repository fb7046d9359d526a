"""Every setting of the product, declared once (pydantic-settings).

Settings come from environment variables (in Azure: the Function App's application
settings; locally: ``local.settings.json``'s ``Values``). Nested groups use ``__``:
``DATAVERSE__URL``, ``DATAVERSE__CLIENT_ID``. The README's settings table lists them all.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .schema_map import SchemaMap


class DataverseSettings(BaseModel):
    """How to reach and authenticate to the Dataverse environment, and how hard to push it.

    ``auth_method`` picks the credential: ``secret`` (``client_secret``), ``certificate``
    (``certificate_path`` to a PEM private key with ``certificate_thumbprint``, or to a
    ``.pfx``/``.p12``) or ``managed_identity`` (system-assigned, or user-assigned when
    ``managed_identity_client_id`` is set).
    """

    url: str = Field(default="", description="environment URL, e.g. https://org.crm4.dynamics.com")
    auth_method: Literal["secret", "certificate", "managed_identity"] = "secret"
    tenant_id: str = Field(default="", description="Entra tenant id of the app registration")
    client_id: str = Field(default="", description="application (client) id")
    client_secret: SecretStr | None = None
    certificate_path: str | None = Field(
        default=None, description="PEM private key (with thumbprint) or a .pfx/.p12 file"
    )
    certificate_thumbprint: str | None = Field(
        default=None, description="SHA-1 thumbprint (hex) of the certificate of a PEM key"
    )
    certificate_password: SecretStr | None = None
    managed_identity_client_id: str | None = Field(
        default=None, description="client id of a user-assigned identity; empty = system"
    )
    authority_host: str = "https://login.microsoftonline.com"
    ca_bundle: str | None = Field(
        default=None, description="CA bundle to trust for Dataverse and the authority"
    )
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    retry_budget_seconds: float = Field(
        default=60.0, ge=0, description="total time one request may spend retrying"
    )
    max_attempts: int = Field(default=8, ge=1, description="attempts per request, retries included")
    retry_backoff_seconds: float = Field(
        default=0.5, gt=0, description="longest first backoff; doubles per retry (jittered)"
    )
    bulk_chunk_size: int = Field(default=1000, ge=1, description="rows per *Multiple request")
    bulk_parallelism: int = Field(default=4, ge=1, description="*Multiple requests in flight")
    page_size: int = Field(default=5000, ge=1, le=5000, description="odata.maxpagesize")
    user_agent_suffix: str = ""
    write_tag: str | None = Field(
        default=None, description="?tag= on every write, to recognise the product's own events"
    )


class RegistrySettings(BaseModel):
    """Which registries to use and how to authenticate to each, as each really does it.

    Every registry is off until ``enabled`` (``REGISTRIES__NAVET__ENABLED=true``). Ladok,
    Navet and SPAR authenticate with a client certificate (mutual TLS; PEM files, convert a
    ``.p12`` with ``openssl pkcs12 -nodes``); Navet and SPAR also identify the order or
    customer inside each message. FS uses HTTP Basic (plus a Gravitee API key behind an
    institution's gateway); Folkeregisteret a Maskinporten token. ``extra_headers`` (a JSON
    object) are sent on every request to that registry, e.g. the sandbox's stand-in for a
    client certificate, ``X-Sandbox-Client-Cert``, which plain loopback HTTP cannot carry.
    """

    class ClientCertificate(BaseModel):
        """A client certificate for mutual TLS."""

        cert_file: str = Field(description="PEM certificate (chain)")
        key_file: str = Field(description="PEM private key, unencrypted")

    class Http(BaseModel):
        """Timeouts and retries of every registry call (5xx, 429, timeouts are retried)."""

        timeout_seconds: float = Field(default=10.0, gt=0)
        max_attempts: int = Field(default=4, ge=1, description="attempts, retries included")
        backoff_seconds: float = Field(default=0.5, ge=0, description="first wait; doubles")
        max_backoff_seconds: float = Field(default=10.0, ge=0, description="cap on any one wait")

    class Ladok(BaseModel):
        """Ladok REST (the institution's own integration certificate, CN ``name@<HEI code>``)."""

        enabled: bool = False
        base_url: str = "https://api.ladok.se"
        client_cert: RegistrySettings.ClientCertificate | None = None
        ca_bundle: str | None = None
        extra_headers: dict[str, str] = {}

    class Fs(BaseModel):
        """FS REST (username and password per FS database, issued by FS central)."""

        enabled: bool = False
        base_url: str = "https://api.fellesstudentsystem.no"
        username: str = ""
        password: SecretStr | None = None
        gravitee_api_key: SecretStr | None = Field(
            default=None, description="X-Gravitee-Api-Key when FS is behind a Gravitee gateway"
        )
        ca_bundle: str | None = None
        extra_headers: dict[str, str] = {}

    class Navet(BaseModel):
        """Navet online look-up, SOAP ``personpostXML`` (authorities only)."""

        enabled: bool = False
        endpoint_url: str = "https://www2.skatteverket.se/na/na_epersondata/V2/personpostXML"
        client_cert: RegistrySettings.ClientCertificate | None = None
        org_nr: str = Field(default="", description="OrgNr: 12 digits, 16-prefixed")
        order_id: str = Field(default="", description="BestallningsId: NNNNNNNN-FONN-NNNN")
        ca_bundle: str | None = None
        extra_headers: dict[str, str] = {}

    class Spar(BaseModel):
        """SPAR Personsök, SOAP schema 2021.1 (identification block in every message)."""

        enabled: bool = False
        endpoint_url: str = "https://ext-ws.statenspersonadressregister.se/2021.1/"
        client_cert: RegistrySettings.ClientCertificate | None = None
        customer_number: str = Field(default="", description="KundNrLeveransMottagare")
        end_customer_number: str = Field(default="", description="KundNrSlutkund")
        assignment_id: str = Field(default="", description="UppdragId")
        end_user_id: str = Field(default="", description="SlutAnvandarId: who asks")
        ca_bundle: str | None = None
        extra_headers: dict[str, str] = {}

    class Maskinporten(BaseModel):
        """Maskinporten's JWT-bearer grant: a token for a JWT signed with the client's key."""

        token_url: str = "https://maskinporten.no/token"
        audience: str = "https://maskinporten.no/"
        client_id: str = ""
        key_file: str = Field(default="", description="PEM RSA private key (own key or cert)")
        key_id: str | None = Field(default=None, description="kid registered for an own key")

    class Folkeregisteret(BaseModel):
        """Folkeregisteret REST (Norway), per rettighetspakke."""

        enabled: bool = False
        base_url: str = "https://folkeregisteret.api.skatteetaten.no"
        rights_package: Literal[
            "offentlig-med-hjemmel", "offentlig-uten-hjemmel", "finans-og-begrenset"
        ] = "offentlig-uten-hjemmel"
        scope: str = "folkeregister:deling/offentligutenhjemmel"
        maskinporten: RegistrySettings.Maskinporten = Field(
            default_factory=lambda: RegistrySettings.Maskinporten()
        )
        ca_bundle: str | None = None
        extra_headers: dict[str, str] = {}

    http: Http = Field(default_factory=Http)
    ladok: Ladok = Field(default_factory=Ladok)
    fs: Fs = Field(default_factory=Fs)
    navet: Navet = Field(default_factory=Navet)
    spar: Spar = Field(default_factory=Spar)
    folkeregisteret: Folkeregisteret = Field(default_factory=Folkeregisteret)


class Settings(BaseSettings):
    """The product's settings root."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    dataverse: DataverseSettings = DataverseSettings()
    registries: RegistrySettings = RegistrySettings()
    schema_map: SchemaMap = SchemaMap()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()

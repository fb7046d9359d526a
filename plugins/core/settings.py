"""Every setting of the product, declared once (pydantic-settings).

Settings come from environment variables (in Azure: the Function App's application
settings; locally: ``local.settings.json``'s ``Values``). Nested groups use ``__``:
``DATAVERSE__URL``, ``DATAVERSE__CLIENT_ID``. docs/settings.md lists them all.

A value a trigger binding also reads (``%NAME%``) has an app-setting name without ``__``,
declared with :func:`binding_setting`: the Functions host looks ``NAME`` up in .NET
configuration, where an app setting ``A__B`` is the key ``A:B``, so ``%A__B%`` would never
resolve. Each plugin loads only the groups it uses (:mod:`plugins.core.settings_groups`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from plugins.identity import Country
from plugins.registration.eligibility import DEFAULT_RULE, AlumniRule
from plugins.registration.model import Category
from plugins.sync.lifecycle import EventKind, LifecycleRules
from plugins.sync.plans import PlanSettings
from plugins.sync.triggers import FollowUpRules

from .schema_map import SchemaMap

APP_SETTING = "app_setting"


class SettingProblem(ValueError):
    """A model validator's error that names the field at fault, so its app setting is named."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(problem)
        self.setting = setting


def setting_problem(field: str, problem: str) -> SettingProblem:
    """The error for a model validator to raise about ``field``."""
    return SettingProblem(field, problem)


def binding_setting(name: str, default: str, description: str) -> Any:
    """A field whose app setting is ``name`` (no ``__``), because a binding reads it too."""
    return Field(default=default, description=description, json_schema_extra={APP_SETTING: name})


class DataverseSettings(BaseModel):
    """How to reach and authenticate to the Dataverse environment, and how hard to push it.

    ``auth_method`` picks the credential: ``secret`` (``client_secret``), ``certificate``
    (``certificate_path`` to a PEM private key with ``certificate_thumbprint``, or to a
    ``.pfx``/``.p12``) or ``managed_identity`` (system-assigned, or user-assigned when
    ``managed_identity_client_id`` is set).
    """

    url: str = Field(default="", description="environment URL, e.g. https://org.crm4.dynamics.com")
    auth_method: Literal["secret", "certificate", "managed_identity"] = Field(
        default="secret", description="secret, certificate or managed_identity"
    )
    tenant_id: str = Field(default="", description="Entra tenant id of the app registration")
    client_id: str = Field(default="", description="application (client) id")
    client_secret: SecretStr | None = Field(
        default=None, description="client secret (auth_method secret); a Key Vault reference"
    )
    certificate_path: str | None = Field(
        default=None, description="PEM private key (with thumbprint) or a .pfx/.p12 file"
    )
    certificate_thumbprint: str | None = Field(
        default=None, description="SHA-1 thumbprint (hex) of the certificate of a PEM key"
    )
    certificate_password: SecretStr | None = Field(
        default=None, description="password of a .pfx/.p12 certificate"
    )
    managed_identity_client_id: str | None = Field(
        default=None, description="client id of a user-assigned identity; empty = system"
    )
    authority_host: str = Field(
        default="https://login.microsoftonline.com",
        description="Microsoft Entra authority host (sovereign clouds differ)",
    )
    ca_bundle: str | None = Field(
        default=None, description="CA bundle to trust for Dataverse and the authority"
    )
    request_timeout_seconds: float = Field(
        default=30.0, gt=0, description="timeout of one Web API request"
    )
    retry_budget_seconds: float = Field(
        default=60.0, ge=0, description="total time one request may spend retrying"
    )
    max_attempts: int = Field(default=8, ge=1, description="attempts per request, retries included")
    retry_backoff_seconds: float = Field(
        default=0.5, gt=0, description="longest first backoff; doubles per retry (jittered)"
    )
    bulk_chunk_size: int = Field(default=1000, ge=1, description="rows per *Multiple request")
    bulk_parallelism: int = Field(default=4, ge=1, description="*Multiple requests in flight")
    max_concurrent_requests: int = Field(
        default=16, ge=1, le=52,
        description="requests in flight per instance (instances x this must stay <= 52)",
    )
    page_size: int = Field(
        default=5000, ge=1, le=5000, description="rows per page asked for (odata.maxpagesize)"
    )
    user_agent_suffix: str = Field(
        default="", description="appended to the User-Agent (e.g. your organisation)"
    )
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

        timeout_seconds: float = Field(
            default=10.0, gt=0, description="seconds one request may take"
        )
        max_attempts: int = Field(default=4, ge=1, description="attempts, retries included")
        backoff_seconds: float = Field(default=0.5, ge=0, description="first wait; doubles")
        max_backoff_seconds: float = Field(default=10.0, ge=0, description="cap on any one wait")

    class Ladok(BaseModel):
        """Ladok REST (the institution's own integration certificate, CN ``name@<HEI code>``)."""

        enabled: bool = Field(default=False, description="use this registry")
        base_url: str = Field(
            default="https://api.ladok.se", description="the registry's API root"
        )
        client_cert: RegistrySettings.ClientCertificate | None = None
        ca_bundle: str | None = Field(
            default=None, description="CA bundle to trust for this registry (default: the system's)"
        )
        extra_headers: dict[str, str] = Field(
            default_factory=dict, description="JSON object of headers sent on every request"
        )
        degree_path: str = Field(
            default="",
            description="path of a student's issued degrees (UtfardatBevisLista as XML) with "
            "{uid} for the student UID, as your Ladok release documents it; empty: not read",
        )
        feed_path: str = Field(
            default="uppfoljning/feed",
            description="the Atom event feed (integration-test environment: handelser/feed)",
        )

    class Fs(BaseModel):
        """FS REST (username and password per FS database, issued by FS central)."""

        enabled: bool = Field(default=False, description="use this registry")
        base_url: str = Field(
            default="https://api.fellesstudentsystem.no", description="the registry's API root"
        )
        username: str = Field(default="", description="FS API user (per FS database)")
        password: SecretStr | None = Field(default=None, description="FS API password")
        gravitee_api_key: SecretStr | None = Field(
            default=None, description="X-Gravitee-Api-Key when FS is behind a Gravitee gateway"
        )
        ca_bundle: str | None = Field(
            default=None, description="CA bundle to trust for this registry (default: the system's)"
        )
        extra_headers: dict[str, str] = Field(
            default_factory=dict, description="JSON object of headers sent on every request"
        )

    class Navet(BaseModel):
        """Navet online look-up, SOAP ``personpostXML`` (authorities only)."""

        enabled: bool = Field(default=False, description="use this registry")
        endpoint_url: str = Field(
            default="https://www2.skatteverket.se/na/na_epersondata/V2/personpostXML",
            description="the SOAP service address",
        )
        client_cert: RegistrySettings.ClientCertificate | None = None
        org_nr: str = Field(default="", description="OrgNr: 12 digits, 16-prefixed")
        order_id: str = Field(
            default="", description="order id at Skatteverket (BestallningsId, NNNNNNNN-FONN-NNNN)"
        )
        ca_bundle: str | None = Field(
            default=None, description="CA bundle to trust for this registry (default: the system's)"
        )
        extra_headers: dict[str, str] = Field(
            default_factory=dict, description="JSON object of headers sent on every request"
        )

    class Spar(BaseModel):
        """SPAR Personsök, SOAP schema 2021.1 (identification block in every message)."""

        enabled: bool = Field(default=False, description="use this registry")
        endpoint_url: str = Field(
            default="https://ext-ws.statenspersonadressregister.se/2021.1/",
            description="the SOAP service address",
        )
        client_cert: RegistrySettings.ClientCertificate | None = None
        customer_number: str = Field(
            default="", description="customer number of the recipient (KundNrLeveransMottagare)"
        )
        end_customer_number: str = Field(
            default="", description="customer number of the end customer (KundNrSlutkund)"
        )
        assignment_id: str = Field(
            default="", description="assignment id of the SPAR agreement (UppdragId)"
        )
        end_user_id: str = Field(default="", description="SlutAnvandarId: who asks")
        ca_bundle: str | None = Field(
            default=None, description="CA bundle to trust for this registry (default: the system's)"
        )
        extra_headers: dict[str, str] = Field(
            default_factory=dict, description="JSON object of headers sent on every request"
        )

    class Maskinporten(BaseModel):
        """Maskinporten's JWT-bearer grant: a token for a JWT signed with the client's key."""

        token_url: str = Field(
            default="https://maskinporten.no/token", description="Maskinporten's token endpoint"
        )
        audience: str = Field(
            default="https://maskinporten.no/", description="audience of the signed grant"
        )
        client_id: str = Field(default="", description="Maskinporten client (integration) id")
        key_file: str = Field(default="", description="PEM RSA private key (own key or cert)")
        key_id: str | None = Field(default=None, description="kid registered for an own key")

    class Folkeregisteret(BaseModel):
        """Folkeregisteret REST (Norway), per rettighetspakke."""

        enabled: bool = Field(default=False, description="use this registry")
        base_url: str = Field(
            default="https://folkeregisteret.api.skatteetaten.no",
            description="the registry's API root",
        )
        rights_package: Literal[
            "offentlig-med-hjemmel", "offentlig-uten-hjemmel", "finans-og-begrenset"
        ] = Field(
            default="offentlig-uten-hjemmel", description="the rights package granted to you"
        )
        scope: str = Field(
            default="folkeregister:deling/offentligutenhjemmel",
            description="Maskinporten scope of that package",
        )
        maskinporten: RegistrySettings.Maskinporten = Field(
            default_factory=lambda: RegistrySettings.Maskinporten()
        )
        ca_bundle: str | None = Field(
            default=None, description="CA bundle to trust for this registry (default: the system's)"
        )
        extra_headers: dict[str, str] = Field(
            default_factory=dict, description="JSON object of headers sent on every request"
        )

    http: Http = Field(default_factory=Http)
    ladok: Ladok = Field(default_factory=Ladok)
    fs: Fs = Field(default_factory=Fs)
    navet: Navet = Field(default_factory=Navet)
    spar: Spar = Field(default_factory=Spar)
    folkeregisteret: Folkeregisteret = Field(default_factory=Folkeregisteret)


class RegistrationSettings(BaseModel):
    """The registration pipeline: alumni rule, registries, review task, triggers.

    ``alumni_rule`` is JSON (``REGISTRATION__ALUMNI_RULE='{"any_of": [{"kind":
    "degree_awarded"}, {"kind": "min_credits", "credits": 60}]}'``); see
    :mod:`plugins.registration.eligibility`. The registries named here must be enabled under
    ``REGISTRIES__*`` and serve ``national_id_country``. ``queue`` and ``sweep_schedule`` are
    also read by the trigger bindings, so their app settings are ``REGISTRATION_QUEUE`` and
    ``REGISTRATION_SWEEP_SCHEDULE`` (no ``__``: ``%REGISTRATION_QUEUE%`` would not resolve on
    the Functions host) and in a Function App they must be set even at their defaults.
    ``write_tag`` is the pipeline's own (not ``DATAVERSE__WRITE_TAG``): a registration another
    part of the product writes, such as the self-service pages, must still be processed.
    """

    alumni_rule: AlumniRule = Field(
        default=DEFAULT_RULE,
        description="the institution's alumni rule, JSON (any_of / all_of of criteria)",
    )
    national_id_country: Country = Field(
        default=Country.SE, description="country whose identity numbers registrations carry"
    )
    national_id_required: bool = Field(
        default=False, description="a registration without an identity number is invalid"
    )
    student_registry: Literal["ladok", "fs", "none"] = Field(
        default="none", description="asked for the studies of a person nobody matched"
    )
    population_registry: Literal["navet", "spar", "folkeregisteret", "none"] = Field(
        default="none", description="asked for name, address and protection of a new person"
    )
    review_team_id: str | None = Field(
        default=None, description="team (GUID) that owns review tasks; wins over REVIEW_TEAM"
    )
    review_team: str | None = Field(
        default=None,
        description="team (by name, e.g. Alumni office) that owns review tasks; "
        "neither set = the app user",
    )
    office_language: Literal["sv", "nb", "en"] = Field(
        default="en",
        description="language of explanations, readable evidence and review tasks (sv, nb, en)",
    )
    task_due_days: int = Field(default=5, ge=0, description="review task due this many days on")
    max_attempts: int = Field(
        default=3, ge=1, description="re-read and decide again this often after a 412"
    )
    batch_part_size: int = Field(
        default=25, ge=1, le=500,
        description="queued registrations per read and write $batch; a batch's parts overlap",
    )
    max_deliveries: int = Field(
        default=10, ge=1,
        description="queued event put back after a technical failure this often, then the sweep",
    )
    sweep_age_minutes: int = Field(
        default=30, ge=0, description="a registration Received this long is processed again"
    )
    sweep_schedule: str = binding_setting(
        "REGISTRATION_SWEEP_SCHEDULE",
        "0 */10 * * * *",
        "NCRONTAB of the sweep timer; must be an app setting (the binding reads it)",
    )
    sweep_batch_size: int = Field(
        default=200, ge=1, description="registrations the sweep takes on per run"
    )
    queue: str = binding_setting(
        "REGISTRATION_QUEUE",
        "mp-registration-events",
        "Service Bus queue of registration events; must be an app setting (the binding reads it)",
    )
    write_tag: str = Field(
        default="member-plugins-registration",
        description="?tag= on the pipeline's writes; events carrying it are its own and skipped",
    )
    refresh_study: bool = Field(
        default=False,
        description="a matched Alumnus or Registered alumnus gets its study information "
        "refreshed from the student register (one more registry look-up each)",
    )


_COLOUR = r"^#[0-9a-fA-F]{6}$"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PageLanguage = Literal["sv", "nb", "en"]


class SelfServiceSettings(BaseModel):
    """The self-service pages (the "My Alumni Page"): look, languages, links and protection.

    Links sent by e-mail and the forms' CSRF tokens are signed (HMAC-SHA256) with the key
    ``link_key_id`` names in ``link_keys`` (a JSON object: key id -> secret of at least 32
    characters) and verified with any key listed. To rotate: add the new key, point
    ``link_key_id`` at it, and remove the old key once ``link_lifetime_minutes`` have passed.
    Rate limits count per Function App instance (in memory); single use of a link is enforced
    in Dataverse, so it holds across instances. E-mailed links and the sign-in callback are
    built on ``public_base_url`` only, never on a request's ``Host``: with link keys set it is
    required (https, or http on a loopback address for local runs), and the pages refuse to
    start without it.
    """

    class OpenIdConnect(BaseModel):
        """An OpenID Connect provider people may sign in with to prefill name and e-mail."""

        issuer: str = Field(description="issuer URL; its discovery document is read from it")
        client_id: str = Field(description="the client id the provider issued")
        client_secret: SecretStr | None = Field(default=None, description="its client secret")
        scopes: str = Field(default="openid profile email", description="scopes asked for")
        display_name: str = Field(default="OpenID Connect", description="shown on the button")
        timeout_seconds: float = Field(default=10.0, gt=0, description="per provider call")

    organisation_name: str = Field(default="Alumni", description="shown on every page")
    logo_url: str | None = Field(default=None, description="https URL of the logo image")
    primary_colour: str = Field(
        default="#1f4e8c", pattern=_COLOUR, description="brand colour (#rrggbb) of buttons"
    )
    background_colour: str = Field(
        default="#ffffff", pattern=_COLOUR, description="colour as #rrggbb"
    )
    text_colour: str = Field(default="#1b1b1b", pattern=_COLOUR, description="colour as #rrggbb")
    languages: tuple[PageLanguage, ...] = Field(
        default=("sv", "nb", "en"), min_length=1, description="languages offered (sv, nb, en)"
    )
    default_language: PageLanguage = Field(
        default="sv", description="when the browser asks for none of them"
    )
    frame_ancestors: tuple[str, ...] = Field(
        default=(), description="origins allowed to frame the pages; empty = no framing"
    )
    public_base_url: str = Field(
        default="",
        description="https URL of the pages (.../mypage) in e-mailed links; required with "
        "link_keys (http only on loopback)",
    )
    link_keys: dict[str, SecretStr] = Field(default={}, description="key id -> HMAC secret")
    link_key_id: str = Field(default="", description="the key that signs new links")
    link_lifetime_minutes: int = Field(
        default=60, ge=5, le=10080, description="how long an e-mailed link works"
    )
    form_lifetime_minutes: int = Field(default=120, ge=5, description="how long a form stays valid")
    national_id_required: bool = Field(
        default=False, description="registration needs an identity number"
    )
    national_id_countries: tuple[Literal["SE", "NO", "FI", "DK"], ...] = Field(
        default=("SE", "NO"), min_length=1, description="identity numbers accepted"
    )
    consent_version: str = Field(
        default="1", max_length=40, description="recorded with each consent given"
    )
    consent_text: dict[PageLanguage, str] = Field(
        default={}, description="language -> consent text; missing = the built-in text"
    )
    rate_limit_window_seconds: int = Field(
        default=3600, ge=1, description="window of the two rate limits"
    )
    rate_limit_per_address: int = Field(default=30, ge=1, description="submissions per IP")
    rate_limit_per_email: int = Field(default=5, ge=1, description="submissions per e-mail")
    trusted_proxy_hops: int = Field(
        default=1,
        ge=1,
        description="front ends appending to X-Forwarded-For: 1 = App Service alone, "
        "2 = Front Door before it (the client address is that many entries from the right)",
    )
    link_request_min_seconds: float = Field(
        default=0.5, ge=0, description="least answer time of a link request (no timing leak)"
    )
    oidc: OpenIdConnect | None = Field(
        default=None, description="sign-in provider for prefill (JSON object); none = off"
    )

    @model_validator(mode="after")
    def _check(self) -> SelfServiceSettings:
        if self.default_language not in self.languages:
            raise setting_problem("default_language", "must be one of the languages")
        if self.link_keys and self.link_key_id not in self.link_keys:
            raise setting_problem("link_key_id", "must name one of the link_keys")
        if any(len(key.get_secret_value()) < 32 for key in self.link_keys.values()):
            raise setting_problem("link_keys", "every link key needs at least 32 characters")
        if self.link_keys and not self.public_base_url:
            raise setting_problem(
                "public_base_url",
                "is required when the pages have link keys: e-mailed links are built on it, "
                "never on the request's Host",
            )
        if self.public_base_url and not is_public_base_url(self.public_base_url):
            raise setting_problem(
                "public_base_url",
                "must be an https URL (http only on a loopback address), without query or "
                "fragment",
            )
        return self


def is_public_base_url(value: str) -> bool:
    """Whether ``value`` may carry e-mailed links: https, or http on a loopback host."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    if not host or parts.query or parts.fragment or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and host in _LOOPBACK_HOSTS


class SyncSettings(BaseModel):
    """Keeping the register current and the membership lifecycle.

    Timers, each off until ``enabled``: register upkeep (contacts not enriched for
    ``max_age_days`` are refreshed from the population register), the degree feed (hourly:
    degrees Ladok issued are recorded on the person, who gets the category Alumnus), new
    graduates (the fallback without a feed: Student contacts the student register shows with
    a degree get the category Alumnus; a run resumes where the last one stopped) and the
    lifecycle run (statuses, reminders, onboarding, greetings).
    Lifecycle messages go out as Dataverse e-mails from templates (``delivery=email``; a
    template is found by its title, ``templates`` maps an event's template name such as
    ``onboarding-d7`` to a title, default the name itself) or as messages on a Service Bus
    topic for the organisation's marketing platform (``delivery=servicebus``).
    ``follow_ups`` makes Dataverse events (an approval, a new or renewed membership, a
    configured table change) send their messages at once instead of at the next nightly run.
    ``tombstone_key`` keys the hash that remembers erased people; keep it secret and never
    change it, or erased people are no longer recognised.
    """

    class Upkeep(BaseModel):
        """Register upkeep: refresh stale contacts from the population register."""

        enabled: bool = Field(default=False, description="run the nightly register upkeep")
        population_registry: Literal["navet", "spar", "folkeregisteret"] = Field(
            default="navet", description="where contacts are refreshed from (enable it too)"
        )
        max_age_days: int = Field(default=30, ge=1, description="refresh contacts older than this")
        # 1,250 is four batches to a 5,000-row page, near Microsoft's suggested starting point
        # of about 1,000 rows per UpdateMultiple: 101 requests per 100,000 contacts.
        batch_size: int = Field(
            default=1250, ge=1, le=5000, description="contacts looked up and written per batch"
        )
        max_contacts_per_run: int = Field(
            default=100_000, ge=1, description="the rest waits for the next run"
        )

    class Graduates(BaseModel):
        """New graduates by walking every Student contact through the student register: the
        fallback where no degree feed can be read (FS, or Ladok without feed access)."""

        enabled: bool = Field(default=False, description="run the nightly new-graduates job")
        student_registry: Literal["ladok", "fs"] = Field(
            default="fs", description="where degrees are read (enable it too)"
        )
        batch_size: int = Field(default=200, ge=1, le=5000, description="students per batch")
        max_students_per_run: int = Field(
            default=5000, ge=1, description="the next run continues after the last one checked"
        )

    class DegreeFeed(BaseModel):
        """Degrees from Ladok's event feed: recorded on the person, graduates made alumni."""

        enabled: bool = Field(
            default=False, description="read Ladok's event feed for issued degrees (hourly)"
        )
        start_page: int = Field(
            default=1, ge=1, description="first run: the oldest feed page read (its urn:id)"
        )
        flush_events: int = Field(
            default=500, ge=1, le=5000, description="degree events recorded per write"
        )
        max_pages_per_run: int = Field(
            default=2000, ge=1, description="the next run continues after the last page read"
        )

    class Lifecycle(BaseModel):
        """The lifecycle run: periods, the organisation's day, and what each message is."""

        enabled: bool = Field(default=False, description="run the nightly lifecycle run")
        rules: LifecycleRules = Field(default_factory=LifecycleRules)
        timezone: str = Field(default="Europe/Stockholm", description="whose day a run covers")
        channel: Literal["email", "sms", "post"] = Field(
            default="email", description="channel checked against each person's preferences"
        )
        topics: dict[EventKind, str] = Field(
            default={}, description="event kind -> topic the person must have chosen"
        )
        bulk_kinds: tuple[EventKind, ...] = Field(
            default=(EventKind.BIRTHDAY, EventKind.ANNIVERSARY),
            description="kinds sent as mass mailings (donotbulkemail refuses them)",
        )
        plans: PlanSettings = Field(
            default_factory=PlanSettings,
            description="plans per segment, JSON {plans: [...], default_language}",
        )

    class Delivery(BaseModel):
        """How lifecycle messages leave: a Dataverse e-mail or a Service Bus topic message."""

        mode: Literal["email", "servicebus"] = Field(
            default="email", description="Dataverse e-mail from a template, or a topic message"
        )
        templates: dict[str, str] = Field(
            default={}, description="template name -> title of the Dataverse e-mail template"
        )
        servicebus_url: str = Field(
            default="", description="https://<namespace>.servicebus.windows.net"
        )
        servicebus_topic: str = Field(default="member-lifecycle", description="topic (or queue)")
        servicebus_key_name: str = Field(default="", description="shared access policy name")
        servicebus_key: SecretStr | None = Field(default=None, description="SAS key of that policy")
        timeout_seconds: float = Field(default=10.0, gt=0, description="per Service Bus send")

    class Erasure(BaseModel):
        """Erasure requests (GDPR art. 17): rows the office creates, processed by a timer."""

        enabled: bool = Field(
            default=False, description="process erasure requests (needs tombstone_key)"
        )
        mode: Literal["delete", "anonymise"] = Field(
            default="delete", description="delete the contact, or blank its personal columns"
        )
        max_requests_per_run: int = Field(
            default=200, ge=1, description="requests processed per timer run; the rest wait"
        )

    class Sms(BaseModel):
        """The SMS channel: Azure Communication Services SMS (off until ``endpoint`` is set)."""

        endpoint: str = Field(
            default="", description="https://<resource>.communication.azure.com; empty = no SMS"
        )
        access_key: SecretStr | None = Field(default=None, description="the resource's key")
        sender: str = Field(default="", description="ACS phone number (E.164) or sender id")
        country_code: str = Field(
            default="+46", pattern=r"^\+[1-9]\d{0,3}$",
            description="for mobile numbers stored without one",
        )
        texts: dict[str, str] = Field(
            default={
                "address-request": "Hej {first_name}! Vi saknar din e-postadress. "
                "Fyll i den här: {link}",
            },
            description="template name -> text; {first_name} and {link} are filled in",
        )
        link_lifetime_days: int = Field(
            default=14, ge=1, le=60, description="how long a texted update link works"
        )
        timeout_seconds: float = Field(default=10.0, gt=0, description="per ACS request")

    class AddressRequests(BaseModel):
        """Asking people without a deliverable e-mail address for one: SMS, else a letter."""

        enabled: bool = Field(default=False, description="ask during the lifecycle run")
        interval_days: int = Field(
            default=180, ge=1, description="a person is asked at most once per interval"
        )
        max_per_run: int = Field(default=1000, ge=1, description="requests recorded per run")
        letter_subjects: dict[str, str] = Field(
            default={"address-request": "Send a letter asking for an e-mail address"},
            description="template name -> subject of the office's letter task",
        )
        letter_due_days: int = Field(default=7, ge=0, description="letter task due after")

    class DataCheck(BaseModel):
        """Data-check mailings ("are your details right?"): a link to check them, at an
        interval since the person last confirmed them, at most ``daily_cap`` a run."""

        enabled: bool = Field(default=False, description="send data-check mailings")
        interval_days: int = Field(
            default=365, ge=30, description="ask again this long after the last confirmation"
        )
        daily_cap: int = Field(
            default=2000, ge=1, description="mailings recorded per run; the rest wait a day"
        )
        categories: tuple[Category, ...] = Field(
            default=(Category.ALUMNUS, Category.REGISTERED_ALUMNUS, Category.MEMBER),
            min_length=1, description="who is asked (person categories)",
        )
        link_lifetime_days: int = Field(
            default=30, ge=1, le=90, description="how long the mailed update link works"
        )

    upkeep: Upkeep = Field(default_factory=Upkeep)
    data_check: DataCheck = Field(default_factory=DataCheck)
    sms: Sms = Field(default_factory=Sms)
    address_requests: AddressRequests = Field(default_factory=AddressRequests)
    erasure: Erasure = Field(default_factory=Erasure)
    graduates: Graduates = Field(default_factory=Graduates)
    degree_feed: DegreeFeed = Field(default_factory=DegreeFeed)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    delivery: Delivery = Field(default_factory=Delivery)
    follow_ups: FollowUpRules = Field(default_factory=FollowUpRules)
    tombstone_key: SecretStr | None = Field(
        default=None, description="HMAC key of erased people's identity hashes (32+ characters)"
    )

    @model_validator(mode="after")
    def _check(self) -> SyncSettings:
        key = self.tombstone_key
        if key is not None and len(key.get_secret_value()) < 32:
            raise setting_problem("tombstone_key", "needs at least 32 characters")
        walk = self.graduates
        if self.degree_feed.enabled and walk.enabled and walk.student_registry == "ladok":
            raise setting_problem(
                "degree_feed",
                "the Ladok degree feed replaces walking Ladok students: enable one of "
                "SYNC__DEGREE_FEED__ENABLED and SYNC__GRADUATES__ENABLED",
            )
        return self


class DuesSettings(BaseModel):
    """Dues: memberships from approvals and applications, invoices, payments, reminders.

    Membership types (fee, currency, period, grace) are rows of the membership type table,
    named here by their code. The nightly dues run (``enabled``) creates memberships, invoices
    new and renewing paid memberships (``CreateMultiple``), sends each invoice as a Dataverse
    e-mail with the invoice as a PDF attachment (or marks it for printing for a person who
    chose post and whose address is not protected) and sends payment reminders. Payments come
    from the bank's file (``member-plugins payments import FILE``) or a payment provider's
    webhook (``POST /api/payments/webhook``, signed with ``webhook_secret``).
    """

    enabled: bool = Field(default=False, description="run the nightly dues run")
    registration_type: str | None = Field(
        default=None, description="membership type code an approved registration gets; empty = none"
    )
    applications: bool = Field(
        default=False, description="approved membership application rows create memberships"
    )
    reference_scheme: Literal["se-ocr", "se-ocr-length", "no-kid-mod10", "no-kid-mod11", "fi"] = (
        Field(default="se-ocr", description="payment reference: OCR, KID or Finnish reference")
    )
    payment_terms_days: int = Field(default=30, ge=0, description="invoice date to due date")
    renewal_days: int = Field(
        default=30, ge=1, description="renewal invoices go out this many days before the end"
    )
    reminder_offsets_days: tuple[int, ...] = Field(
        default=(7, 21), description="payment reminders, days after the due date"
    )
    payee_name: str = Field(default="", description="who is paid, printed on the invoice")
    payee_account: str = Field(
        default="", description="where to pay, printed on the invoice, e.g. Bankgiro 5050-1055"
    )
    language: Literal["sv", "nb", "en"] = Field(
        default="sv", description="language of invoices and reminders"
    )
    timezone: str = Field(default="Europe/Stockholm", description="whose day a run covers")
    chunk_size: int = Field(
        default=100, ge=1, le=300, description="payments written per change set (checkpoint)"
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the payment webhook (32+ characters)"
    )
    webhook_max_bytes: int = Field(
        default=16384, ge=256, description="largest webhook body accepted (413 above)"
    )

    @model_validator(mode="after")
    def _check(self) -> DuesSettings:
        if any(d < 1 for d in self.reminder_offsets_days):
            raise setting_problem(
                "reminder_offsets_days", "payment reminders are at least 1 day after the due date"
            )
        secret = self.webhook_secret
        if secret is not None and len(secret.get_secret_value()) < 32:
            raise setting_problem("webhook_secret", "needs at least 32 characters")
        return self


class BindingSettingsSource(PydanticBaseSettingsSource):
    """The values of :func:`binding_setting` fields, from their ``__``-free app settings.

    Looked up without regard to case, like every app setting; it outranks the nested
    spelling, so the service uses the very value the binding resolved.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` reads the whole source at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ = {name.upper(): value for name, value in os.environ.items()}
        found: dict[str, Any] = {}
        for name, (group, field) in binding_settings().items():
            if group in self.settings_cls.model_fields and name in environ:
                found.setdefault(group, {})[field] = environ[name]
        return found


class EnvironmentSettings(BaseSettings):
    """Read from the environment: nested groups by ``__``, binding settings by their name."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment, with the binding settings' own names ahead of it."""
        bindings = BindingSettingsSource(settings_cls)
        return init_settings, bindings, env_settings, dotenv_settings, file_secret_settings


class Settings(EnvironmentSettings):
    """The product's settings root: every group, read and validated at once.

    The admin commands use it whole; a Function reads only its plugin's groups through
    :func:`plugins.core.settings_groups.load_settings`, so one bad value stops only the
    functions that use it.
    """

    dataverse: DataverseSettings = DataverseSettings()
    registries: RegistrySettings = RegistrySettings()
    schema_map: SchemaMap = SchemaMap()
    selfservice: SelfServiceSettings = SelfServiceSettings()
    registration: RegistrationSettings = RegistrationSettings()
    sync: SyncSettings = SyncSettings()
    dues: DuesSettings = DuesSettings()


@lru_cache(maxsize=1)
def binding_settings() -> dict[str, tuple[str, str]]:
    """App-setting name -> (group, field) of every :func:`binding_setting` field."""
    found: dict[str, tuple[str, str]] = {}
    for group, info in Settings.model_fields.items():
        model = info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra
            if isinstance(extra, dict) and isinstance(extra.get(APP_SETTING), str):
                found[str(extra[APP_SETTING])] = (group, name)
    return found


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()

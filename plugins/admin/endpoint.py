"""How Dataverse delivers the product's events: the ``serviceendpoint`` row to register.

Two deliveries (reference §1.2, §2.1, §5.2):

- :class:`WebhookDelivery`: contract 8 to the Function App's URL, authenticated with the
  function key either as ``?code=`` (WebhookKey, authtype 4) or as an ``x-functions-key``
  header (HttpHeader, authtype 5);
- :class:`QueueDelivery`: a Service Bus persistent queue (contract 6), SAS key (authtype 2),
  JSON messages (messageformat 2) in UTF-8, no user claim.

The secret (``authvalue``/``saskey``) is write-only in Dataverse, so the description carries a
short SHA-256 fingerprint of it: a changed key shows up as a changed description and is
written again, an unchanged one is never rewritten. A fingerprint of a random key reveals
nothing about it.

Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from .catalog import MARKER, NAME_PREFIX

CONTRACT_PERSISTENT_QUEUE = 6
CONTRACT_WEBHOOK = 8
AUTH_SAS_KEY = 2
AUTH_WEBHOOK_KEY = 4
AUTH_HTTP_HEADER = 5
MESSAGE_FORMAT_JSON = 2
CHARSET_UTF8 = 1
USER_CLAIM_NONE = 1
CONNECTION_MODE_NORMAL = 1
NAMESPACE_FORMAT_ADDRESS = 2

FUNCTION_KEY_HEADER = "x-functions-key"
FINGERPRINT_LENGTH = 16
WebhookAuth = Literal["webhookkey", "httpheader"]


class DeliveryError(ValueError):
    """The delivery options are not usable (bad URL, missing key...)."""


@dataclass(frozen=True)
class EndpointSpec:
    """The desired ``serviceendpoint`` row: readable columns, and the write-only secret."""

    name: str
    kind: str
    columns: dict[str, Any]
    secret_column: str
    secret: str = field(repr=False)

    @property
    def description(self) -> str:
        """What the description column must say (purpose, fingerprint, marker)."""
        return f"Events for member-plugins ({self.kind}); key {fingerprint(self.secret)}. {MARKER}"

    @property
    def summary(self) -> str:
        """Where events go, without the secret."""
        if self.columns["contract"] == CONTRACT_WEBHOOK:
            return f"webhook {self.columns['url']}"
        return f"queue {self.columns['path']} in {self.columns['namespaceaddress']}"


@dataclass(frozen=True)
class WebhookDelivery:
    """POST each event to the Function App's HTTP route with its function key."""

    url: str
    function_key: str = field(repr=False)
    auth: WebhookAuth = "webhookkey"

    def endpoint(self) -> EndpointSpec:
        """The webhook endpoint row; DeliveryError when the URL or key is unusable."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise DeliveryError(f"--webhook-url must be an http(s) URL, not {self.url!r}")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            # Dataverse posts webhooks only over 443/80 and the key travels in the URL.
            raise DeliveryError(
                f"--webhook-url must be https (plain http only on a loopback address for the "
                f"sandbox), not {self.url!r}"
            )
        if parts.query or parts.fragment:
            raise DeliveryError(
                "--webhook-url must not carry a query or fragment; pass the key as --function-key"
            )
        if not self.function_key:
            raise DeliveryError("a webhook needs the function key (--function-key)")
        if self.auth == "webhookkey":
            authtype, authvalue = AUTH_WEBHOOK_KEY, self.function_key
        else:
            authtype = AUTH_HTTP_HEADER
            authvalue = (
                f"<settings><setting name={quoteattr(FUNCTION_KEY_HEADER)} "
                f"value={quoteattr(self.function_key)} /></settings>"
            )
        return EndpointSpec(
            name=NAME_PREFIX + "webhook",
            kind="webhook",
            columns={"url": self.url, "contract": CONTRACT_WEBHOOK, "authtype": authtype},
            secret_column="authvalue",
            secret=authvalue,
        )


@dataclass(frozen=True)
class QueueDelivery:
    """Send each event to a Service Bus queue the Function App's queue trigger reads."""

    namespace: str
    queue: str
    sas_key_name: str
    sas_key: str = field(repr=False)

    def endpoint(self) -> EndpointSpec:
        """The queue endpoint row; DeliveryError when an option is unusable."""
        parts = urlsplit(self.namespace)
        if parts.scheme != "sb" or not parts.hostname:
            raise DeliveryError(
                "--servicebus-namespace must look like sb://<namespace>.servicebus.windows.net/, "
                f"not {self.namespace!r}"
            )
        missing = [
            option
            for option, value in (
                ("--queue", self.queue),
                ("--sas-key-name", self.sas_key_name),
                ("--sas-key", self.sas_key),
            )
            if not value
        ]
        if missing:
            raise DeliveryError(f"a Service Bus queue endpoint needs {', '.join(missing)}")
        return EndpointSpec(
            name=NAME_PREFIX + "Service Bus queue",
            kind="Service Bus queue",
            columns={
                "contract": CONTRACT_PERSISTENT_QUEUE,
                "namespaceaddress": self.namespace.rstrip("/") + "/",
                "namespaceformat": NAMESPACE_FORMAT_ADDRESS,
                "solutionnamespace": _namespace_name(parts.hostname),
                "path": self.queue,
                "authtype": AUTH_SAS_KEY,
                "saskeyname": self.sas_key_name,
                "messageformat": MESSAGE_FORMAT_JSON,
                "messagecharset": CHARSET_UTF8,
                "userclaim": USER_CLAIM_NONE,
                "connectionmode": CONNECTION_MODE_NORMAL,
            },
            secret_column="saskey",
            secret=self.sas_key,
        )


Delivery = WebhookDelivery | QueueDelivery


def _namespace_name(host: str) -> str:
    """The namespace's name (``contoso`` of ``contoso.servicebus.windows.net``), which the
    system-required ``solutionnamespace`` holds; an address (the sandbox) stays whole."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.split(".", 1)[0]
    return host


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fingerprint(secret: str) -> str:
    """``sha256:<16 hex>`` of a secret: enough to notice a new key, useless to guess one."""
    digest = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    return f"sha256:{digest[:FINGERPRINT_LENGTH]}"

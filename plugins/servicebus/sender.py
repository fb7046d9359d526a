"""Send messages to a Service Bus topic (or queue) with the REST API and a SAS token.

``POST https://<namespace>.servicebus.windows.net/<topic>/messages`` with the body, its
``Content-Type``, the ``BrokerProperties`` header (JSON: ``MessageId``, ``Label``,
``CorrelationId``) and ``Authorization: SharedAccessSignature sr=<uri>&sig=<sig>&se=<expiry>
&skn=<policy>``, where ``sig`` is the base64 HMAC-SHA256 of ``<url-encoded uri>\\n<expiry>``
under the policy's key. Azure answers 201. 429 and 5xx answers, timeouts and dropped
connections are retried with exponential backoff; anything else raises :class:`SendError`.

The message id is the caller's deterministic id, so a topic with duplicate detection drops a
message sent twice (a run that crashed after sending and before recording it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

TOKEN_LIFETIME_SECONDS = 3600
_RETRYABLE = frozenset({429, 500, 502, 503, 504})


def from_connection_string(
    connection_string: str, entity: str, **options: Any
) -> TopicSender:
    """A sender to ``entity`` in the namespace of a Service Bus connection string
    (``Endpoint=sb://<host>/;SharedAccessKeyName=..;SharedAccessKey=..``; with
    ``UseDevelopmentEmulator=true`` plain HTTP, as emulators serve it)."""
    parts: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in connection_string.split(";"))):
        name, _, value = item.partition("=")
        parts[name.strip().lower()] = value.strip()
    endpoint = urlsplit(parts.get("endpoint", ""))
    if endpoint.scheme != "sb" or not endpoint.netloc or not parts.get("sharedaccesskey"):
        raise ValueError(
            "a Service Bus connection string needs Endpoint=sb://<host>/ and a SharedAccessKey"
        )
    emulator = parts.get("usedevelopmentemulator", "").lower() == "true"
    scheme = "http" if emulator else "https"
    namespace_url = f"{scheme}://{endpoint.netloc}{endpoint.path.rstrip('/')}"
    return TopicSender(
        namespace_url, entity, parts.get("sharedaccesskeyname", ""), parts["sharedaccesskey"],
        **options,
    )


class SendError(Exception):
    """The message could not be put on the topic."""


class _Retryable(Exception):
    pass


def sas_token(resource_uri: str, key_name: str, key: str, expiry: int) -> str:
    """A Shared Access Signature for ``resource_uri`` valid until ``expiry`` (Unix time)."""
    encoded = quote_plus(resource_uri.lower())
    digest = hmac.new(key.encode(), f"{encoded}\n{expiry}".encode(), hashlib.sha256).digest()
    signature = quote_plus(base64.b64encode(digest).decode())
    return f"SharedAccessSignature sr={encoded}&sig={signature}&se={expiry}&skn={key_name}"


class TopicSender:
    """Puts JSON messages on one topic; thread-safe, one pooled session."""

    def __init__(
        self,
        namespace_url: str,
        topic: str,
        key_name: str,
        key: str,
        *,
        timeout_seconds: float = 10.0,
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        ca_bundle: str | None = None,
    ) -> None:
        if not namespace_url or not topic:
            raise ValueError("a Service Bus namespace URL and topic are required")
        self.resource_uri = f"{namespace_url.rstrip('/')}/{quote(topic, safe='')}"
        self._key_name = key_name
        self._key = key
        self._timeout = timeout_seconds
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._http = requests.Session()
        if ca_bundle:
            # REQUESTS_CA_BUNDLE in the environment would otherwise override ``verify``.
            self._http.trust_env = False
            self._http.verify = ca_bundle

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def send(
        self,
        body: Mapping[str, Any],
        *,
        message_id: str,
        label: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """Put one JSON message on the topic."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_bytes(
            data, content_type="application/json", message_id=message_id, label=label,
            correlation_id=correlation_id,
        )

    def send_bytes(
        self,
        data: bytes,
        *,
        content_type: str | None,
        message_id: str,
        label: str | None = None,
        correlation_id: str | None = None,
        scheduled_enqueue_time: datetime | None = None,
        properties: Mapping[str, str | int | bool] | None = None,
    ) -> None:
        """Put one message with this body on the topic, available from
        ``scheduled_enqueue_time`` when given; ``properties`` become application properties
        (one header each, the REST API's form; names must be valid header names)."""
        broker: dict[str, Any] = {"MessageId": message_id}
        if label is not None:
            broker["Label"] = label
        if correlation_id is not None:
            broker["CorrelationId"] = correlation_id
        if scheduled_enqueue_time is not None:
            broker["ScheduledEnqueueTimeUtc"] = format_datetime(
                scheduled_enqueue_time.astimezone(UTC), usegmt=True
            )
        extra = {name: json.dumps(value) for name, value in (properties or {}).items()}
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._backoff, max=10),
            reraise=True,
        )
        try:
            retrying(self._post, data, content_type, json.dumps(broker), extra)
        except _Retryable as exc:
            raise SendError(f"Service Bus kept failing: {exc}") from None

    def _post(
        self, data: bytes, content_type: str | None, broker: str, extra: Mapping[str, str]
    ) -> None:
        expiry = int(time.time()) + TOKEN_LIFETIME_SECONDS
        headers = {
            **extra,
            "Authorization": sas_token(self.resource_uri, self._key_name, self._key, expiry),
            "BrokerProperties": broker,
        }
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = self._http.post(
                f"{self.resource_uri}/messages", data=data, headers=headers, timeout=self._timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(type(exc).__name__) from exc
        if response.status_code in _RETRYABLE:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code not in (200, 201):
            raise SendError(f"Service Bus answered HTTP {response.status_code}")

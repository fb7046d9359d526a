"""Service Bus queues over the sandbox's REST API, and messages as the worker builds them.

The connection string is the one an app setting holds
(``Endpoint=sb://127.0.0.1:<port>/servicebus/;SharedAccessKeyName=...;SharedAccessKey=...;
UseDevelopmentEmulator=true``). ``sb://`` becomes ``http://`` when ``UseDevelopmentEmulator``
is true and ``https://`` otherwise; for a sandbox with its own CA, pass its CA file
to ``LocalHost(servicebus_ca_bundle=...)``. Every call carries a
``SharedAccessSignature`` made from the key, as Service Bus REST clients send.

Received messages become ``azure.functions.servicebus.ServiceBusMessage`` through
``ServiceBusMessageInConverter.decode``, fed the body and trigger metadata the Functions
host sends the Python worker (MessageId, DeliveryCount, LockToken, ApplicationProperties...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import quote, quote_plus, urlsplit

import requests
from azure.functions import meta
from azure.functions.servicebus import ServiceBusMessage, ServiceBusMessageInConverter

from .errors import HostError

BROKER_PROPERTIES = "BrokerProperties"
APPLICATION_PROPERTIES = "X-Application-Properties"
SAS_LIFETIME_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 30.0
# BrokerProperties names that map one to one onto trigger metadata.
STRING_PROPERTIES = ("MessageId", "CorrelationId", "SessionId", "ReplyTo", "ReplyToSessionId",
                     "To", "PartitionKey", "LockToken", "DeadLetterSource")
INT_PROPERTIES = ("SequenceNumber", "DeliveryCount", "EnqueuedSequenceNumber")
# The REST API names the state; the worker gets ServiceBusMessageState's number.
MESSAGE_STATES = {"active": 0, "deferred": 1, "scheduled": 2}
TIME_PROPERTIES = {"EnqueuedTimeUtc": "EnqueuedTimeUtc", "LockedUntilUtc": "LockedUntil",
                   "ScheduledEnqueueTimeUtc": "ScheduledEnqueueTimeUtc"}


class ServiceBusError(Exception):
    """The namespace answered a receive or settle call with an unexpected status."""


@dataclass(frozen=True)
class ConnectionInfo:
    """Where a namespace is and the key to sign calls with."""

    base_url: str
    key_name: str
    key: str

    @classmethod
    def parse(cls, connection_string: str) -> ConnectionInfo:
        """Read Endpoint, SharedAccessKeyName, SharedAccessKey and UseDevelopmentEmulator."""
        parts: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in connection_string.split(";"))):
            name, _, value = item.partition("=")
            parts[name.strip().lower()] = value.strip()
        endpoint = urlsplit(parts.get("endpoint", ""))
        if endpoint.scheme != "sb" or not endpoint.netloc:
            raise HostError("a Service Bus connection string needs Endpoint=sb://<host>/")
        emulator = parts.get("usedevelopmentemulator", "").lower() == "true"
        scheme = "http" if emulator else "https"
        path = endpoint.path.rstrip("/")
        return cls(
            base_url=f"{scheme}://{endpoint.netloc}{path}",
            key_name=parts.get("sharedaccesskeyname", ""),
            key=parts.get("sharedaccesskey", ""),
        )

    def sas_token(self, resource: str, now: float | None = None) -> str:
        """A ``SharedAccessSignature`` for ``resource`` valid for an hour."""
        expiry = int((time.time() if now is None else now) + SAS_LIFETIME_SECONDS)
        encoded = quote_plus(resource.lower())
        digest = hmac.new(
            self.key.encode("utf-8"), f"{encoded}\n{expiry}".encode(), hashlib.sha256
        ).digest()
        signature = quote_plus(base64.b64encode(digest).decode("ascii"))
        return f"SharedAccessSignature sr={encoded}&sig={signature}&se={expiry}&skn={self.key_name}"


@dataclass(frozen=True)
class ReceivedMessage:
    """A peek-locked message as the REST API returned it."""

    body: bytes
    content_type: str | None
    broker_properties: dict[str, Any]
    application_properties: dict[str, Any]

    @property
    def sequence_number(self) -> int:
        """The broker's number for the message (part of its settle URL)."""
        return int(self.broker_properties["SequenceNumber"])

    @property
    def lock_token(self) -> str:
        """The token of this delivery's lock (part of its settle URL)."""
        return str(self.broker_properties["LockToken"])

    @property
    def message_id(self) -> str:
        """The sender's message id ("" when there is none)."""
        return str(self.broker_properties.get("MessageId", ""))


class QueueClient:
    """Peek-lock receive, complete and abandon on one queue (one HTTP session per thread)."""

    def __init__(
        self, connection: ConnectionInfo, queue: str, *, ca_bundle: str | None = None
    ) -> None:
        self._connection = connection
        # Passed on every call: a session-level verify would lose to REQUESTS_CA_BUNDLE.
        self._verify: str | bool = ca_bundle or True
        self.queue = queue
        self.url = f"{connection.base_url}/{quote(queue, safe='')}"
        self._local = threading.local()

    def receive(self, timeout_seconds: int = 0) -> ReceivedMessage | None:
        """Lock the next message; None when the queue has none within the timeout."""
        response = self._call(
            "POST", f"{self.url}/messages/head", params={"timeout": str(timeout_seconds)}
        )
        if response.status_code == 204:
            return None
        if response.status_code not in (200, 201):
            raise ServiceBusError(f"receive from '{self.queue}': HTTP {response.status_code}")
        return ReceivedMessage(
            body=response.content,
            content_type=response.headers.get("Content-Type"),
            broker_properties=json.loads(response.headers.get(BROKER_PROPERTIES) or "{}"),
            application_properties=json.loads(response.headers.get(APPLICATION_PROPERTIES) or "{}"),
        )

    def complete(self, message: ReceivedMessage) -> bool:
        """Delete the message; False when its lock was lost (it will come again)."""
        return self._settle("DELETE", message)

    def abandon(self, message: ReceivedMessage) -> bool:
        """Unlock the message for redelivery; False when its lock was already lost."""
        return self._settle("PUT", message)

    def close(self) -> None:
        """Close this thread's HTTP session."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is not None:
            session.close()

    def _settle(self, method: str, message: ReceivedMessage) -> bool:
        url = f"{self.url}/messages/{message.sequence_number}/{quote(message.lock_token, safe='')}"
        response = self._call(method, url)
        if response.status_code == 410:
            return False
        if response.status_code != 200:
            raise ServiceBusError(f"{method} on '{self.queue}': HTTP {response.status_code}")
        return True

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        headers = {"Authorization": self._connection.sas_token(self.url)}
        return session.request(
            method, url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS, verify=self._verify,
            **kwargs,
        )


def trigger_metadata(message: ReceivedMessage) -> dict[str, meta.Datum]:
    """The trigger metadata the Functions host sends the worker for one message."""
    broker = message.broker_properties
    metadata: dict[str, meta.Datum] = {}
    for name in STRING_PROPERTIES:
        if broker.get(name) is not None:
            metadata[name] = meta.Datum(str(broker[name]), "string")
    for name in INT_PROPERTIES:
        if broker.get(name) is not None:
            metadata[name] = meta.Datum(int(broker[name]), "int")
    state = str(broker.get("State", "")).lower()
    if state in MESSAGE_STATES:
        metadata["State"] = meta.Datum(MESSAGE_STATES[state], "int")
    times = {key: _parse_time(broker.get(name)) for name, key in TIME_PROPERTIES.items()}
    for key, moment in times.items():
        if moment is not None:
            metadata[key] = meta.Datum(_iso(moment), "string")
    label = broker.get("Label")
    if label is not None:
        # Extension 5.x calls it Subject; the worker's converter reads both.
        metadata["Label"] = metadata["Subject"] = meta.Datum(str(label), "string")
    ttl = broker.get("TimeToLive")
    if ttl is not None:
        metadata["TimeToLive"] = meta.Datum(str(int(float(ttl))), "string")
        enqueued = times["EnqueuedTimeUtc"]
        if enqueued is not None:
            try:
                expires = enqueued + timedelta(seconds=float(ttl))
            except OverflowError:
                expires = None
            if expires is not None:
                metadata["ExpiresAtUtc"] = meta.Datum(_iso(expires), "string")
    if message.content_type:
        metadata["ContentType"] = meta.Datum(message.content_type, "string")
    properties = json.dumps(message.application_properties)
    metadata["ApplicationProperties"] = meta.Datum(properties, "json")
    metadata["UserProperties"] = meta.Datum(properties, "json")
    return metadata


def to_function_message(message: ReceivedMessage) -> ServiceBusMessage:
    """The ``func.ServiceBusMessage`` the worker would pass for ``message``."""
    # With UserProperties (not UserPropertiesArray) the converter builds a single message.
    return cast(
        ServiceBusMessage,
        ServiceBusMessageInConverter.decode(
            _body_datum(message.body), trigger_metadata=trigger_metadata(message)
        ),
    )


def to_function_messages(messages: list[ReceivedMessage]) -> list[ServiceBusMessage]:
    """The ``list[func.ServiceBusMessage]`` the worker passes a ``cardinality="many"``
    trigger: the bodies as one ``collection_bytes`` datum and each metadata field as an
    ``<Name>Array`` (``UserPropertiesArray`` is what marks the call as a batch)."""
    singles = [trigger_metadata(message) for message in messages]
    names = sorted({name for metadata in singles for name in metadata})
    metadata: dict[str, meta.Datum] = {}
    for name in names:
        values = [_plain(single.get(name)) for single in singles]
        metadata[f"{name}Array"] = meta.Datum(json.dumps(values), "json")
    bodies = meta.Datum(SimpleNamespace(bytes=[m.body for m in messages]), "collection_bytes")
    return cast(
        list[ServiceBusMessage],
        ServiceBusMessageInConverter.decode(bodies, trigger_metadata=metadata),
    )


def _plain(datum: meta.Datum | None) -> Any:
    """A metadata value as it sits in its array (properties as objects, not JSON text)."""
    if datum is None:
        return None
    return json.loads(datum.value) if datum.type == "json" else datum.value


def _body_datum(body: bytes) -> meta.Datum:
    # The host hands text bodies over as JSON or string and anything else as bytes; the
    # message's get_body() gives back the same bytes either way.
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return meta.Datum(body, "bytes")
    if text.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError:
            return meta.Datum(text, "string")
        return meta.Datum(text, "json")
    return meta.Datum(text, "string")


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = parsedate_to_datetime(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""An Azure Communication Services SMS resource, as its REST API behaves.

``POST /sms?api-version=2021-03-07`` takes ``{"from", "smsRecipients": [{"to",
"repeatabilityRequestId", "repeatabilityFirstSent"}], "message", "smsSendOptions"}`` and
answers 202 with one result per recipient (``to``, ``messageId``, ``httpStatusCode``,
``repeatabilityResult``, ``successful``, ``errorMessage``). Requests are authenticated as ACS
authenticates access-key requests: ``x-ms-date`` (RFC 1123, at most 15 minutes off),
``x-ms-content-sha256`` (base64 SHA-256 of the body) and ``Authorization: HMAC-SHA256
SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64 HMAC-SHA256 with the
base64-decoded key of "VERB\\npath?query\\ndate;host;content-hash">``; anything else is 401.

A recipient that is not an E.164 number is refused in its own result (400), the others are
sent. A repeated ``repeatabilityRequestId`` is answered ``rejected`` and not sent again.
Tests and the demo read :attr:`SmsEmulator.messages`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from .core import Host

PATH = "/sms"
API_VERSIONS = frozenset({"2021-03-07", "2024-01-25-preview"})
SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
MAX_CLOCK_SKEW = timedelta(minutes=15)
MAX_RECIPIENTS = 100
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class SentSms:
    """One message as it left: to whom, from whom, the text and its id."""

    message_id: str
    sender: str
    to: str
    message: str
    tag: str | None


class SmsEmulator:
    """One ACS resource's SMS endpoint, mounted at ``/sms`` of the sandbox."""

    def __init__(self, host: Host) -> None:
        self.access_key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        self._lock = threading.Lock()
        self._messages: list[SentSms] = []
        self._requests: set[str] = set()
        host.mount(PATH, self.handle)

    @property
    def messages(self) -> list[SentSms]:
        """Every message sent so far, oldest first (a copy)."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget the messages sent so far."""
        with self._lock:
            self._messages.clear()

    def handle(self, request: Request) -> Response:
        """The SMS REST API: send, after authentication."""
        if request.path.rstrip("/") != PATH or request.method != "POST":
            return _error(404, "NotFound", "The resource was not found.")
        if request.args.get("api-version") not in API_VERSIONS:
            return _error(400, "InvalidApiVersion", "The api-version is missing or unsupported.")
        body = request.get_data()
        problem = self._authentication_problem(request, body)
        if problem:
            return _error(401, "Denied", problem)
        try:
            payload = json.loads(body)
        except ValueError:
            return _error(400, "BadRequest", "The body is not JSON.")
        recipients = payload.get("smsRecipients") if isinstance(payload, dict) else None
        sender = payload.get("from") if recipients else None
        message = payload.get("message") if recipients else None
        if not (isinstance(recipients, list) and 0 < len(recipients) <= MAX_RECIPIENTS):
            return _error(400, "BadRequest", "smsRecipients must hold 1 to 100 recipients.")
        if not (isinstance(sender, str) and sender and isinstance(message, str) and message):
            return _error(400, "BadRequest", "from and message are required.")
        options = payload.get("smsSendOptions") or {}
        results = [self._send(sender, r, message, options.get("tag")) for r in recipients]
        return Response(
            json.dumps({"value": results}), status=202, content_type="application/json"
        )

    def _send(self, sender: str, recipient: Any, message: str, tag: Any) -> dict[str, Any]:
        fields = recipient if isinstance(recipient, dict) else {}
        to, request_id = fields.get("to"), fields.get("repeatabilityRequestId")
        if not isinstance(to, str) or not E164.match(to):
            return {"to": str(to), "httpStatusCode": 400, "successful": False,
                    "errorMessage": "Invalid To phone number format."}
        with self._lock:
            if request_id and request_id in self._requests:
                return {"to": to, "httpStatusCode": 202, "successful": True,
                        "repeatabilityResult": "rejected", "messageId": None}
            if request_id:
                self._requests.add(str(request_id))
            message_id = f"Outgoing_{uuid.uuid4().hex}_noam"
            self._messages.append(
                SentSms(message_id, sender, to, message, tag if isinstance(tag, str) else None)
            )
        return {"to": to, "messageId": message_id, "httpStatusCode": 202,
                "repeatabilityResult": "accepted", "successful": True}

    def _authentication_problem(self, request: Request, body: bytes) -> str | None:
        date_text = request.headers.get("x-ms-date")
        content_hash = request.headers.get("x-ms-content-sha256")
        authorization = request.headers.get("Authorization", "")
        if not (date_text and content_hash and authorization):
            return "x-ms-date, x-ms-content-sha256 and Authorization are required."
        try:
            sent_at = parsedate_to_datetime(date_text)
        except (TypeError, ValueError):
            return "x-ms-date is not an RFC 1123 date."
        if abs(datetime.now(UTC) - sent_at) > MAX_CLOCK_SKEW:
            return "x-ms-date is more than 15 minutes off."
        expected_hash = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        if not hmac.compare_digest(content_hash, expected_hash):
            return "x-ms-content-sha256 does not match the body."
        scheme, _, parameters = authorization.partition(" ")
        fields = dict(part.partition("=")[::2] for part in parameters.split("&"))
        if scheme != "HMAC-SHA256" or fields.get("SignedHeaders") != SIGNED_HEADERS:
            return "Authorization must be HMAC-SHA256 over x-ms-date;host;x-ms-content-sha256."
        path = request.full_path.rstrip("?")
        to_sign = f"POST\n{path}\n{date_text};{request.host};{content_hash}"
        key = base64.b64decode(self.access_key)
        signature = base64.b64encode(
            hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).digest()
        ).decode("ascii")
        if not hmac.compare_digest(fields.get("Signature", ""), signature):
            return "The signature does not match."
        return None


def _error(status: int, code: str, message: str) -> Response:
    return Response(
        json.dumps({"error": {"code": code, "message": message}}),
        status=status,
        content_type="application/json",
    )

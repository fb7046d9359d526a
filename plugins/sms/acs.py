"""Azure Communication Services SMS through its SDK (``azure-communication-sms``).

:class:`AcsSmsSender` sends one message to one number and returns the message id ACS gave
it. The SDK is imported on first use, so a Function App that sends no SMS never loads it.
The resource is reached at ``endpoint`` with its access key (the SDK signs each request with
HMAC-SHA256); a per-recipient refusal (a number ACS does not accept) is a permanent
:class:`SmsError`, a transport failure or a 429/5xx a retryable one.
"""

from __future__ import annotations

from typing import Any


class SmsError(Exception):
    """A message that did not go; ``retry`` says whether trying later may help."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class AcsSmsSender:
    """Sends SMS from one ACS phone number (or alphanumeric sender id)."""

    def __init__(
        self, endpoint: str, access_key: str, sender: str, *, timeout_seconds: float = 10.0
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._access_key = access_key
        self.sender = sender
        self._timeout = timeout_seconds
        self._client: Any = None

    def send(self, to: str, message: str, *, tag: str | None = None) -> str:
        """Send ``message`` to ``to`` (E.164); the message id, or SmsError."""
        from azure.core.exceptions import AzureError, HttpResponseError

        client = self._sms_client()
        try:
            [result] = client.send(
                from_=self.sender, to=[to], message=message, enable_delivery_report=True,
                tag=tag,
            )
        except HttpResponseError as exc:
            status = exc.status_code or 0
            raise SmsError(f"ACS answered {status}", retry=status == 429 or status >= 500) from exc
        except AzureError as exc:
            raise SmsError(f"ACS not reached: {type(exc).__name__}", retry=True) from exc
        if not result.successful:
            status = result.http_status_code or 0
            raise SmsError(
                f"ACS refused the message ({status}: {result.error_message})",
                retry=status == 429 or status >= 500,
            )
        return str(result.message_id)

    def close(self) -> None:
        """Close the SDK client's connections."""
        if self._client is not None:
            # SmsClient (1.1) offers no close(); its generated service client holds the pipeline.
            inner = getattr(self._client, "_sms_service_client", None)
            if inner is not None:
                inner.close()
            self._client = None

    def _sms_client(self) -> Any:
        if self._client is None:
            from azure.communication.sms import SmsClient
            from azure.core.credentials import AzureKeyCredential

            self._client = SmsClient(
                self._endpoint,
                AzureKeyCredential(self._access_key),
                connection_timeout=self._timeout,
                read_timeout=self._timeout,
            )
        return self._client

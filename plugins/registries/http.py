"""The one way registry adapters talk HTTP: a prepared session and a retrying request.

:func:`build_session` prepares a ``requests`` session for one registry (client certificate,
CA bundle, static headers, authentication). :class:`RegistryHttp` sends requests through it
with the shared retry policy (tenacity): connection errors, timeouts, 5xx and 429 are
transient and retried with exponential backoff (or the registry's ``Retry-After``); 404
means "not found" (None); other answers below 200 or from 400 up raise
:class:`~plugins.registries.errors.RegistryRejected`. Look-ups are reads, so POST-based
ones (SOAP, bulk look-ups) are retried too.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from plugins.core.settings import RegistrySettings

from .errors import MalformedResponse, RegistryRejected, RegistryUnavailable

log = logging.getLogger(__name__)

# A 5xx that is the registry's definitive answer (e.g. a SOAP fault), described, or None.
DefinitiveFailure = Callable[[requests.Response], str | None]

_NOT_FOUND = 404
_TOO_MANY = 429


def build_session(
    *,
    client_cert: RegistrySettings.ClientCertificate | None = None,
    ca_bundle: str | None = None,
    headers: Mapping[str, str] | None = None,
    auth: requests.auth.AuthBase | tuple[str, str] | None = None,
) -> requests.Session:
    """A session for one registry: mutual TLS, trusted CAs, static headers, authentication.

    With a CA bundle configured the session ignores the environment, as the Dataverse
    session does: ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` would otherwise override it.
    """
    session = requests.Session()
    if client_cert is not None:
        session.cert = (client_cert.cert_file, client_cert.key_file)
    if ca_bundle:
        session.verify = ca_bundle
        session.trust_env = False
    session.headers.update(headers or {})
    session.auth = auth
    return session


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RegistryHttp:
    """Sends one registry's requests through its session with the shared retry policy.

    ``retry_after_unit`` is how many seconds one unit of ``Retry-After`` is (Folkeregisteret
    gives milliseconds). ``definitive`` recognises a 5xx that must not be retried.
    """

    def __init__(
        self,
        registry: str,
        session: requests.Session,
        policy: RegistrySettings.Http,
        *,
        retry_after_unit: float = 1.0,
        definitive: DefinitiveFailure | None = None,
    ) -> None:
        self.registry = registry
        self.session = session
        self._policy = policy
        self._retry_after_unit = retry_after_unit
        self._definitive = definitive
        self._backoff = wait_exponential(
            multiplier=policy.backoff_seconds, max=policy.max_backoff_seconds
        ) + wait_random(0, policy.backoff_seconds)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        """The registry's answer, or None for 404; raises a ``RegistryError`` otherwise."""
        retrying = Retrying(
            stop=stop_after_attempt(self._policy.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            response: requests.Response = retrying(self._attempt, method, url, **kwargs)
        except _Transient as exc:
            raise RegistryUnavailable(
                self.registry, f"{exc.reason} (after {self._policy.max_attempts} attempts)"
            ) from exc
        if response.status_code == _NOT_FOUND:
            return None
        if not 200 <= response.status_code < 300:
            raise RegistryRejected(
                self.registry,
                f"{method} answered HTTP {response.status_code} {response.reason}",
                response.status_code,
            )
        return response

    def close(self) -> None:
        """Release the session's pooled connections."""
        self.session.close()

    def _attempt(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(
                method, url, timeout=self._policy.timeout_seconds, **kwargs
            )
        except requests.exceptions.SSLError as exc:
            # Not str(exc): it quotes the URL, and registry URLs carry identity numbers.
            raise RegistryRejected(
                self.registry, "TLS handshake failed (client certificate or trusted CA)"
            ) from exc
        except requests.Timeout as exc:
            raise _Transient("timed out") from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient("connection failed") from exc
        status = response.status_code
        if status >= 500 and self._definitive is not None:
            verdict = self._definitive(response)
            if verdict is not None:
                raise RegistryRejected(self.registry, verdict, status)
        if status >= 500 or status == _TOO_MANY:
            raise _Transient(f"HTTP {status}", self._retry_after(response))
        return response

    def _retry_after(self, response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After", "")
        try:
            return max(0.0, float(value)) * self._retry_after_unit
        except ValueError:
            return None

    def _log_retry(self, state: RetryCallState) -> None:
        # No URL in the message: registry URLs carry identity numbers.
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: %s on attempt %d, retrying in %.2f s",
            self.registry,
            exc.reason if isinstance(exc, _Transient) else exc,
            state.attempt_number,
            state.upcoming_sleep,
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self._policy.max_backoff_seconds)
        return self._backoff(state)


def json_body(registry: str, response: requests.Response) -> Any:
    """The JSON body of ``response``; anything else (an HTML login page, say) is malformed."""
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type.lower():
        raise MalformedResponse(registry, f"expected JSON, got {content_type or 'no content type'}")
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedResponse(registry, "the JSON body does not parse") from exc


def xml_body(registry: str, response: requests.Response) -> ET.Element:
    """The parsed XML body of ``response``.

    The standard library parser is safe here: it resolves no external entities, and the
    bundled expat (2.4.1 or later) refuses entity-expansion bombs.
    """
    try:
        return ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise MalformedResponse(registry, f"the XML body does not parse: {exc}") from exc

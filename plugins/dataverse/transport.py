"""The HTTP plumbing shared by the token provider and the client: sessions and identity."""

from __future__ import annotations

import email.parser
import http.client
from importlib.metadata import PackageNotFoundError, version
from typing import IO

import requests
from requests.adapters import HTTPAdapter

from plugins.core.settings import DataverseSettings

PRODUCT = "member-plugins"


def product_version() -> str:
    """The installed version of the product (``unknown`` when run from a bare checkout)."""
    try:
        return version(PRODUCT)
    except PackageNotFoundError:
        return "unknown"


def user_agent(settings: DataverseSettings) -> str:
    """``member-plugins/<version>``, plus the configured suffix."""
    base = f"{PRODUCT}/{product_version()}"
    suffix = settings.user_agent_suffix.strip()
    return f"{base} {suffix}" if suffix else base


def _parse_headers_only(fp: IO[bytes], _class: type = http.client.HTTPMessage) -> object:
    """:func:`http.client.parse_headers` without looking into a body it does not have.

    The standard library hands the header block to the full e-mail parser, which, for a
    ``multipart/*`` Content-Type, compiles a regular expression for the boundary to split
    the (empty) body with. Every ``$batch`` answer has a fresh boundary, so every one paid
    a compile that the regex cache never reuses. Parsing headers only gives the same
    headers (and the same message class) without it.
    """
    headers = http.client._read_headers(fp)  # type: ignore[attr-defined]
    text = b"".join(headers).decode("iso-8859-1")
    return email.parser.Parser(_class=_class).parsestr(text, headersonly=True)


def install_header_parser() -> None:
    """Make every HTTP answer's headers be parsed as headers only (see
    :func:`_parse_headers_only`); idempotent, process-wide (``http.client`` has one)."""
    http.client.parse_headers = _parse_headers_only  # type: ignore[assignment]


def new_session(settings: DataverseSettings, pool_size: int = 10) -> requests.Session:
    """A pooled session that trusts the configured CA bundle (or the system's).

    With a CA bundle configured the session ignores the environment: ``requests`` would
    otherwise let ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override ``verify`` on every call
    made through the session (msal calls it without a per-request ``verify``).
    """
    install_header_parser()
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 1))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if settings.ca_bundle:
        session.verify = settings.ca_bundle
        session.trust_env = False
    return session

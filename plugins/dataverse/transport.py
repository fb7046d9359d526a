"""The HTTP plumbing shared by the token provider and the client: sessions and identity."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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


def new_session(settings: DataverseSettings, pool_size: int = 10) -> requests.Session:
    """A pooled session that trusts the configured CA bundle (or the system's).

    With a CA bundle configured the session ignores the environment: ``requests`` would
    otherwise let ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override ``verify`` on every call
    made through the session (msal calls it without a per-request ``verify``).
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 1))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if settings.ca_bundle:
        session.verify = settings.ca_bundle
        session.trust_env = False
    return session

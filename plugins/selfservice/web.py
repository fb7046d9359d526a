"""Requests and responses of the pages as plain values, independent of Azure Functions.

The triggers convert ``func.HttpRequest`` into a :class:`PageRequest` and a
:class:`PageResponse` back, so everything the pages do can be driven by plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

SESSION_COOKIE = "mp_session"
# The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only, Path=/.
SECURE_SESSION_COOKIE = "__Host-mp_session"


@dataclass(frozen=True)
class PageRequest:
    """One HTTP request to a page. Header names are lower-case."""

    method: str
    url: str
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, Sequence[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    route: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The URL's path."""
        return urlsplit(self.url).path

    @property
    def https(self) -> bool:
        """Whether the browser spoke TLS (directly or to the front end)."""
        forwarded = self.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return urlsplit(self.url).scheme == "https" or forwarded == "https"

    def cookie(self, name: str) -> str | None:
        """The value of cookie ``name``, if the browser sent it."""
        try:
            jar = SimpleCookie(self.headers.get("cookie", ""))
        except CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel is not None else None

    def session_id(self) -> str | None:
        """The session cookie's value (either cookie name)."""
        return self.cookie(SECURE_SESSION_COOKIE) or self.cookie(SESSION_COOKIE)

    def client_address(self, trusted_hops: int) -> str | None:
        """The browser's IP address as the trusted front ends recorded it in
        ``X-Forwarded-For``: the ``trusted_hops``-th entry from the right (each front end
        appends the address it was reached from; entries further left are the client's to
        write). None when there is none: the platform (and the local host) always add one."""
        entries = [e.strip() for e in self.headers.get("x-forwarded-for", "").split(",")]
        entries = [e for e in entries if e]
        if not entries or trusted_hops < 1:
            return None
        return _without_port(entries[-min(trusted_hops, len(entries))])


@dataclass
class PageResponse:
    """What a page answers."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def session_cookie(session_id: str, *, https: bool) -> str:
    """The ``Set-Cookie`` value for a new session."""
    if https:
        return f"{SECURE_SESSION_COOKIE}={session_id}; Path=/; Secure; HttpOnly; SameSite=Lax"
    return f"{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"


def _without_port(address: str) -> str:
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address

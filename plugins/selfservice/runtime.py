"""Building the pages from the settings, once per process (and again if the settings change).

The settings are read on every request and compared with those the pages were built from:
in Azure they never change within a process, so the pages (with their pooled Dataverse
client and rate-limit counters) are built once; the local host, which starts apps with
different settings in one process, gets pages that match its settings. Only the pages'
settings groups are read (:mod:`plugins.core.settings_groups`): a bad value elsewhere does
not stop them, and a bad value of theirs is a :class:`SettingsError` (a 503 page).
"""

from __future__ import annotations

import threading

from plugins.core.settings import SelfServiceSettings, Settings
from plugins.core.settings_groups import SettingsError, load_group, load_plugin
from plugins.dataverse.client import DataverseClient

from .frame import Frame
from .oidc import OidcClient
from .pages import SelfServicePages
from .signing import KeyRing
from .store import SelfServiceStore


class NotConfigured(Exception):
    """The settings lack what the pages need (link keys, the Dataverse URL)."""


_lock = threading.Lock()
_built: tuple[Settings, SelfServicePages, DataverseClient] | None = None


def current_pages() -> SelfServicePages:
    """The pages for the current settings; NotConfigured or SettingsError when they cannot
    work."""
    global _built
    settings = load_plugin("selfservice")
    with _lock:
        if _built is not None and _built[0] == settings:
            return _built[1]
        pages, client = build_pages(settings)
        if _built is not None:
            _built[2].close()
        _built = (settings, pages, client)
        return pages


def current_frame() -> Frame:
    """A frame for the current settings, for answers when the pages cannot be built (the
    built-in look when the pages' own settings are bad)."""
    try:
        return Frame(load_group("selfservice"))
    except SettingsError:
        return Frame(SelfServiceSettings())


def build_pages(settings: Settings) -> tuple[SelfServicePages, DataverseClient]:
    """Pages with the key ring, the sign-in provider (if configured) and a Dataverse client
    (returned too, to be closed when the pages are replaced)."""
    selfservice = settings.selfservice
    if not selfservice.link_keys:
        raise NotConfigured("SELFSERVICE__LINK_KEYS and SELFSERVICE__LINK_KEY_ID are not set")
    if not settings.dataverse.url:
        raise NotConfigured("DATAVERSE__URL is not set")
    keys = KeyRing.from_secrets(selfservice.link_keys, selfservice.link_key_id)
    client = DataverseClient(settings.dataverse)
    store = SelfServiceStore(client, settings.schema_map)
    oidc = OidcClient(selfservice.oidc) if selfservice.oidc is not None else None
    return SelfServicePages(selfservice, settings.schema_map, store, keys, oidc=oidc), client

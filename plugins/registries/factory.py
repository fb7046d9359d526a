"""Building the enabled registry adapters from settings."""

from __future__ import annotations

from plugins.core.settings import RegistrySettings

from .folkeregisteret import FolkeregisteretAdapter
from .fs import FsAdapter
from .ladok import LadokAdapter
from .models import RegistryName
from .navet import NavetAdapter
from .protocol import RegistryAdapter
from .spar import SparAdapter


def build_adapters(settings: RegistrySettings) -> dict[RegistryName, RegistryAdapter]:
    """One adapter per enabled registry, keyed by registry name."""
    policy = settings.http
    adapters: dict[RegistryName, RegistryAdapter] = {}
    if settings.ladok.enabled:
        adapters[RegistryName.LADOK] = LadokAdapter.from_settings(settings.ladok, policy)
    if settings.fs.enabled:
        adapters[RegistryName.FS] = FsAdapter.from_settings(settings.fs, policy)
    if settings.navet.enabled:
        adapters[RegistryName.NAVET] = NavetAdapter.from_settings(settings.navet, policy)
    if settings.spar.enabled:
        adapters[RegistryName.SPAR] = SparAdapter.from_settings(settings.spar, policy)
    if settings.folkeregisteret.enabled:
        adapters[RegistryName.FOLKEREGISTERET] = FolkeregisteretAdapter.from_settings(
            settings.folkeregisteret, policy
        )
    return adapters

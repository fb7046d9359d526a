"""Building the enabled registry adapters from settings.

Each adapter's module is imported only when its registry is enabled: an instance pays the
start-up cost (SOAP, Maskinporten's JWT signing) of the registries it uses, not of all.
"""

from __future__ import annotations

from plugins.core.settings import RegistrySettings

from .models import RegistryName
from .protocol import RegistryAdapter


def build_adapters(settings: RegistrySettings) -> dict[RegistryName, RegistryAdapter]:
    """One adapter per enabled registry, keyed by registry name."""
    policy = settings.http
    adapters: dict[RegistryName, RegistryAdapter] = {}
    if settings.ladok.enabled:
        from .ladok import LadokAdapter

        adapters[RegistryName.LADOK] = LadokAdapter.from_settings(settings.ladok, policy)
    if settings.fs.enabled:
        from .fs import FsAdapter

        adapters[RegistryName.FS] = FsAdapter.from_settings(settings.fs, policy)
    if settings.navet.enabled:
        from .navet import NavetAdapter

        adapters[RegistryName.NAVET] = NavetAdapter.from_settings(settings.navet, policy)
    if settings.spar.enabled:
        from .spar import SparAdapter

        adapters[RegistryName.SPAR] = SparAdapter.from_settings(settings.spar, policy)
    if settings.folkeregisteret.enabled:
        from .folkeregisteret import FolkeregisteretAdapter

        adapters[RegistryName.FOLKEREGISTERET] = FolkeregisteretAdapter.from_settings(
            settings.folkeregisteret, policy
        )
    return adapters

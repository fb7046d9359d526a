"""The one interface every registry adapter offers, and the behaviour they share."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from plugins.identity import Country, mask_national_id, parse_national_id

from .http import RegistryHttp
from .models import RegistryName, RegistryPerson

log = logging.getLogger(__name__)


@runtime_checkable
class RegistryAdapter(Protocol):
    """Looks people up in one registry by national identity number.

    ``national_id`` may be in any accepted form of the registry's country; results are keyed
    by the canonical form. A person the registry does not know is None. Failures raise a
    :class:`~plugins.registries.errors.RegistryError`; an identity number that is not valid for
    the registry's country raises ``ValueError`` (a caller bug: validate first).
    ``supports_batch`` says whether ``lookup_many`` uses the registry's own batch look-up
    rather than one call per person.
    """

    name: RegistryName
    country: Country

    @property
    def supports_batch(self) -> bool: ...

    def lookup(self, national_id: str) -> RegistryPerson | None: ...

    def lookup_many(self, national_ids: Sequence[str]) -> dict[str, RegistryPerson | None]: ...

    def close(self) -> None: ...


class OnePersonPerCall(ABC):
    """Base of adapters whose registry answers one person per request."""

    name: RegistryName
    country: Country

    def __init__(self, http: RegistryHttp) -> None:
        self.http = http

    @property
    def supports_batch(self) -> bool:
        return False

    def lookup(self, national_id: str) -> RegistryPerson | None:
        """The person with ``national_id``, or None when the registry does not know them."""
        canonical = self.canonical(national_id)
        person = self._lookup(canonical)
        log.debug(
            "%s: %s %s", self.name, mask_national_id(canonical), "found" if person else "unknown"
        )
        return person

    def lookup_many(self, national_ids: Sequence[str]) -> dict[str, RegistryPerson | None]:
        """Each person by canonical id, one request (or a few) per person."""
        wanted = dict.fromkeys(self.canonical(n) for n in national_ids)
        return {national_id: self._lookup(national_id) for national_id in wanted}

    def close(self) -> None:
        """Release the adapter's HTTP connections."""
        self.http.close()

    def canonical(self, national_id: str) -> str:
        """The canonical form of ``national_id``; ValueError if it is not valid here."""
        result = parse_national_id(national_id, self.country)
        if not result.valid:
            raise ValueError(
                f"{self.name}: not a valid {self.country} identity number ({result.reason})"
            )
        return result.canonical

    @abstractmethod
    def _lookup(self, national_id: str) -> RegistryPerson | None:
        """Look up one person by canonical id."""

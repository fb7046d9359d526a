"""Registry adapters: Ladok, FS, Navet, SPAR and Folkeregisteret behind one protocol.

Each adapter speaks its registry's own wire format over HTTP through the one retrying
session factory in :mod:`plugins.registries.http`, authenticates as that registry requires
(settings: :class:`plugins.core.settings.RegistrySettings`) and returns the registry-neutral
:class:`RegistryPerson`. These are the only modules that talk HTTP to registries; build them
with :func:`plugins.registries.factory.build_adapters`. Errors are described in
:mod:`plugins.registries.errors`.

This package module exports only the model and the errors, which are pure, so the pure core
(enrichment, eligibility) can import them without pulling in the HTTP stack.
"""

from .errors import MalformedResponse, RegistryError, RegistryRejected, RegistryUnavailable
from .models import (
    Address,
    AddressKind,
    Degree,
    Enrolment,
    Programme,
    ProtectionLevel,
    RegistryName,
    RegistryPerson,
    StudyFacts,
)

__all__ = [
    "Address",
    "AddressKind",
    "Degree",
    "Enrolment",
    "MalformedResponse",
    "Programme",
    "ProtectionLevel",
    "RegistryError",
    "RegistryName",
    "RegistryPerson",
    "RegistryRejected",
    "RegistryUnavailable",
    "StudyFacts",
]

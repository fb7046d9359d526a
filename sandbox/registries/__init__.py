"""Registry emulators: Ladok, FS, Navet, SPAR, Folkeregisteret (and Maskinporten).

Each emulator speaks its registry's own wire format under ``/registries/<name>/`` on the
sandbox, checks the credentials the real registry checks (see :mod:`.base` for how client
certificates are stood in for), counts its requests, and injects latency and faults like
the Dataverse side (:mod:`.base`). People come from the seed file's ``"registries"``
section, whose format :mod:`.seed` documents. :meth:`Emulators.client_settings` gives the
product's :class:`~plugins.core.settings.RegistrySettings` for reaching every emulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from plugins.core.settings import RegistrySettings

from . import fs, ladok, navet, spar
from .base import CLIENT_CERT_HEADER, RegistryEmulator
from .folkeregisteret import BULK_PACKAGE, SCOPES, FolkeregisteretEmulator
from .fs import FsEmulator
from .ladok import LadokEmulator
from .maskinporten import MaskinportenEmulator
from .navet import NavetEmulator
from .seed import RegistriesSeed, SeedClient
from .spar import SparEmulator

if TYPE_CHECKING:
    from ..core import Host

SANDBOX_CLIENT_ID = "member-plugins-sandbox"


class Emulators:
    """Every registry emulator of one sandbox."""

    def __init__(self, sandbox: Host) -> None:
        self.sandbox = sandbox
        self.ladok = LadokEmulator(sandbox)
        self.fs = FsEmulator(sandbox)
        self.navet = NavetEmulator(sandbox)
        self.spar = SparEmulator(sandbox)
        self.maskinporten = MaskinportenEmulator(sandbox)
        self.folkeregisteret = FolkeregisteretEmulator(sandbox, self.maskinporten)
        for emulator in self.all():
            sandbox.mount(emulator.prefix, emulator.handle)

    def all(self) -> tuple[RegistryEmulator, ...]:
        """The emulators, Maskinporten included."""
        return (self.ladok, self.fs, self.navet, self.spar, self.folkeregisteret, self.maskinporten)

    def load_seed(self, seed: Mapping[str, Any]) -> None:
        """Add the people and Maskinporten clients of a seed's ``"registries"`` section."""
        parsed = RegistriesSeed.model_validate(seed)
        self.ladok.add_people(parsed.ladok)
        self.fs.add_people(parsed.fs)
        self.navet.add_people(parsed.navet)
        self.spar.add_people(parsed.spar)
        self.folkeregisteret.add_people(parsed.folkeregisteret)
        for client_id, client in parsed.maskinporten.items():
            self.maskinporten.register(client_id, client)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Each emulator's request, refusal and fault counts, by registry name."""
        return {emulator.name: emulator.stats() for emulator in self.all()}

    def reset_stats(self) -> None:
        for emulator in self.all():
            emulator.reset_stats()

    def client_settings(
        self, key_file: str | Path, *, http: RegistrySettings.Http | None = None
    ) -> RegistrySettings:
        """Settings that reach every emulator of the started sandbox, all registries enabled.

        The sandbox's RSA key for Maskinporten is written to ``key_file`` and registered with
        the Maskinporten emulator, with the scopes of both Folkeregisteret packages served.
        """
        key = _client_key()
        Path(key_file).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.maskinporten.register(
            SANDBOX_CLIENT_ID,
            SeedClient(public_key_pem=public_pem.decode(), scopes=tuple(SCOPES.values())),
        )
        return RegistrySettings(
            http=http or RegistrySettings.Http(),
            ladok=RegistrySettings.Ladok(
                enabled=True,
                base_url=self.ladok.base_url,
                extra_headers={CLIENT_CERT_HEADER: ladok.CERT_SUBJECT},
            ),
            fs=RegistrySettings.Fs(
                enabled=True,
                base_url=self.fs.base_url,
                username=fs.USERNAME,
                password=SecretStr(fs.PASSWORD),
            ),
            navet=RegistrySettings.Navet(
                enabled=True,
                endpoint_url=f"{self.navet.base_url}/{navet.ENDPOINT}",
                org_nr=navet.ORG_NR,
                order_id=navet.ORDER_ID,
                extra_headers={CLIENT_CERT_HEADER: navet.CERT_SUBJECT},
            ),
            spar=RegistrySettings.Spar(
                enabled=True,
                endpoint_url=f"{self.spar.base_url}/{spar.ENDPOINT}",
                customer_number=spar.CUSTOMER_NUMBER,
                end_customer_number=spar.END_CUSTOMER_NUMBER,
                assignment_id=spar.ASSIGNMENT_ID,
                end_user_id="sandbox-tests",
                extra_headers={CLIENT_CERT_HEADER: spar.CERT_SUBJECT},
            ),
            folkeregisteret=RegistrySettings.Folkeregisteret(
                enabled=True,
                base_url=self.folkeregisteret.base_url,
                rights_package=BULK_PACKAGE,
                scope=SCOPES[BULK_PACKAGE],
                maskinporten=RegistrySettings.Maskinporten(
                    token_url=self.maskinporten.token_url,
                    audience=self.maskinporten.audience,
                    client_id=SANDBOX_CLIENT_ID,
                    key_file=str(key_file),
                ),
            ),
        )


@lru_cache(maxsize=1)
def _client_key() -> rsa.RSAPrivateKey:
    """One key per process: generating 2048-bit RSA keys takes a noticeable fraction of a second."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


__all__ = ["Emulators"]

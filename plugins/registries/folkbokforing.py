"""Reading Swedish population-register records (Navet and SPAR share the vocabulary)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from . import soap
from .models import Address, AddressKind, ProtectionLevel

DECEASED = "AV"
EMIGRATED = "UV"


def protection(confidential: bool | None, protected: bool | None) -> ProtectionLevel:
    """Skyddad folkbokföring beats sekretessmarkering; a flag not given means unknown."""
    if protected:
        return ProtectionLevel.PROTECTED
    if confidential:
        return ProtectionLevel.CONFIDENTIAL
    if confidential is False and protected is False:
        return ProtectionLevel.NONE
    return ProtectionLevel.UNKNOWN


def flag(value: str | None, yes: str, no: str) -> bool | None:
    """A yes/no element (``J``/``N`` in Navet, ``JA``/``NEJ`` in SPAR); None if absent."""
    if value is None:
        return None
    if value not in (yes, no):
        raise ValueError(f"expected {yes} or {no}, got {value!r}")
    return value == yes


def swedish_address(kind: AddressKind, element: ET.Element) -> Address:
    """A domestic address: ``CareOf``, ``Utdelningsadress1-2``, ``PostNr``, ``Postort``."""
    return Address(
        kind=kind,
        care_of=soap.text(element, "CareOf"),
        lines=_lines(element, 2),
        postal_code=soap.text(element, "PostNr"),
        city=soap.text(element, "Postort"),
        country="SE",
    )


def foreign_address(element: ET.Element) -> Address:
    """A foreign address: ``Utdelningsadress1-3`` and ``Land``."""
    return Address(
        kind=AddressKind.FOREIGN, lines=_lines(element, 3), country=soap.text(element, "Land")
    )


def _lines(address: ET.Element, count: int) -> tuple[str, ...]:
    lines = (soap.text(address, f"Utdelningsadress{n}") for n in range(1, count + 1))
    return tuple(line for line in lines if line)

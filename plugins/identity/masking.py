"""Masking personal data before it reaches a log line (pure).

Logs must not carry identity numbers or e-mail addresses. These helpers keep just enough
to tell values apart while debugging (shape, the last characters, the top-level domain)
and nothing that identifies a person. Hashes are deliberately not used: an identity
number has so few possible values that any hash of it can be reversed by brute force.
"""

from __future__ import annotations

_KEPT_ID_CHARS = 2
_NONE = "<none>"


def mask_national_id(value: str | None) -> str:
    """``197010632391`` -> ``**********91``: the length and the last two characters only."""
    if not value:
        return _NONE
    text = value.strip()
    if len(text) <= _KEPT_ID_CHARS * 2:
        return "*" * len(text)
    return "*" * (len(text) - _KEPT_ID_CHARS) + text[-_KEPT_ID_CHARS:]


def mask_email(value: str | None) -> str:
    """``Anna.Svensson@example.se`` -> ``a***@***.se``: first letter and top-level domain."""
    if not value:
        return _NONE
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return "***"
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[0].lower()}***@***" + (f".{tld.lower()}" if tld else "")

"""E-mail addresses: a syntactic check and the key used to match people by e-mail (pure).

The match key is the trimmed address with the domain lower-cased and the local part
case-folded. Mail servers may treat the local part as case-sensitive (RFC 5321), but no
real provider does, and people type their address with varying capitals. Nothing else is
normalised: dots and ``+tags`` are significant outside Gmail (and in Google Workspace), so
stripping them would merge different people.

The syntax accepted is the common "dot-atom" form, including internationalised (UTF-8)
local parts and domains. Quoted local parts and IP-literal domains are valid in RFC 5322
but are refused: they do not occur in registrations and complicate every downstream system.
"""

from __future__ import annotations

import re

_MAX_ADDRESS = 254
_MAX_LOCAL = 64
_MAX_LABEL = 63
# RFC 5322 atext plus any non-ASCII character (RFC 6531 allows UTF-8), written as what is
# excluded: a class spanning up to U+10FFFF costs milliseconds to compile at every start.
_ATOM = r'[^\x00-\x20"(),.:;<>@\[\\\]\x7f]+'
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
# A label's letters, digits and non-ASCII characters, with hyphens inside only.
_LABEL = re.compile(r"[^\x00-/:-@\[-`{-\x7f](?:[^\x00-,./:-@\[-`{-\x7f]*[^\x00-/:-@\[-`{-\x7f])?")
_INVISIBLE = re.compile(r"[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]")


def is_valid_email(value: str | None) -> bool:
    """Whether ``value`` (after trimming) is a syntactically valid address."""
    if value is None:
        return False
    text = value.strip()
    if len(text) > _MAX_ADDRESS or _INVISIBLE.search(text):
        return False
    local, at, domain = text.rpartition("@")
    if not at or len(local) > _MAX_LOCAL or not _LOCAL.fullmatch(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    return all(len(label) <= _MAX_LABEL and _LABEL.fullmatch(label) for label in labels)


def normalise_email(value: str | None) -> str | None:
    """The match key of ``value``, or None when it is not a valid address (nothing to match)."""
    if not is_valid_email(value):
        return None
    local, _, domain = value.strip().rpartition("@")  # type: ignore[union-attr]
    return f"{local.casefold()}@{domain.lower()}"

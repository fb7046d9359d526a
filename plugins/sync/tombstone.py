"""The hash that remembers an erased person (pure).

When a person is erased on request (GDPR art. 17), the product keeps only
``HMAC-SHA256(tombstone_key, canonical identity number)``, so no later import, registration
or sync brings them back. A plain hash would not do: identity numbers have so few possible
values that anyone could hash them all and read the erased numbers back; without the key
nobody can. The key is ``SyncSettings.tombstone_key``.
"""

from __future__ import annotations

import hashlib
import hmac


def identity_hash(canonical_national_id: str, key: str) -> str:
    """The tombstone of a canonical identity number: 64 lowercase hex characters."""
    text = canonical_national_id.strip()
    if not text:
        raise ValueError("an identity number is needed")
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()

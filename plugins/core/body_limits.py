"""How large a request body each HTTP route accepts (pure), checked before anything parses it.

The Functions host accepts bodies of up to 100 MB; nothing the product serves needs more
than a fraction of that, so each trigger refuses larger ones itself with 413:

- the webhook: Dataverse never sends an event larger than 256 KB (a larger context arrives
  trimmed, with ``x-ms-dynamics-msg-size-exceeded``); 64 KB more is margin for encoding;
- the self-service pages: their largest form, every field at its longest and percent-encoded
  three bytes a character, stays under 8 KB;
- the health check is a GET: 1 KB covers any stray body a probe may send.
"""

from __future__ import annotations

from collections.abc import Mapping

KIB = 1024
WEBHOOK_MAX_BYTES = 320 * KIB
PAGE_MAX_BYTES = 8 * KIB
HEALTH_MAX_BYTES = 1 * KIB
# A Content-Length longer than this many digits is larger than any limit (and than what
# int() converts without the digit limit).
_MAX_LENGTH_DIGITS = 15


def body_too_large(headers: Mapping[str, str], body_length: int, limit: int) -> bool:
    """Whether the declared (``Content-Length``) or actual body length exceeds ``limit``."""
    declared = next(
        (str(value).strip() for name, value in headers.items() if name.lower() == "content-length"),
        "",
    )
    if declared.isdigit() and (len(declared) > _MAX_LENGTH_DIGITS or int(declared) > limit):
        return True
    return body_length > limit

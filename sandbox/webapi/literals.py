"""OData literals as they appear in keys and ``$filter``: strings, numbers, GUIDs, null."""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_literal(text: str) -> Any:
    """The Python value of one OData literal (``'O''Bryan'``, ``42``, ``true``, a GUID...)."""
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        body = text[1:-1]
        if re.search(r"(?<!')'(?!')", body.replace("''", "")):
            raise ValueError(f"Unterminated string literal {text}")
        return body.replace("''", "'")
    lowered = text.lower()
    if lowered == "null":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if _GUID.match(text):
        return text.lower()
    if _NUMBER.match(text):
        stripped = text.rstrip("mMdDfFlL")
        if re.fullmatch(r"-?\d+", stripped):
            return int(stripped)
        return float(stripped)
    raise ValueError(f"Syntax error: '{text}' is not a valid literal")


def format_literal(value: Any) -> str:
    """The OData literal for a Python value (the inverse of :func:`parse_literal`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _GUID.match(text):
        return text
    return "'" + text.replace("'", "''") + "'"

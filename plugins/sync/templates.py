"""Filling in an e-mail template's data fields (pure).

Dataverse e-mail templates mark data fields as ``{!<table>:<column>;<default text>}``, e.g.
``Dear {!contact:firstname;member},``. Fields of the contact the message goes to are
filled in from its row; an empty value, or a field of another table, gives the default
text. Values are HTML-escaped in a body (templates are HTML) but not in a subject.

``{!link:update;}`` stands for a signed single-use link to the person's page (the product's
own field: the sender issues a link only for a template that has it).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

DATA_FIELD = re.compile(r"\{!(?P<table>\w+):(?P<column>\w+);(?P<default>[^}]*)\}")


LINK_TABLE = "link"


def render(
    text: str,
    contact: Mapping[str, Any],
    *,
    escape: bool,
    links: Mapping[str, str] | None = None,
) -> str:
    """``text`` with every data field replaced by the contact's value (or the link of
    ``links`` named by a link field) or the default."""

    def value(match: re.Match[str]) -> str:
        if match["table"] == LINK_TABLE:
            found: Any = (links or {}).get(match["column"])
        else:
            found = contact.get(match["column"]) if match["table"] == "contact" else None
        if found in (None, ""):
            return match["default"]
        return html.escape(str(found)) if escape else str(found)

    return DATA_FIELD.sub(value, text)


def contact_fields(*texts: str) -> frozenset[str]:
    """The contact columns the texts use (to ``$select`` them)."""
    return frozenset(
        m["column"] for text in texts for m in DATA_FIELD.finditer(text) if m["table"] == "contact"
    )


def link_fields(*texts: str) -> frozenset[str]:
    """The links the texts ask for (``update`` for ``{!link:update;}``)."""
    return frozenset(
        m["column"] for text in texts for m in DATA_FIELD.finditer(text)
        if m["table"] == LINK_TABLE
    )

"""The 400 answers Dataverse gives for query options it cannot read."""

from __future__ import annotations

from ..errors import ODataError, bad_request

QUERY_ERROR_CODE = "0x80060888"


def invalid_query(message: str) -> ODataError:
    """An unsupported or malformed query construct (400, ``0x80060888``)."""
    return bad_request(message, code=QUERY_ERROR_CODE)


def syntax_error(text: str, position: int) -> ODataError:
    """OData's "Syntax error at position N" for an expression."""
    return invalid_query(f"Syntax error at position {position} in '{text}'.")

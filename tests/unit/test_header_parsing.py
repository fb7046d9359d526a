"""Answer headers are parsed without compiling a regular expression per $batch boundary."""

from __future__ import annotations

import email.parser
import http.client
import io
import re
import uuid

from plugins.dataverse.transport import _parse_headers_only, install_header_parser


def answer_head(boundary: str) -> bytes:
    return (
        f"Content-Type: multipart/mixed; boundary={boundary}\r\n"
        "OData-Version: 4.0\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        "x-ms-ratelimit-burst-remaining-xrm-requests: 5999\r\n\r\n"
    ).encode("latin-1")


def test_headers_are_the_ones_the_standard_library_parses() -> None:
    head = answer_head(f"batchresponse_{uuid.uuid4()}")
    ours = _parse_headers_only(io.BytesIO(head))
    theirs = email.parser.Parser(_class=http.client.HTTPMessage).parsestr(head.decode("latin-1"))
    assert isinstance(ours, http.client.HTTPMessage)
    assert ours.items() == theirs.items()
    assert ours.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_a_fresh_boundary_compiles_no_regular_expression() -> None:
    install_header_parser()
    boundary = f"batchresponse_{uuid.uuid4()}"
    http.client.parse_headers(io.BytesIO(answer_head(boundary)))
    escaped = re.escape(boundary)
    patterns = [key[1] for key in re._cache if isinstance(key[1], str)]  # type: ignore[attr-defined]
    assert [pattern for pattern in patterns if escaped in pattern] == []


def test_the_standard_library_alone_would_compile_one() -> None:
    boundary = f"batchresponse_{uuid.uuid4()}"
    email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
        answer_head(boundary).decode("latin-1"))
    escaped = re.escape(boundary)
    patterns = [key[1] for key in re._cache if isinstance(key[1], str)]  # type: ignore[attr-defined]
    assert [pattern for pattern in patterns if escaped in pattern] != []

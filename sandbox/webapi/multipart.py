"""``multipart/mixed`` as OData ``$batch`` uses it: split a body into parts, write one back.

Pure functions over bytes. Line endings are CRLF when writing; when reading, bare LF is
accepted too, because hand-written batch bodies (and some clients) use it.

A part is MIME headers, a blank line and content. In a batch the content is either a nested
``multipart/mixed`` (a change set) or one ``application/http`` message: a request line
(``PATCH contacts(...) HTTP/1.1``) or status line, headers, a blank line and a body.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from http import HTTPStatus

CRLF = b"\r\n"
_BOUNDARY_PARAM = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;,\s]+))', re.IGNORECASE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_REQUEST_LINE = re.compile(r"^([A-Za-z]+)\s+(\S+)(?:\s+HTTP/\d(?:\.\d)?)?\s*$")

Headers = list[tuple[str, str]]


class MultipartError(ValueError):
    """The body is not well-formed ``multipart/mixed`` or a part is not an HTTP message."""


@dataclass(frozen=True)
class BodyPart:
    """One MIME part: its headers (names lower-cased) and its raw content."""

    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True)
class HttpRequestMessage:
    """An ``application/http`` request: method, request target, headers and body."""

    method: str
    target: str
    headers: Headers
    body: bytes


def boundary_of(content_type: str | None) -> str | None:
    """The ``boundary`` parameter of a ``multipart/mixed`` content type, if it is one."""
    if not content_type or not content_type.strip().lower().startswith("multipart/mixed"):
        return None
    match = _BOUNDARY_PARAM.search(content_type)
    if match is None:
        return None
    return match.group(1) or match.group(2)


def split_parts(body: bytes, boundary: str) -> list[BodyPart]:
    """The parts between ``--boundary`` delimiters, up to the closing ``--boundary--``."""
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary.encode("latin-1")) + rb"(--)?[ \t]*(?:\r?\n|$)"
    )
    matches = list(delimiter.finditer(body))
    if not matches:
        raise MultipartError(f"the body has no part delimited by '--{boundary}'")
    if not any(m.group(1) for m in matches):
        raise MultipartError(f"the body does not end with the closing delimiter '--{boundary}--'")
    parts: list[BodyPart] = []
    for current, following in itertools.pairwise(matches):
        if current.group(1):
            break
        parts.append(_parse_part(body[current.end() : following.start()]))
    return parts


def _parse_part(raw: bytes) -> BodyPart:
    header_block, content = _split_headers(raw)
    return BodyPart(dict((k.lower(), v) for k, v in _parse_header_lines(header_block)), content)


def _split_headers(raw: bytes) -> tuple[bytes, bytes]:
    """Headers and content of a part; a part may start directly with the blank line."""
    if raw.startswith(b"\r\n") or raw.startswith(b"\n"):
        return b"", raw[2:] if raw.startswith(b"\r\n") else raw[1:]
    end = _HEADER_END.search(raw)
    if end is None:
        return raw, b""
    return raw[: end.start()], raw[end.end() :]


def _parse_header_lines(block: bytes) -> Headers:
    headers: Headers = []
    for line in _text(block).splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MultipartError(f"malformed header line {line[:80]!r}")
        headers.append((name.strip(), value.strip()))
    return headers


def parse_request(content: bytes) -> HttpRequestMessage:
    """The HTTP request carried by an ``application/http`` part."""
    text_start = content.lstrip(b"\r\n")
    line_end = text_start.find(b"\n")
    request_line = _text(text_start if line_end < 0 else text_start[:line_end])
    match = _REQUEST_LINE.match(request_line.strip())
    if match is None:
        raise MultipartError(f"malformed request line {request_line.strip()[:120]!r}")
    rest = b"" if line_end < 0 else text_start[line_end + 1 :]
    header_block, body = _split_headers(rest)
    return HttpRequestMessage(
        match.group(1).upper(), match.group(2), _parse_header_lines(header_block), body.strip()
    )


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MultipartError("a request line or header is not UTF-8 text") from exc


def format_response(status: int, headers: Headers, body: bytes) -> bytes:
    """An ``application/http`` response: status line, headers, blank line, body."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}".rstrip()]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return CRLF.join(line.encode("utf-8") for line in lines) + CRLF + CRLF + body


def format_multipart(boundary: str, parts: list[tuple[Headers, bytes]]) -> bytes:
    """A ``multipart/mixed`` body with CRLF line endings and the closing delimiter."""
    out = bytearray()
    for headers, content in parts:
        out += b"--" + boundary.encode("latin-1") + CRLF
        for name, value in headers:
            out += f"{name}: {value}".encode() + CRLF
        out += CRLF + content + CRLF
    out += b"--" + boundary.encode("latin-1") + b"--" + CRLF
    return bytes(out)

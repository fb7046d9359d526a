"""The multipart/mixed reader and writer used by $batch."""

from __future__ import annotations

import pytest

from sandbox.webapi.multipart import (
    MultipartError,
    boundary_of,
    format_multipart,
    format_response,
    parse_request,
    split_parts,
)

# Shaped like the Microsoft Learn batch example, with CRLF line endings.
BATCH = (
    b"--batch_AAA123\r\n"
    b"Content-Type: multipart/mixed; boundary=changeset_BBB456\r\n"
    b"\r\n"
    b"--changeset_BBB456\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"Content-ID: 1\r\n"
    b"\r\n"
    b"POST https://org.crm.dynamics.com/api/data/v9.2/contacts HTTP/1.1\r\n"
    b"Content-Type: application/json; type=entry\r\n"
    b"\r\n"
    b'{"firstname": "Ada"}\r\n'
    b"--changeset_BBB456\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"Content-ID: 2\r\n"
    b"\r\n"
    b"PUT $1/lastname HTTP/1.1\r\n"
    b"Content-Type: application/json\r\n"
    b"\r\n"
    b'{"value": "Lovelace"}\r\n'
    b"--changeset_BBB456--\r\n"
    b"\r\n"
    b"--batch_AAA123\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"GET /api/data/v9.2/contacts?$select=firstname HTTP/1.1\r\n"
    b"\r\n"
    b"\r\n"
    b"--batch_AAA123--\r\n"
)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ('multipart/mixed; boundary="batch_1"', "batch_1"),
        ("multipart/mixed;boundary=batch_2", "batch_2"),
        ("Multipart/Mixed; charset=utf-8; BOUNDARY=changeset_x", "changeset_x"),
        ("application/json", None),
        ("multipart/mixed", None),
        (None, None),
    ],
)
def test_boundary_of(content_type: str | None, expected: str | None) -> None:
    assert boundary_of(content_type) == expected


def test_split_parts_reads_a_change_set_and_a_request() -> None:
    parts = split_parts(BATCH, "batch_AAA123")

    assert len(parts) == 2
    change_set, get = parts
    assert boundary_of(change_set.headers["content-type"]) == "changeset_BBB456"
    inner = split_parts(change_set.content, "changeset_BBB456")
    assert [p.headers["content-id"] for p in inner] == ["1", "2"]
    assert get.headers["content-type"] == "application/http"


def test_parse_request_reads_line_headers_and_body() -> None:
    inner = split_parts(split_parts(BATCH, "batch_AAA123")[0].content, "changeset_BBB456")

    create = parse_request(inner[0].content)
    assert create.method == "POST"
    assert create.target == "https://org.crm.dynamics.com/api/data/v9.2/contacts"
    assert create.headers == [("Content-Type", "application/json; type=entry")]
    assert create.body == b'{"firstname": "Ada"}'

    put = parse_request(inner[1].content)
    assert (put.method, put.target, put.body) == ("PUT", "$1/lastname", b'{"value": "Lovelace"}')


def test_request_without_body() -> None:
    get = parse_request(split_parts(BATCH, "batch_AAA123")[1].content)

    assert get.method == "GET"
    assert get.target == "/api/data/v9.2/contacts?$select=firstname"
    assert get.headers == []
    assert get.body == b""


def test_bare_lf_line_endings_are_accepted() -> None:
    body = BATCH.replace(b"\r\n", b"\n")

    parts = split_parts(body, "batch_AAA123")
    inner = split_parts(parts[0].content, "changeset_BBB456")

    assert parse_request(inner[1].content).body == b'{"value": "Lovelace"}'


def test_boundary_inside_a_body_line_is_not_a_delimiter() -> None:
    body = (
        b"--b\r\nContent-Type: application/http\r\n\r\n"
        b'POST contacts HTTP/1.1\r\n\r\n{"firstname": "x --b y"}\r\n--b--\r\n'
    )

    (part,) = split_parts(body, "b")

    assert parse_request(part.content).body == b'{"firstname": "x --b y"}'


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"no delimiters at all", "no part"),
        (b"--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n", "closing"),
        (b"--b\r\nnot a header line\r\n\r\nGET x HTTP/1.1\r\n--b--", "malformed header"),
        (b"--b\r\nContent-Type: \xff\r\n\r\nGET x HTTP/1.1\r\n--b--", "not UTF-8"),
    ],
)
def test_malformed_bodies_are_refused(body: bytes, problem: str) -> None:
    with pytest.raises(MultipartError, match=problem):
        split_parts(body, "b")


@pytest.mark.parametrize(
    "line", [b"", b"\r\n", b"JUST-ONE-WORD", b"GET a b c HTTP/1.1", b"GET \xff HTTP/1.1"]
)
def test_malformed_request_lines_are_refused(line: bytes) -> None:
    with pytest.raises(MultipartError, match="request line"):
        parse_request(line)


def test_format_response_writes_status_line_headers_and_body() -> None:
    text = format_response(404, [("OData-Version", "4.0")], b'{"error": {}}')

    assert text == b'HTTP/1.1 404 Not Found\r\nOData-Version: 4.0\r\n\r\n{"error": {}}'


def test_format_multipart_round_trips() -> None:
    part = format_response(204, [("OData-EntityId", "https://x/contacts(1)")], b"")
    body = format_multipart(
        "batchresponse_1",
        [([("Content-Type", "application/http"), ("Content-ID", "7")], part)],
    )

    assert body.endswith(b"--batchresponse_1--\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    (read,) = split_parts(body, "batchresponse_1")
    assert read.headers == {"content-type": "application/http", "content-id": "7"}
    assert read.content == part

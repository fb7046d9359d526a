"""The client's $batch builder, multipart encoding and response parsing (pure)."""

from __future__ import annotations

import json

import pytest

from plugins.dataverse import odata
from plugins.dataverse.batch import (
    MAX_REQUESTS,
    BatchRequest,
    ContentRef,
    boundary_of,
    encode,
    parse_response,
)

GUID = "6d81597f-0f9f-e711-8122-000d3aa2331c"
API = "/api/data/v9.2/"


def build() -> BatchRequest:
    batch = BatchRequest()
    batch.get(odata.entity_path("contacts", GUID), select=["fullname"])
    changes = batch.changeset()
    person = changes.create("contacts", {"firstname": "Ada"})
    changes.create("tasks", {"subject": "Call", "regardingobjectid_contact_task@odata.bind":
                             person.bind})
    changes.update(person, {"lastname": "Lovelace"})
    changes.associate(odata.entity_path("accounts", GUID), "contact_customer_accounts", person)
    changes.delete(odata.entity_path("tasks", GUID), if_match='W/"7"')
    return batch


def test_content_ids_and_references() -> None:
    batch = build()
    assert len(batch) == 6
    changes = batch.items[1]
    ids = [op.content_id for op in changes.operations]  # type: ignore[union-attr]
    assert ids == [2, 3, 4, 5, 6]
    assert ContentRef(2).url == "$2" == ContentRef(2).bind


def test_encoded_body_shape() -> None:
    content_type, body = encode(build(), API, tag="mp")
    outer = boundary_of(content_type)
    assert outer is not None and outer.startswith("batch_")
    text = body.decode()
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    assert text.startswith(f"--{outer}\r\n") and text.endswith(f"--{outer}--\r\n")
    lines = text.split("\r\n")
    assert f"GET {API}contacts({GUID})?$select=fullname HTTP/1.1" in lines
    assert f"POST {API}contacts?tag=mp HTTP/1.1" in lines
    assert f"POST {API}tasks?tag=mp HTTP/1.1" in lines
    assert "PATCH $2 HTTP/1.1" in lines
    assert f"POST {API}accounts({GUID})/contact_customer_accounts/$ref?tag=mp HTTP/1.1" in lines
    assert f"DELETE {API}tasks({GUID})?tag=mp HTTP/1.1" in lines
    assert 'If-Match: W/"7"' in lines and "If-Match: *" in lines
    assert [line for line in lines if line.startswith("Content-ID:")] == [
        f"Content-ID: {i}" for i in range(2, 7)
    ]
    changeset_line = next(line for line in lines if "boundary=changeset_" in line)
    inner = changeset_line.split("boundary=")[1]
    assert lines.count(f"--{inner}") == 5 and f"--{inner}--" in lines
    bodies = [json.loads(line) for line in lines if line.startswith("{")]
    assert {"subject": "Call", "regardingobjectid_contact_task@odata.bind": "$2"} in bodies
    assert {"@odata.id": "$2"} in bodies
    assert lines.count("Content-Type: application/json; type=entry") == 4


def test_no_tag_without_one() -> None:
    _, body = encode(build(), API)
    assert b"tag=" not in body


def test_get_is_refused_past_the_cap() -> None:
    batch = BatchRequest()
    changes = batch.changeset()
    for _ in range(MAX_REQUESTS):
        changes.create("contacts", {})
    with pytest.raises(ValueError, match="at most 1000"):
        batch.get("contacts")


RESPONSE = (
    "--batchresponse_AAA\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_BBB\r\n"
    "\r\n"
    "--changesetresponse_BBB\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 1\r\n"
    "\r\n"
    "HTTP/1.1 204 No Content\r\n"
    "OData-Version: 4.0\r\n"
    f"Location: https://org.crm.dynamics.com/api/data/v9.2/contacts({GUID})\r\n"
    f"OData-EntityId: https://org.crm.dynamics.com/api/data/v9.2/contacts({GUID})\r\n"
    "\r\n"
    "\r\n"
    "--changesetresponse_BBB--\r\n"
    "--batchresponse_AAA\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json; odata.metadata=minimal; odata.streaming=true\r\n"
    "OData-Version: 4.0\r\n"
    "\r\n"
    '{"@odata.etag":"W/\\"5\\"","fullname":"Ada"}\r\n'
    "--batchresponse_AAA\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 400 Bad Request\r\n"
    "REQ_ID: 5f6a7b8c-0000-4000-8000-000000000001\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n"
    "\r\n"
    '{"error":{"code":"0x80044331","message":"A validation error occurred."}}\r\n'
    "--batchresponse_AAA--\r\n"
)


def test_parse_response_flattens_changesets() -> None:
    results = parse_response('multipart/mixed; boundary="batchresponse_AAA"', RESPONSE.encode())

    assert [(r.index, r.status, r.changeset) for r in results] == [
        (0, 204, 0), (1, 200, None), (2, 400, None),
    ]
    created, read, failed = results
    assert created.content_id == "1" and created.entity_id == GUID and created.ok
    assert created.json() is None
    assert read.json() == {"@odata.etag": 'W/"5"', "fullname": "Ada"} and read.reason == "OK"
    assert not failed.ok
    assert failed.headers["req_id"] == "5f6a7b8c-0000-4000-8000-000000000001"
    assert failed.json()["error"]["code"] == "0x80044331"


def test_parse_response_tolerates_bare_line_feeds() -> None:
    results = parse_response(
        "multipart/mixed; boundary=batchresponse_AAA", RESPONSE.replace("\r\n", "\n").encode()
    )
    assert [r.status for r in results] == [204, 200, 400]
    assert results[0].entity_id == GUID


def test_parse_response_rejects_non_multipart_and_bad_parts() -> None:
    with pytest.raises(ValueError, match="not a multipart"):
        parse_response("application/json", b"{}")
    broken = b"--b\r\nContent-Type: application/http\r\n\r\nnot a status line\r\n--b--\r\n"
    with pytest.raises(ValueError, match="no HTTP status line"):
        parse_response("multipart/mixed; boundary=b", broken)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("multipart/mixed; boundary=batch_1", "batch_1"),
        ('multipart/mixed; boundary="batch_1"', "batch_1"),
        ("Multipart/Mixed; charset=utf-8; BOUNDARY=x", "x"),
        ("application/json", None),
        ("multipart/mixed", None),
    ],
)
def test_boundary_of(header: str, expected: str | None) -> None:
    assert boundary_of(header) == expected

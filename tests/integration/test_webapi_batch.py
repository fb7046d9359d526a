"""``$batch`` over real HTTP: change sets, Content-ID references, errors and limits."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import requests

from sandbox.store import ChangeEvent, Lookup
from sandbox.webapi.multipart import boundary_of, split_parts

if TYPE_CHECKING:
    from conftest import WebApiSession

API = "/api/data/v9.2/"


@dataclass
class Part:
    """One response part of a batch answer."""

    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str | None

    def json(self) -> Any:
        return json.loads(self.body)


def request_part(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    content_id: str | None = None,
    headers: tuple[str, ...] = (),
) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {url} HTTP/1.1", *headers]
    if body is not None:
        lines.append("Content-Type: application/json; type=entry")
    lines += ["", json.dumps(body) if body is not None else ""]
    return "\r\n".join(lines)


def change_set(*parts: str, boundary: str = "changeset_1") -> str:
    inner = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--"
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{inner}"


def post_batch(
    dv: WebApiSession, *parts: str, prefer: str | None = None, url: str = "$batch"
) -> requests.Response:
    body = "".join(f"--batch_1\r\n{p}\r\n" for p in parts) + "--batch_1--\r\n"
    headers = {"Content-Type": 'multipart/mixed; boundary="batch_1"'}
    if prefer:
        headers["Prefer"] = prefer
    return dv.post(url, data=body.encode(), headers=headers)


def parse(response: requests.Response) -> list[Part | list[Part]]:
    """The response parts; a change set is a list of parts."""
    boundary = boundary_of(response.headers["Content-Type"])
    assert boundary and boundary.startswith("batchresponse_")
    assert b"\r\n" in response.content and b"\n" not in response.content.replace(b"\r\n", b"")
    items: list[Part | list[Part]] = []
    for part in split_parts(response.content, boundary):
        inner = boundary_of(part.headers.get("content-type"))
        if inner is None:
            items.append(_http(part.content, part.headers.get("content-id")))
        else:
            assert inner.startswith("changesetresponse_")
            items.append(
                [
                    _http(p.content, p.headers.get("content-id"))
                    for p in split_parts(part.content, inner)
                ]
            )
    return items


def _http(content: bytes, content_id: str | None) -> Part:
    head, _, body = content.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    match = re.match(r"HTTP/1\.1 (\d{3}) \S", status_line)
    assert match, status_line
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Part(int(match.group(1)), headers, body, content_id)


def contacts(dv: WebApiSession) -> list[dict[str, Any]]:
    return [r.values for r in dv.sandbox.store.rows("contact")]


def names(dv: WebApiSession) -> set[str | None]:
    return {r.get("firstname") for r in contacts(dv)}


# ------------------------------------------------------------------ success paths


def test_plain_batch_runs_every_request_in_order(dv: WebApiSession) -> None:
    response = post_batch(
        dv,
        request_part("POST", f"{API}contacts", {"firstname": "Ada"}),
        request_part("POST", f"{dv.sandbox.base_url}{API}contacts", {"firstname": "Bo"}),
        request_part("POST", "contacts", {"firstname": "Cy"}),
        request_part("GET", f"{API}contacts?$select=firstname"),
    )

    assert response.status_code == 200
    assert response.headers["OData-Version"] == "4.0"
    first, second, third, read = parse(response)
    for part in (first, second, third):
        assert isinstance(part, Part)
        assert part.status == 204
        assert part.headers["odata-entityid"].startswith(f"{dv.sandbox.base_url}{API}contacts(")
        assert part.headers["location"] == part.headers["odata-entityid"]
    assert isinstance(read, Part)
    assert read.status == 200
    assert "odata.streaming=true" in read.headers["content-type"]
    assert {"Ada", "Bo", "Cy"} <= {r.get("firstname") for r in read.json()["value"]}


def test_batch_counts_as_one_request(dv: WebApiSession) -> None:
    dv.sandbox.request_log.clear()

    post_batch(dv, *(request_part("POST", "contacts", {"firstname": f"n{i}"}) for i in range(5)))

    assert dv.sandbox.request_log.count(prefix=API) == 1


def test_change_set_with_content_id_references_in_url_and_body(dv: WebApiSession) -> None:
    response = post_batch(
        dv,
        change_set(
            request_part("POST", f"{API}contacts", {"firstname": "Ada"}, content_id="1"),
            request_part(
                "POST",
                f"{API}mp_registrations",
                {"mp_name": "r", "mp_PersonId@odata.bind": "$1"},
                "2",
            ),
            request_part("PATCH", "$1", {"mp_nationalid": "19900101-1234"}, content_id="3"),
            request_part("PUT", "$1/lastname", {"value": "Lovelace"}, content_id="4"),
            request_part("POST", f"{API}tasks", {"subject": "call"}, content_id="5"),
            request_part("PUT", "$5/regardingobjectid_contact_task/$ref", {"@odata.id": "$1"}, "6"),
        ),
    )

    assert response.status_code == 200, response.text
    (parts,) = parse(response)
    assert isinstance(parts, list)
    assert [p.content_id for p in parts] == ["1", "2", "3", "4", "5", "6"]
    assert all(p.status == 204 for p in parts)
    contact_url = parts[0].headers["odata-entityid"]
    contact_id = contact_url.rsplit("(", 1)[1].rstrip(")")
    assert parts[2].headers["odata-entityid"] == contact_url
    contact = dv.sandbox.store.get("contact", contact_id)
    assert contact is not None
    assert contact.values["fullname"] == "Ada Lovelace"
    assert contact.values["mp_nationalid"] == "19900101-1234"
    registration_id = parts[1].headers["odata-entityid"].rsplit("(", 1)[1].rstrip(")")
    registration = dv.sandbox.store.get("mp_registration", registration_id)
    assert registration is not None
    assert registration.values["mp_personid"] == Lookup("contact", contact_id)
    task_id = parts[4].headers["odata-entityid"].rsplit("(", 1)[1].rstrip(")")
    task = dv.sandbox.store.get("task", task_id)
    assert task is not None
    assert task.values["regardingobjectid"] == Lookup("contact", contact_id)


def test_content_id_of_a_created_representation_can_be_referenced(dv: WebApiSession) -> None:
    response = post_batch(
        dv,
        change_set(
            request_part(
                "POST", "contacts", {"firstname": "Ada"}, "1", ("Prefer: return=representation",)
            ),
            request_part("PATCH", "$1", {"lastname": "L"}, "2"),
        ),
    )

    (parts,) = parse(response)
    assert isinstance(parts, list)
    assert [p.status for p in parts] == [201, 204]
    contact_id = parts[0].json()["contactid"]
    assert parts[1].headers["odata-entityid"].endswith(f"contacts({contact_id})")


def test_lf_only_request_bodies_are_accepted(dv: WebApiSession) -> None:
    body = (
        "--batch_1\n"
        "Content-Type: application/http\n"
        "Content-Transfer-Encoding: binary\n"
        "\n"
        "POST /api/data/v9.2/contacts HTTP/1.1\n"
        "Content-Type: application/json\n"
        "\n"
        '{"firstname": "Ada"}\n'
        "--batch_1--\n"
    )

    response = dv.post(
        "$batch", data=body.encode(), headers={"Content-Type": "multipart/mixed;boundary=batch_1"}
    )

    assert response.status_code == 200
    (part,) = parse(response)
    assert isinstance(part, Part) and part.status == 204
    assert "Ada" in names(dv)


def test_part_tag_overrides_the_batch_tag(dv: WebApiSession) -> None:
    events: list[ChangeEvent] = []

    class Recorder:
        def before_commit(self, batch: list[ChangeEvent]) -> None:
            return None

        def after_commit(self, batch: list[ChangeEvent]) -> None:
            events.extend(batch)

    dv.sandbox.store.listeners.append(Recorder())

    response = post_batch(
        dv,
        request_part("POST", "contacts?tag=inner", {"firstname": "Ada"}),
        request_part("POST", "contacts", {"firstname": "Bo"}),
        change_set(
            request_part("POST", "contacts?tag=set-inner", {"firstname": "Cy"}, "1"),
            request_part("POST", "contacts", {"firstname": "Di"}, "2"),
        ),
        url="$batch?tag=outer",
    )

    assert response.status_code == 200
    tags = {e.target.get("firstname"): e.caller.tag for e in events}
    assert tags == {"Ada": "inner", "Bo": "outer", "Cy": "set-inner", "Di": "outer"}


# --------------------------------------------------------------------- failures


def test_failing_change_set_rolls_everything_back(dv: WebApiSession) -> None:
    before = contacts(dv)

    response = post_batch(
        dv,
        change_set(
            request_part("POST", "contacts", {"firstname": "Ada"}, "1"),
            request_part("PATCH", "$1", {"lastname": "Lovelace"}, "2"),
            request_part("POST", "tasks", {"subject": "x" * 201}, "3"),
        ),
    )

    assert response.status_code == 400
    (part,) = parse(response)
    assert isinstance(part, Part)
    assert part.status == 400
    assert part.content_id == "3"
    assert part.headers["req_id"]
    assert part.json()["error"]["code"] == "0x80044331"
    assert contacts(dv) == before


def test_stop_at_first_error_without_continue_on_error(dv: WebApiSession) -> None:
    response = post_batch(
        dv,
        request_part("POST", "contacts", {"firstname": "Ada"}),
        request_part(
            "PATCH", "contacts(4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d05)", {}, headers=("If-Match: *",)
        ),
        request_part("POST", "contacts", {"firstname": "Bo"}),
    )

    assert response.status_code == 404
    first, failed = parse(response)
    assert isinstance(first, Part) and first.status == 204
    assert isinstance(failed, Part) and failed.status == 404
    assert failed.json()["error"]["code"] == "0x80040217"
    assert "Ada" in names(dv)
    assert "Bo" not in names(dv)


def test_continue_on_error_runs_every_request(dv: WebApiSession) -> None:
    response = post_batch(
        dv,
        request_part("POST", "tasks", {"subject": "x" * 201}),
        change_set(
            request_part("POST", "contacts", {"firstname": "Ada"}, "1"),
            request_part("POST", "contacts", {"FirstName": "typo"}, "2"),
        ),
        request_part("POST", "contacts", {"firstname": "Bo"}),
        prefer="odata.continue-on-error",
    )

    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "odata.continue-on-error"
    too_long, failed_set, ok = parse(response)
    assert isinstance(too_long, Part) and too_long.status == 400
    assert isinstance(failed_set, Part) and failed_set.status == 400
    assert failed_set.json()["error"]["code"] == "0x0"
    assert isinstance(ok, Part) and ok.status == 204
    assert "Bo" in names(dv)
    assert "Ada" not in names(dv)


def test_reference_before_declaration_fails_the_whole_batch(dv: WebApiSession) -> None:
    before = contacts(dv)

    response = post_batch(
        dv,
        request_part("POST", "contacts", {"firstname": "Bo"}),
        change_set(
            request_part("POST", "mp_registrations", {"mp_PersonId@odata.bind": "$1"}, "2"),
            request_part("POST", "contacts", {"firstname": "Ada"}, "1"),
        ),
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Content-ID Reference: '$1' does not exist in the batch context."
    )
    assert contacts(dv) == before


def test_reference_outside_its_change_set_is_refused(dv: WebApiSession) -> None:
    response = post_batch(
        dv,
        change_set(request_part("POST", "contacts", {"firstname": "Ada"}, "1")),
        request_part("PATCH", "$1", {"lastname": "L"}),
    )

    assert response.status_code == 400
    assert "'$1' does not exist" in response.json()["error"]["message"]


def test_reference_to_a_request_without_an_entity_rolls_back(dv: WebApiSession) -> None:
    contact_id = dv.post("contacts", json={"firstname": "Ada"}).headers["OData-EntityId"]
    before = contacts(dv)

    response = post_batch(
        dv,
        change_set(
            request_part("POST", "contacts", {"firstname": "Bo"}, "1"),
            request_part("PUT", f"{contact_id}/lastname", {"value": "L"}, "2"),
            request_part("PATCH", "$2", {"firstname": "Cy"}, "3"),
        ),
    )

    assert response.status_code == 400
    (part,) = parse(response)
    assert isinstance(part, Part) and part.content_id == "3"
    assert contacts(dv) == before


def test_get_inside_a_change_set_is_refused(dv: WebApiSession) -> None:
    response = post_batch(
        dv,
        change_set(
            request_part("POST", "contacts", {"firstname": "Ada"}, "1"),
            request_part("GET", "contacts", content_id="2"),
        ),
    )

    assert response.status_code == 400
    assert "'GET'" in response.json()["error"]["message"]
    assert "Ada" not in names(dv)


def test_more_than_1000_requests_are_refused(dv: WebApiSession) -> None:
    parts = [request_part("POST", "contacts", {"firstname": "n"}) for _ in range(1000)]
    over = change_set(*parts[:500]), *parts[500:], request_part("POST", "contacts", {})

    response = post_batch(dv, *over)

    assert response.status_code == 400
    assert "'1000'" in response.json()["error"]["message"]
    assert "n" not in names(dv)


def test_exactly_1000_requests_run_in_one_change_set(dv: WebApiSession) -> None:
    before = len(contacts(dv))
    parts = [
        request_part("POST", "contacts", {"firstname": f"n{i}"}, str(i + 1)) for i in range(1000)
    ]

    response = post_batch(dv, change_set(*parts))

    assert response.status_code == 200
    (answers,) = parse(response)
    assert isinstance(answers, list) and len(answers) == 1000
    assert len(contacts(dv)) == before + 1000


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"requests": []}'),
        ("multipart/mixed", "--batch_1--"),
        (
            "multipart/mixed; boundary=batch_1",
            "--batch_1\r\nContent-Type: application/http\r\n\r\n",
        ),
        (
            "multipart/mixed; boundary=batch_1",
            "--batch_1\r\nContent-Type: application/http\r\n\r\nnot a request line\r\n--batch_1--",
        ),
        (
            "multipart/mixed; boundary=batch_1",
            "--batch_1\r\nContent-Type: text/plain\r\n\r\nPOST contacts HTTP/1.1\r\n--batch_1--",
        ),
        (
            "multipart/mixed; boundary=batch_1",
            "--batch_1\r\n"
            + change_set(change_set(request_part("POST", "contacts", {}), boundary="cs_2"))
            + "\r\n--batch_1--",
        ),
        ("multipart/mixed; boundary=batch_1", ""),
        (
            "multipart/mixed; boundary=batch_1",
            "--batch_1\r\n" + request_part("POST", f"{API}$batch") + "\r\n--batch_1--",
        ),
    ],
)
def test_malformed_batches_are_400_never_500(
    dv: WebApiSession, content_type: str, body: str
) -> None:
    response = dv.post("$batch", data=body.encode(), headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_unknown_resource_inside_a_batch_is_that_parts_404(dv: WebApiSession) -> None:
    response = post_batch(
        dv, request_part("POST", "nosuchset", {"x": 1}), prefer="odata.continue-on-error"
    )

    (part,) = parse(response)
    assert isinstance(part, Part)
    assert part.status == 404
    assert part.json()["error"]["code"] == "0x8006088a"

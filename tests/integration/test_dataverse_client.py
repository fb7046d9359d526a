"""The Dataverse client against the sandbox over real HTTPS, authenticated through msal."""

from __future__ import annotations

import datetime
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from client_certificate import Certificate, new_certificate
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugins.core.events import parse_webhook
from plugins.core.schema import product_schema
from plugins.core.settings import DataverseSettings
from plugins.dataverse import odata
from plugins.dataverse.auth import MsalTokenProvider, token_provider_for
from plugins.dataverse.batch import BatchRequest
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import (
    AuthenticationError,
    BatchError,
    DuplicateRecordError,
    NotFoundError,
    PreconditionFailedError,
    ThrottledError,
    TransientError,
    TransportError,
    ValidationError,
)
from plugins.dataverse.transport import new_session
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig
from sandbox.product_settings import dataverse_settings

CONTACT = product_schema().table("contact")
TASK = product_schema().table("task")
NATIONAL_ID = "mp_nationalid"


@pytest.fixture(scope="module")
def certificate() -> Certificate:
    return new_certificate()


@dataclass
class Harness:
    """A started sandbox and a way to make clients for it."""

    sandbox: Sandbox
    clients: list[DataverseClient] = field(default_factory=list)

    def settings(self, **overrides: Any) -> DataverseSettings:
        quick: dict[str, Any] = {
            "retry_budget_seconds": 10,
            "max_attempts": 8,
            "retry_backoff_seconds": 0.02,
        }
        return dataverse_settings(self.sandbox, **{**quick, **overrides})

    def client(self, session: requests.Session | None = None, **overrides: Any) -> DataverseClient:
        settings = self.settings(**overrides)
        client = DataverseClient(
            settings, token_provider=MsalTokenProvider(settings), session=session
        )
        self.clients.append(client)
        return client


def _start(tmp_path: Path, **config: Any) -> Sandbox:
    return Sandbox(SandboxConfig(https=True, state_dir=str(tmp_path), **config)).start()


@pytest.fixture
def harness(tmp_path: Path, certificate: Certificate) -> Iterator[Harness]:
    sandbox = _start(tmp_path, client_certificates=(certificate.cert_pem,))
    harness = Harness(sandbox)
    try:
        yield harness
    finally:
        for client in harness.clients:
            client.close()
        sandbox.stop()


@pytest.fixture
def client(harness: Harness) -> DataverseClient:
    return harness.client()


def _seed_contacts(sandbox: Sandbox, count: int) -> None:
    rows = [
        {"firstname": f"P{i:03d}", "lastname": "Seed", NATIONAL_ID: f"19900101-{i:04d}"}
        for i in range(count)
    ]
    sandbox.load_seed({"rows": {"contact": rows}})


class Recorder:
    """Records every request the client's session sends (method, URL, headers)."""

    def __init__(self) -> None:
        self.sent: list[requests.PreparedRequest] = []

    def hook(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        self.sent.append(response.request)


def _recording_session(harness: Harness) -> tuple[requests.Session, Recorder]:
    recorder = Recorder()
    session = new_session(harness.settings())
    session.hooks["response"].append(recorder.hook)
    return session, recorder


# ------------------------------------------------------------------ authentication


def test_secret_credential_round_trip(client: DataverseClient) -> None:
    created = client.create(CONTACT, {"firstname": "Ada", "lastname": "Lovelace"})
    assert created.id is not None and created.created is True

    row = client.get(CONTACT, created.id, select=["firstname", "lastname"])
    assert row is not None
    assert (row["firstname"], row["lastname"], row["contactid"]) == ("Ada", "Lovelace", created.id)

    client.update(CONTACT, created.id, {"lastname": "King"}, if_match=row["@odata.etag"])
    assert client.get(CONTACT, created.id, select=["lastname"])["lastname"] == "King"

    client.delete(CONTACT, created.id)
    with pytest.raises(NotFoundError) as caught:
        client.get(CONTACT, created.id)
    assert caught.value.code == "0x80040217"


def test_pem_certificate_with_thumbprint(
    harness: Harness, certificate: Certificate, tmp_path: Path
) -> None:
    key_file = tmp_path / "client-key.pem"
    key_file.write_text(certificate.key_pem)
    client = harness.client(
        auth_method="certificate",
        client_secret=None,
        certificate_path=str(key_file),
        certificate_thumbprint=certificate.sha1,
    )
    assert client.create(CONTACT, {"firstname": "Cert"}).id is not None


def test_pem_with_certificate_and_pfx(
    harness: Harness, certificate: Certificate, tmp_path: Path
) -> None:
    combined = tmp_path / "client.pem"
    combined.write_text(certificate.key_pem + certificate.cert_pem)
    pfx = tmp_path / "client.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client", certificate.key, certificate.cert, None,
            serialization.BestAvailableEncryption(b"pfx-password"),
        )
    )
    from_pem = harness.client(
        auth_method="certificate", client_secret=None, certificate_path=str(combined)
    )
    from_pfx = harness.client(
        auth_method="certificate",
        client_secret=None,
        certificate_path=str(pfx),
        certificate_password="pfx-password",
    )
    assert from_pem.create(CONTACT, {"firstname": "Pem"}).id
    assert from_pfx.create(CONTACT, {"firstname": "Pfx"}).id


def test_unregistered_certificate_is_an_authentication_error(
    harness: Harness, tmp_path: Path
) -> None:
    other = new_certificate()
    key_file = tmp_path / "other.pem"
    key_file.write_text(other.key_pem)
    client = harness.client(
        auth_method="certificate",
        client_secret=None,
        certificate_path=str(key_file),
        certificate_thumbprint=other.sha1,
    )
    with pytest.raises(AuthenticationError) as caught:
        client.create(CONTACT, {"firstname": "Nope"})
    assert caught.value.error == "invalid_client"
    assert caught.value.codes == (700027,)


def test_wrong_secret_is_an_authentication_error_with_aadsts_code(harness: Harness) -> None:
    client = harness.client(client_secret="not-the-secret")
    with pytest.raises(AuthenticationError) as caught:
        client.create(CONTACT, {"firstname": "Nope"})
    assert caught.value.error == "invalid_client"
    assert caught.value.codes == (7000215,)
    assert "AADSTS7000215" in caught.value.description
    assert harness.sandbox.request_log.count(prefix="/api/") == 0


def test_unknown_tenant_is_an_authentication_error(harness: Harness) -> None:
    client = harness.client(tenant_id=str(uuid.uuid4()))
    with pytest.raises(AuthenticationError):
        client.create(CONTACT, {"firstname": "Nope"})


def test_token_is_cached_between_requests(harness: Harness) -> None:
    client = harness.client()
    for i in range(3):
        client.create(CONTACT, {"firstname": f"C{i}"})
    token_calls = harness.sandbox.request_log.count("POST", "/" + harness.sandbox.config.tenant_id)
    assert token_calls == 1


def test_token_provider_is_built_once_per_configuration(harness: Harness) -> None:
    settings = harness.settings()
    assert token_provider_for(settings) is token_provider_for(harness.settings())
    assert token_provider_for(settings) is not token_provider_for(
        harness.settings(client_id=str(uuid.uuid4()))
    )


def test_401_refreshes_the_token_once(harness: Harness) -> None:
    client = harness.client()
    created = client.create(CONTACT, {"firstname": "Before"})
    harness.sandbox.auth.rotate_signing_key()
    client.request_counter.reset()

    client.update(CONTACT, created.id, {"firstname": "After"})

    assert client.request_counter.by_method() == {"PATCH": 2}
    assert client.get(CONTACT, created.id, select=["firstname"])["firstname"] == "After"


@dataclass
class IdentityEndpoint:
    """App Service's managed-identity endpoint, handing out sandbox tokens."""

    url: str
    calls: list[dict[str, str]]


@pytest.fixture
def identity_endpoint(harness: Harness) -> Iterator[IdentityEndpoint]:
    calls: list[dict[str, str]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        calls.append({**request.args, "header": request.headers.get("X-IDENTITY-HEADER", "")})
        body = {
            "access_token": harness.sandbox.auth.issue_token(),
            "expires_on": str(int(time.time()) + 3600),
            "resource": request.args.get("resource"),
            "token_type": "Bearer",
        }
        return Response(json.dumps(body), content_type="application/json")(
            environ, start_response
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield IdentityEndpoint(f"http://127.0.0.1:{server.server_port}/msi/token", calls)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_managed_identity_through_msal(
    harness: Harness, identity_endpoint: IdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", identity_endpoint.url)
    monkeypatch.setenv("IDENTITY_HEADER", "identity-secret")
    client = harness.client(
        auth_method="managed_identity",
        client_secret=None,
        tenant_id="",
        client_id="",
        managed_identity_client_id="11111111-2222-4333-8444-555555555555",
    )
    client.create(CONTACT, {"firstname": "Managed"})
    client.create(CONTACT, {"firstname": "Identity"})

    assert len(identity_endpoint.calls) == 1  # cached by msal
    call = identity_endpoint.calls[0]
    assert call["resource"] == harness.sandbox.base_url
    assert call["client_id"] == "11111111-2222-4333-8444-555555555555"
    assert call["header"] == "identity-secret"


# --------------------------------------------------------------------- chokepoint


def test_headers_on_every_request(harness: Harness) -> None:
    session, recorder = _recording_session(harness)
    client = harness.client(session=session, user_agent_suffix="(tests)", write_tag="mp-test")

    created = client.create(CONTACT, {"firstname": "Hdr"})
    client.get(CONTACT, created.id)
    with client.correlation("b374239d-4233-41a9-8b17-a86cb4f737b5"):
        client.update(CONTACT, created.id, {"firstname": "Hdr2"})
        client.get(CONTACT, created.id)

    post, get, patch, get2 = recorder.sent
    for sent in recorder.sent:
        headers = sent.headers
        assert headers["Accept"] == "application/json"
        assert headers["OData-MaxVersion"] == "4.0" and headers["OData-Version"] == "4.0"
        assert headers["Authorization"].startswith("Bearer ")
        assert headers["User-Agent"].startswith("member-plugins/")
        assert headers["User-Agent"].endswith(" (tests)")
        uuid.UUID(headers["x-ms-client-request-id"])
    assert len({s.headers["x-ms-client-request-id"] for s in recorder.sent}) == 4
    assert post.headers["Content-Type"] == "application/json"
    assert "If-None-Match" not in post.headers
    assert get.headers["If-None-Match"] == "null" and "Content-Type" not in get.headers
    assert patch.headers["If-Match"] == "*"
    assert post.url.endswith("/contacts?tag=mp-test") and "tag=mp-test" in patch.url
    assert "tag=" not in get.url
    assert post.headers["x-ms-correlation-request-id"] != get.headers[
        "x-ms-correlation-request-id"
    ]
    for sent in (patch, get2):
        assert sent.headers["x-ms-correlation-request-id"] == (
            "b374239d-4233-41a9-8b17-a86cb4f737b5"
        )


def test_request_counter_by_method(client: DataverseClient) -> None:
    created = client.create(CONTACT, {"firstname": "Count"})
    client.get(CONTACT, created.id)
    client.get(CONTACT, created.id)
    client.delete(CONTACT, created.id)
    assert client.request_counter.by_method() == {"POST": 1, "GET": 2, "DELETE": 1}
    assert client.request_counter.total == 4


def test_validation_error_from_envelope(client: DataverseClient) -> None:
    with pytest.raises(ValidationError) as caught:
        client.create(CONTACT, {"nosuchcolumn": 1})
    assert caught.value.status == 400 and caught.value.message


def test_unknown_table_is_not_found(client: DataverseClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.create("nosuchtables", {"name": "x"})
    assert caught.value.code == "0x8006088a"


# --------------------------------------------------------------- conditional writes


def test_stale_etag_is_precondition_failed(client: DataverseClient) -> None:
    created = client.create(CONTACT, {"firstname": "V1"}, return_representation=True)
    stale = created.etag
    assert stale and created.record is not None and created.id is not None
    client.update(CONTACT, created.id, {"firstname": "V2"}, if_match=stale)

    with pytest.raises(PreconditionFailedError) as caught:
        client.update(CONTACT, created.id, {"firstname": "V3"}, if_match=stale)
    assert caught.value.status == 412
    assert not isinstance(caught.value, DuplicateRecordError)
    with pytest.raises(PreconditionFailedError):
        client.delete(CONTACT, created.id, if_match=stale)


def test_update_of_missing_row_is_not_found(client: DataverseClient) -> None:
    with pytest.raises(NotFoundError):
        client.update(CONTACT, str(uuid.uuid4()), {"firstname": "Ghost"})


def test_update_with_representation(client: DataverseClient) -> None:
    created = client.create(CONTACT, {"firstname": "Rep"})
    result = client.update(
        CONTACT, created.id, {"lastname": "Resent"}, return_representation=True,
        select=["lastname"],
    )
    assert result.created is False and result.record["lastname"] == "Resent"
    assert result.id == created.id and result.etag


def test_alternate_key_upsert_create_then_update(client: DataverseClient) -> None:
    key = {NATIONAL_ID: "19850505-1234"}
    first = client.upsert(CONTACT, key, {"firstname": "Key"}, return_representation=True)
    second = client.upsert(CONTACT, key, {"lastname": "Holder"}, return_representation=True)

    assert (first.created, second.created) == (True, False)
    assert first.id == second.id and first.id is not None
    assert first.etag != second.etag
    row = client.get(CONTACT, key, select=["firstname", "lastname", NATIONAL_ID])
    assert (row["firstname"], row["lastname"], row[NATIONAL_ID]) == (
        "Key", "Holder", "19850505-1234",
    )


def test_upsert_modes(client: DataverseClient) -> None:
    key = {NATIONAL_ID: "19700101-0001"}
    with pytest.raises(NotFoundError):
        client.upsert(CONTACT, key, {"firstname": "Nobody"}, mode=UpsertMode.UPDATE_ONLY)
    made = client.upsert(CONTACT, key, {"firstname": "Once"}, mode=UpsertMode.CREATE_ONLY)
    assert made.created is True
    with pytest.raises(DuplicateRecordError) as caught:
        client.upsert(CONTACT, key, {"firstname": "Twice"}, mode=UpsertMode.CREATE_ONLY)
    assert caught.value.status == 412
    updated = client.upsert(CONTACT, key, {"firstname": "Again"}, mode=UpsertMode.UPDATE_ONLY)
    assert updated.created is False
    plain = client.upsert(CONTACT, key, {"lastname": "Either"})
    assert plain.created is None
    assert client.get(CONTACT, key, select=["firstname"])["firstname"] == "Again"


def test_key_values_with_quotes_and_specials(client: DataverseClient) -> None:
    key = {NATIONAL_ID: "O'Brien & #1/2?"}
    client.upsert(CONTACT, key, {"firstname": "Odd"})
    assert client.get(CONTACT, key, select=["firstname"])["firstname"] == "Odd"


def test_conditional_get(client: DataverseClient) -> None:
    created = client.create(CONTACT, {"firstname": "Cond"}, return_representation=True)
    assert client.get(CONTACT, created.id, if_none_match=created.etag) is None
    client.update(CONTACT, created.id, {"firstname": "Changed"})
    row = client.get(CONTACT, created.id, if_none_match=created.etag)
    assert row is not None and row["firstname"] == "Changed"


def test_associate_and_disassociate(client: DataverseClient) -> None:
    person = client.create(CONTACT, {"firstname": "Assoc"}).id
    task = client.create(TASK, {"subject": "Call"}).id
    assert person and task

    client.associate(CONTACT, person, "Contact_Tasks", TASK, task)
    assert client.get(TASK, task)["_regardingobjectid_value"] == person

    client.disassociate(CONTACT, person, "Contact_Tasks", task)
    assert client.get(TASK, task)["_regardingobjectid_value"] is None


def test_bind_on_create(client: DataverseClient) -> None:
    person = client.create(CONTACT, {"firstname": "Bound"}).id
    task = client.create(
        TASK,
        {"subject": "Follow up", "regardingobjectid_contact_task@odata.bind": odata.bind(
            "contacts", person)},
    ).id
    assert client.get(TASK, task)["_regardingobjectid_value"] == person

    expanded = client.get(
        TASK, task, select=["subject"],
        expand=[odata.Expand("regardingobjectid_contact_task", select=["firstname"])],
    )
    assert expanded["regardingobjectid_contact_task"]["firstname"] == "Bound"
    [listed] = client.query(
        CONTACT, select=["firstname"], filter=odata.eq("contactid", uuid.UUID(person)),
        expand=[odata.Expand("Contact_Tasks", select=["subject"])],
    )
    assert [t["subject"] for t in listed["Contact_Tasks"]] == ["Follow up"]


# ---------------------------------------------------------------------- $batch


def test_changeset_with_content_id_references(client: DataverseClient) -> None:
    batch = BatchRequest()
    changes = batch.changeset()
    person = changes.create("contacts", {"firstname": "Batch"})
    changes.create("tasks", {"subject": "Welcome", "regardingobjectid_contact_task@odata.bind":
                             person.bind})
    changes.update(person, {"lastname": "Person"})

    results = client.execute_batch(batch)

    assert [r.status for r in results] == [204, 204, 204]
    assert [r.content_id for r in results] == ["1", "2", "3"]
    person_id = results[0].entity_id
    assert person_id is not None
    assert client.get(CONTACT, person_id, select=["lastname"])["lastname"] == "Person"
    assert client.get(TASK, results[1].entity_id)["_regardingobjectid_value"] == person_id
    assert client.request_counter.by_method()["POST"] == 1



def test_batch_carries_the_tag(harness: Harness) -> None:
    session, recorder = _recording_session(harness)
    client = harness.client(session=session, write_tag="mp-batch")
    batch = BatchRequest()
    batch.changeset().create("contacts", {"firstname": "Tagged"})

    [result] = client.execute_batch(batch)

    assert result.status == 204 and result.entity_id
    [sent] = recorder.sent
    assert sent.url.endswith("/$batch?tag=mp-batch")
    assert b"contacts?tag=mp-batch HTTP/1.1" in sent.body
    assert sent.headers["Content-Type"].startswith("multipart/mixed; boundary=batch_")

def test_changeset_failure_rolls_back_and_names_the_part(client: DataverseClient) -> None:
    batch = BatchRequest()
    changes = batch.changeset()
    changes.create("contacts", {"firstname": "Rolled", NATIONAL_ID: "19990909-9999"})
    changes.update(odata.entity_path("contacts", str(uuid.uuid4())), {"firstname": "Missing"})

    with pytest.raises(BatchError) as caught:
        client.execute_batch(batch)

    assert isinstance(caught.value.error, NotFoundError)
    assert caught.value.part.content_id == "2"
    with pytest.raises(NotFoundError):
        client.get(CONTACT, {NATIONAL_ID: "19990909-9999"})


def test_batch_reads_and_continue_on_error(client: DataverseClient) -> None:
    person = client.create(CONTACT, {"firstname": "Read"}).id
    batch = BatchRequest()
    batch.get(odata.entity_path("contacts", person), select=["firstname"])
    batch.get(odata.entity_path("contacts", str(uuid.uuid4())))
    batch.changeset().create("contacts", {"firstname": "After failure"})

    results = client.execute_batch(batch, continue_on_error=True)

    assert [r.status for r in results] == [200, 404, 204]
    assert results[0].json()["firstname"] == "Read"
    assert not results[1].ok and results[1].json()["error"]["code"] == "0x80040217"


# ------------------------------------------------------------------ bulk actions


def test_create_multiple_in_chunks(harness: Harness) -> None:
    client = harness.client(bulk_chunk_size=1000, bulk_parallelism=2)
    harness.sandbox.request_log.clear()
    records = [{"firstname": f"Bulk{i}", NATIONAL_ID: f"2000-{i:05d}"} for i in range(2500)]

    ids = client.create_multiple(CONTACT, records)

    assert len(ids) == 2500 and len(set(ids)) == 2500
    assert client.request_counter.by_method() == {"POST": 3}
    action = "/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.CreateMultiple"
    assert harness.sandbox.request_log.count("POST", action) == 3
    last = client.get(CONTACT, ids[-1], select=["firstname"])
    assert last["firstname"] == "Bulk2499"


def test_update_and_upsert_multiple(client: DataverseClient) -> None:
    ids = client.create_multiple(CONTACT, [{"firstname": f"U{i}"} for i in range(5)])
    client.update_multiple(
        CONTACT, [{"contactid": i, "lastname": "Updated"} for i in ids], chunk_size=2
    )
    assert client.request_counter.by_method()["POST"] == 1 + 3
    assert {client.get(CONTACT, i, select=["lastname"])["lastname"] for i in ids} == {"Updated"}

    client.upsert(CONTACT, {NATIONAL_ID: "19600101-0000"}, {"firstname": "Existing"})
    keys = [f"19600101-{i:04d}" for i in range(3)]
    items = [({NATIONAL_ID: k}, {"lastname": f"Up{i}", NATIONAL_ID: k}) for i, k in enumerate(keys)]
    client.upsert_multiple(CONTACT, items)
    existing = client.get(CONTACT, {NATIONAL_ID: "19600101-0000"}, select=["firstname", "lastname"])
    assert (existing["firstname"], existing["lastname"]) == ("Existing", "Up0")
    assert client.get(CONTACT, {NATIONAL_ID: "19600101-0002"}, select=["lastname"])[
        "lastname"
    ] == "Up2"


def test_bulk_failure_names_the_chunk(client: DataverseClient) -> None:
    records = [{"firstname": "ok"}] * 3 + [{"nosuchcolumn": 1}]
    with pytest.raises(ValidationError) as caught:
        client.create_multiple(CONTACT, records, chunk_size=2)
    assert any("bulk chunk 2 of 2 (rows 3-4)" in note for note in caught.value.__notes__)


def test_upsert_multiple_refuses_a_record_contradicting_its_key(client: DataverseClient) -> None:
    with pytest.raises(ValueError):
        client.upsert_multiple(CONTACT, [({NATIONAL_ID: "1"}, {NATIONAL_ID: "2"})])
    assert client.request_counter.total == 0


# --------------------------------------------------------------------- queries


def test_paging_across_pages_is_lazy(harness: Harness) -> None:
    _seed_contacts(harness.sandbox, 25)
    session, recorder = _recording_session(harness)
    client = harness.client(session=session)

    rows = client.query(
        CONTACT, select=["firstname"], filter=odata.eq("lastname", "Seed"),
        orderby=[odata.asc("firstname")], page_size=10,
    )
    assert recorder.sent == []
    first = [next(rows) for _ in range(10)]
    assert len(recorder.sent) == 1
    rest = list(rows)

    assert [r["firstname"] for r in first + rest] == [f"P{i:03d}" for i in range(25)]
    assert len(recorder.sent) == 3
    assert all(s.headers["Prefer"] == "odata.maxpagesize=10" for s in recorder.sent)
    assert "$skiptoken" in recorder.sent[1].url
    assert len({s.headers["x-ms-correlation-request-id"] for s in recorder.sent}) == 1


def test_query_with_top_and_filters(harness: Harness, client: DataverseClient) -> None:
    _seed_contacts(harness.sandbox, 12)
    rows = list(
        client.query(
            CONTACT, select=["firstname"],
            filter=odata.in_("firstname", ["P001", "P005", "P009"]) & odata.eq("lastname", "Seed"),
            orderby=[odata.desc("firstname")],
        )
    )
    assert [r["firstname"] for r in rows] == ["P009", "P005", "P001"]
    top = list(client.query(CONTACT, select=["firstname"], orderby=[odata.asc("firstname")],
                            top=4))
    assert [r["firstname"] for r in top] == ["P000", "P001", "P002", "P003"]


def test_filter_literal_with_quote(client: DataverseClient) -> None:
    client.create(CONTACT, {"firstname": "Conan", "lastname": "O'Bryan"})
    rows = list(client.query(CONTACT, select=["lastname"], filter=odata.eq("lastname", "O'Bryan")))
    assert [r["lastname"] for r in rows] == ["O'Bryan"]


# ---------------------------------------------------------- throttling and faults


def test_429_recovered_after_retry_after(tmp_path: Path) -> None:
    sandbox = _start(tmp_path, limits=Limits(requests=2, window_seconds=1))
    harness = Harness(sandbox)
    try:
        client = harness.client(retry_budget_seconds=10)
        started = time.monotonic()
        for i in range(3):
            client.create(CONTACT, {"firstname": f"T{i}"})
        assert time.monotonic() - started >= 0.9
        assert client.request_counter.by_method()["POST"] >= 4
        assert sandbox.protection.counters().throttled.get("0x80072322", 0) >= 1
    finally:
        for made in harness.clients:
            made.close()
        sandbox.stop()


def test_429_past_the_budget_is_throttled(tmp_path: Path) -> None:
    sandbox = _start(tmp_path, limits=Limits(requests=1, window_seconds=30))
    harness = Harness(sandbox)
    try:
        client = harness.client(retry_budget_seconds=0.5)
        client.create(CONTACT, {"firstname": "First"})
        started = time.monotonic()
        with pytest.raises(ThrottledError) as caught:
            client.create(CONTACT, {"firstname": "Second"})
        assert time.monotonic() - started < 0.5
        assert caught.value.status == 429 and caught.value.code == "0x80072322"
        assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    finally:
        for made in harness.clients:
            made.close()
        sandbox.stop()


@pytest.mark.parametrize("kind", ["503", "drop"])
def test_transient_faults_are_retried(tmp_path: Path, kind: str) -> None:
    sandbox = _start(tmp_path, fault_rate=0.5, fault_kinds=(kind,), fault_seed=7)
    harness = Harness(sandbox)
    try:
        client = harness.client(max_attempts=12)
        ids = [client.create(CONTACT, {"firstname": f"F{i}"}).id for i in range(8)]
        assert all(ids)
        injected = sandbox.protection.counters().faults.get(kind, 0)
        assert injected >= 1
        assert client.request_counter.by_method()["POST"] == 8 + injected
        sandbox.protection.configure(fault_rate=0.0)
        assert len(list(client.query(CONTACT, select=["firstname"]))) == 8
    finally:
        for made in harness.clients:
            made.close()
        sandbox.stop()


def test_persistent_503_becomes_transient_error(harness: Harness) -> None:
    client = harness.client(max_attempts=3)
    harness.sandbox.protection.configure(fault_rate=1.0, fault_kinds=["503"])
    with pytest.raises(TransientError) as caught:
        client.create(CONTACT, {"firstname": "Down"})
    assert caught.value.status == 503
    assert client.request_counter.by_method() == {"POST": 3}


def test_persistent_drops_become_transport_error(harness: Harness) -> None:
    client = harness.client(max_attempts=3)
    harness.sandbox.protection.configure(fault_rate=1.0, fault_kinds=["drop"])
    with pytest.raises(TransportError):
        client.create(CONTACT, {"firstname": "Gone"})
    assert client.request_counter.by_method() == {"POST": 3}


def test_timeouts_are_retried_then_reported(harness: Harness) -> None:
    client = harness.client(request_timeout_seconds=0.2, max_attempts=2)
    client.create(CONTACT, {"firstname": "Warm"})  # token fetched before the slowdown
    harness.sandbox.protection.configure(latency_ms=600)
    with pytest.raises(TransportError) as caught:
        client.create(CONTACT, {"firstname": "Slow"})
    assert "timed out" in str(caught.value).lower()
    harness.sandbox.protection.configure(latency_ms=0)



# ------------------------------------------------------- round trip through a webhook


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[Delivery]]]:
    deliveries: list[Delivery] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        deliveries.append(Delivery(request.get_data(), dict(request.headers.items())))
        return Response(status=204)(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/dataverse-events", deliveries
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _register_sync_step(client: DataverseClient, url: str, message: str, table: str) -> None:
    """Register a webhook and a synchronous PostOperation step, through the client."""
    endpoint = client.create(
        "serviceendpoints",
        {"name": "events", "url": url, "contract": 8, "authtype": 4, "authvalue": "key"},
    ).id
    [sdk_message] = client.query(
        "sdkmessages", select=["sdkmessageid"], filter=odata.eq("name", message)
    )
    [message_filter] = client.query(
        "sdkmessagefilters",
        select=["sdkmessagefilterid"],
        filter=odata.eq("primaryobjecttypecode", table) & odata.eq("sdkmessageid/name", message),
    )
    client.create(
        "sdkmessageprocessingsteps",
        {
            "name": f"{message} of {table}",
            "stage": 40,
            "mode": 0,
            "rank": 1,
            "supporteddeployment": 0,
            "eventhandler_serviceendpoint@odata.bind": odata.bind("serviceendpoints", endpoint),
            "sdkmessageid@odata.bind": odata.bind("sdkmessages", sdk_message["sdkmessageid"]),
            "sdkmessagefilterid@odata.bind": odata.bind(
                "sdkmessagefilters", message_filter["sdkmessagefilterid"]
            ),
        },
    )


def test_tagged_write_comes_back_as_a_parsed_event(
    harness: Harness, webhook_receiver: tuple[str, list[Delivery]]
) -> None:
    url, deliveries = webhook_receiver
    client = harness.client(write_tag="member-plugins")
    _register_sync_step(client, url, "Create", "contact")
    correlation = str(uuid.uuid4())

    with client.correlation(correlation):
        created = client.upsert(
            CONTACT, {NATIONAL_ID: "19121212-1212"},
            {"firstname": "Round", "lastname": "Trip", "birthdate": "1912-12-12"},
        )

    [delivery] = deliveries
    event = parse_webhook(delivery.body, delivery.headers)
    assert (event.message, event.table, event.stage, event.mode) == ("Create", "contact", 40, 0)
    assert event.record_id == client.get(CONTACT, {NATIONAL_ID: "19121212-1212"})["contactid"]
    assert created.id in (None, event.record_id)
    assert event.tag == "member-plugins"
    assert event.correlation_id == correlation
    assert event.attributes["firstname"] == "Round"
    assert event.attributes[NATIONAL_ID] == "19121212-1212"
    assert isinstance(event.attributes["birthdate"], datetime.datetime)
    assert not event.trimmed

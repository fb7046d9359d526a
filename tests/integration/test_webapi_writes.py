"""Web API writes over real HTTP: create, upsert, update, delete, properties, $ref, cascade."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from sandbox.store import ChangeEvent, Lookup, Row

if TYPE_CHECKING:
    from conftest import WebApiSession

NATIONAL_ID = "19900101-1234"
REPRESENTATION = {"Prefer": "return=representation"}


def rows(dv: WebApiSession, table: str) -> list[Row]:
    return dv.sandbox.store.rows(table)


def row(dv: WebApiSession, table: str, row_id: str) -> Row:
    found = dv.sandbox.store.get(table, row_id)
    assert found is not None, f"{table} {row_id} is missing"
    return found


def created_id(response: Any) -> str:
    return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def create(dv: WebApiSession, entity_set: str, body: dict[str, Any]) -> str:
    response = dv.post(entity_set, json=body)
    assert response.status_code == 204, response.text
    return created_id(response)


def error(response: Any) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


class Recorder:
    """Collects the committed change events."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []

    def before_commit(self, events: list[ChangeEvent]) -> None:
        return None

    def after_commit(self, events: list[ChangeEvent]) -> None:
        self.events.extend(events)


# -------------------------------------------------------------------------- create


def test_create_answers_204_with_the_entity_id_and_no_body(dv: WebApiSession) -> None:
    response = dv.post(
        "contacts",
        json={"firstname": "Ada", "lastname": "Lovelace", "mp_topics": "100000000, 100000002"},
    )

    assert response.status_code == 204
    assert response.content == b""
    entity_id = response.headers["OData-EntityId"]
    assert entity_id.startswith(f"{dv.sandbox.base_url}/api/data/v9.2/contacts(")
    stored = row(dv, "contact", created_id(response)).values
    assert stored["fullname"] == "Ada Lovelace"
    assert stored["mp_topics"] == "100000000,100000002"


def test_create_with_representation_answers_201_with_the_selected_columns(
    dv: WebApiSession,
) -> None:
    response = dv.post(
        "contacts?$select=firstname,mp_topics",
        json={"firstname": "Ada", "mp_topics": "100000001"},
        headers=REPRESENTATION,
    )

    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "return=representation"
    assert "OData-EntityId" not in response.headers
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#contacts(firstname,mp_topics)/$entity")
    assert body["firstname"] == "Ada"
    assert body["mp_topics"] == "100000001"
    assert "lastname" not in body
    stored = row(dv, "contact", body["contactid"])
    assert body["@odata.etag"] == stored.etag


def test_bad_select_with_representation_writes_nothing(dv: WebApiSession) -> None:
    before = len(rows(dv, "contact"))

    response = dv.post("contacts?$select=nosuch", json={"firstname": "Ada"}, headers=REPRESENTATION)

    assert error(response)[:2] == (400, "0x0")
    assert len(rows(dv, "contact")) == before


def test_create_with_representation_can_expand_the_bound_row(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})

    response = dv.post(
        "mp_registrations?$select=mp_name&$expand=mp_PersonId($select=firstname)",
        json={"mp_name": "r", "mp_PersonId@odata.bind": f"/contacts({contact_id})"},
        headers=REPRESENTATION,
    )

    assert response.status_code == 201
    body = response.json()
    assert body["mp_name"] == "r"
    assert body["mp_PersonId"]["firstname"] == "Ada"
    assert body["mp_PersonId"]["contactid"] == contact_id


def test_client_supplied_primary_key_is_honoured(dv: WebApiSession) -> None:
    contact_id = "4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d01"

    response = dv.post("contacts", json={"contactid": contact_id.upper(), "firstname": "Ada"})

    assert response.status_code == 204
    assert created_id(response) == contact_id
    assert row(dv, "contact", contact_id).values["firstname"] == "Ada"


def test_create_with_an_existing_primary_key_is_refused(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})

    response = dv.post("contacts", json={"contactid": contact_id, "firstname": "Bo"})

    assert response.status_code == 412
    assert row(dv, "contact", contact_id).values["firstname"] == "Ada"


def test_create_without_a_required_column_is_refused(dv: WebApiSession) -> None:
    before = len(rows(dv, "task"))

    response = dv.post("tasks", json={"description": "no subject"})

    assert error(response) == (400, "0x80040203", "Attribute 'subject' cannot be NULL")
    assert len(rows(dv, "task")) == before


def test_too_long_string_is_dataverses_validation_error(dv: WebApiSession) -> None:
    response = dv.post("tasks", json={"subject": "x" * 201})

    status, code, message = error(response)
    assert (status, code) == (400, "0x80044331")
    assert "maximum allowed length of '200'" in message


@pytest.mark.parametrize("data", [b"{not json", b"", b"[1, 2]"])
def test_malformed_json_is_a_400(dv: WebApiSession, data: bytes) -> None:
    response = dv.post("contacts", data=data, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x80048d19"


def test_unknown_column_is_refused(dv: WebApiSession) -> None:
    response = dv.post("contacts", json={"FirstName": "Ada"})

    assert error(response)[:2] == (400, "0x0")


def test_bind_sets_a_lookup_by_guid_or_alternate_key(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada", "mp_nationalid": NATIONAL_ID})

    by_guid = create(
        dv,
        "tasks",
        {"subject": "a", "regardingobjectid_contact_task@odata.bind": f"/contacts({contact_id})"},
    )
    by_key = create(
        dv,
        "mp_registrations",
        {"mp_name": "r", "mp_PersonId@odata.bind": f"contacts(mp_nationalid='{NATIONAL_ID}')"},
    )

    assert row(dv, "task", by_guid).values["regardingobjectid"] == Lookup("contact", contact_id)
    assert row(dv, "mp_registration", by_key).values["mp_personid"] == Lookup("contact", contact_id)


def test_collection_bind_on_create_links_the_related_rows(dv: WebApiSession) -> None:
    task = create(dv, "tasks", {"subject": "call"})

    contact_id = create(
        dv, "contacts", {"firstname": "Ada", "Contact_Tasks@odata.bind": [f"/tasks({task})"]}
    )

    assert row(dv, "task", task).values["regardingobjectid"] == Lookup("contact", contact_id)


def test_patch_by_named_primary_key_echoes_that_form(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})

    response = dv.patch(f"contacts(contactid={contact_id})", json={"lastname": "L"})

    assert response.status_code == 204
    assert response.headers["OData-EntityId"].endswith(f"contacts(contactid={contact_id})")
    assert row(dv, "contact", contact_id).values["fullname"] == "Ada L"


def test_bind_with_a_wrong_navigation_name_is_0x80048d19(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})

    response = dv.post(
        "mp_registrations", json={"mp_personid@odata.bind": f"/contacts({contact_id})"}
    )

    assert error(response)[:2] == (400, "0x80048d19")


def test_bind_to_a_missing_row_is_not_found(dv: WebApiSession) -> None:
    missing = "4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1dff"

    response = dv.post("mp_registrations", json={"mp_PersonId@odata.bind": f"/contacts({missing})"})

    assert error(response) == (404, "0x80040217", f"contact With Id = {missing} Does Not Exist")


# ------------------------------------------------------------------ patch / upsert


def test_patch_by_alternate_key_creates_then_updates_with_the_key_echoed(
    dv: WebApiSession,
) -> None:
    url = f"contacts(mp_nationalid='{NATIONAL_ID}')"

    created = dv.patch(url, json={"firstname": "Ada"})
    updated = dv.patch(url, json={"lastname": "Lovelace"})

    expected = f"{dv.sandbox.base_url}/api/data/v9.2/contacts(mp_nationalid='{NATIONAL_ID}')"
    assert (created.status_code, updated.status_code) == (204, 204)
    assert created.headers["OData-EntityId"] == expected
    assert updated.headers["OData-EntityId"] == expected
    (stored,) = rows(dv, "contact")[-1:]
    assert stored.values["mp_nationalid"] == NATIONAL_ID
    assert stored.values["fullname"] == "Ada Lovelace"
    assert sum(1 for r in rows(dv, "contact") if r.values.get("mp_nationalid") == NATIONAL_ID) == 1


def test_upsert_create_prefers_the_bodys_key_value(dv: WebApiSession) -> None:
    response = dv.patch(
        f"contacts(mp_nationalid='{NATIONAL_ID}')",
        json={"firstname": "Ada", "mp_nationalid": "20000101-0000"},
    )

    assert response.status_code == 204
    keys = {r.values.get("mp_nationalid") for r in rows(dv, "contact")}
    assert "20000101-0000" in keys
    assert NATIONAL_ID not in keys


def test_upsert_update_strips_the_url_key_from_the_body(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada", "mp_nationalid": NATIONAL_ID})

    response = dv.patch(
        f"contacts(mp_nationalid='{NATIONAL_ID}')",
        json={"firstname": "Bo", "mp_nationalid": "20000101-0000"},
    )

    assert response.status_code == 204
    values = row(dv, "contact", contact_id).values
    assert (values["firstname"], values["mp_nationalid"]) == ("Bo", NATIONAL_ID)


def test_patch_by_missing_primary_key_creates_that_row(dv: WebApiSession) -> None:
    contact_id = "4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d02"

    response = dv.patch(f"contacts({contact_id})", json={"firstname": "Ada"})

    assert response.status_code == 204
    assert response.headers["OData-EntityId"].endswith(f"contacts({contact_id})")
    assert row(dv, "contact", contact_id).values["firstname"] == "Ada"


def test_patch_with_representation_is_201_when_created_and_200_when_updated(
    dv: WebApiSession,
) -> None:
    url = f"contacts(mp_nationalid='{NATIONAL_ID}')?$select=firstname"

    created = dv.patch(url, json={"firstname": "Ada"}, headers=REPRESENTATION)
    updated = dv.patch(url, json={"firstname": "Bo"}, headers=REPRESENTATION)

    assert (created.status_code, updated.status_code) == (201, 200)
    for response, name in ((created, "Ada"), (updated, "Bo")):
        body = response.json()
        assert body["firstname"] == name
        assert response.headers["ETag"] == body["@odata.etag"]
        assert response.headers["Preference-Applied"] == "return=representation"
    assert created.headers["ETag"] != updated.headers["ETag"]


def test_if_match_star_only_updates(dv: WebApiSession) -> None:
    missing = dv.patch(
        f"contacts(mp_nationalid='{NATIONAL_ID}')",
        json={"firstname": "Ada"},
        headers={"If-Match": "*"},
    )
    missing_by_id = dv.patch(
        "contacts(4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d03)",
        json={"firstname": "Ada"},
        headers={"If-Match": "*"},
    )
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    present = dv.patch(
        f"contacts({contact_id})", json={"firstname": "Bo"}, headers={"If-Match": "*"}
    )

    assert error(missing)[:2] == (404, "0x80060891")
    assert error(missing_by_id)[:2] == (404, "0x80040217")
    assert present.status_code == 204
    assert row(dv, "contact", contact_id).values["firstname"] == "Bo"
    assert all(r.values.get("mp_nationalid") != NATIONAL_ID for r in rows(dv, "contact"))


def test_stale_if_match_is_412_and_the_current_etag_passes(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    old_etag = row(dv, "contact", contact_id).etag
    assert dv.patch(f"contacts({contact_id})", json={"firstname": "Bo"}).status_code == 204

    stale = dv.patch(
        f"contacts({contact_id})", json={"firstname": "Cy"}, headers={"If-Match": old_etag}
    )
    current = dv.patch(
        f"contacts({contact_id})",
        json={"firstname": "Di"},
        headers={"If-Match": row(dv, "contact", contact_id).etag},
    )

    assert error(stale) == (
        412,
        "0x80060882",
        "The version of the existing record doesn't match the RowVersion property provided.",
    )
    assert current.status_code == 204
    assert row(dv, "contact", contact_id).values["firstname"] == "Di"


def test_if_none_match_star_only_creates(dv: WebApiSession) -> None:
    url = f"contacts(mp_nationalid='{NATIONAL_ID}')"
    headers = {"If-None-Match": "*"}

    first = dv.patch(url, json={"firstname": "Ada"}, headers=headers)
    second = dv.patch(url, json={"firstname": "Bo"}, headers=headers)

    assert first.status_code == 204
    status, _, message = error(second)
    assert (status, message) == (412, "A record with matching key values already exists.")
    assert {r.values.get("firstname") for r in rows(dv, "contact")} >= {"Ada"}
    assert all(r.values.get("firstname") != "Bo" for r in rows(dv, "contact"))


def test_if_none_match_null_is_ignored(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})

    response = dv.patch(
        f"contacts({contact_id})", json={"firstname": "Bo"}, headers={"If-None-Match": "null"}
    )

    assert response.status_code == 204
    assert row(dv, "contact", contact_id).values["firstname"] == "Bo"


def test_undefined_alternate_key_is_refused(dv: WebApiSession) -> None:
    response = dv.patch("contacts(emailaddress1='a@example.org')", json={"firstname": "Ada"})

    status, _, message = error(response)
    assert status == 400
    assert "The key in the request URI is not valid" in message


def test_every_write_gives_a_new_row_version(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    versions = [row(dv, "contact", contact_id).version]

    for _ in range(3):
        assert dv.patch(f"contacts({contact_id})", json={"firstname": "Ada"}).status_code == 204
        versions.append(row(dv, "contact", contact_id).version)

    assert len(set(versions)) == 4
    assert versions == sorted(versions)


def test_patch_can_clear_a_lookup(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    bind = {"mp_PersonId@odata.bind": f"/contacts({contact_id})"}
    first = create(dv, "mp_registrations", bind)
    second = create(dv, "mp_registrations", bind)

    assert dv.patch(f"mp_registrations({first})", json={"mp_PersonId@odata.bind": None}).ok
    assert dv.patch(f"mp_registrations({second})", json={"mp_PersonId": None}).ok

    assert row(dv, "mp_registration", first).values["mp_personid"] is None
    assert row(dv, "mp_registration", second).values["mp_personid"] is None


def test_write_tag_reaches_the_change_events(dv: WebApiSession) -> None:
    recorder = Recorder()
    dv.sandbox.store.listeners.append(recorder)

    create(dv, "contacts?tag=member-plugins", {"firstname": "Ada"})

    assert [e.caller.tag for e in recorder.events] == ["member-plugins"]


# -------------------------------------------------------------------------- delete


def test_delete_answers_204_then_404(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})

    first = dv.delete(f"contacts({contact_id})")
    second = dv.delete(f"contacts({contact_id})")

    assert first.status_code == 204
    assert error(second)[:2] == (404, "0x80040217")
    assert dv.sandbox.store.get("contact", contact_id) is None


def test_delete_by_alternate_key(dv: WebApiSession) -> None:
    create(dv, "contacts", {"firstname": "Ada", "mp_nationalid": NATIONAL_ID})

    response = dv.delete(f"contacts(mp_nationalid='{NATIONAL_ID}')")

    assert response.status_code == 204
    assert all(r.values.get("mp_nationalid") != NATIONAL_ID for r in rows(dv, "contact"))


def test_delete_with_stale_if_match_is_412(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    old_etag = row(dv, "contact", contact_id).etag
    dv.patch(f"contacts({contact_id})", json={"firstname": "Bo"})

    stale = dv.delete(f"contacts({contact_id})", headers={"If-Match": old_etag})
    current = dv.delete(
        f"contacts({contact_id})", headers={"If-Match": row(dv, "contact", contact_id).etag}
    )

    assert error(stale)[:2] == (412, "0x80060882")
    assert current.status_code == 204


def test_delete_cascades_through_cascade_relationships(dv: WebApiSession) -> None:
    endpoint = create(dv, "serviceendpoints", {"name": "queue", "contract": 2})
    bind = {"eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint})"}
    step = create(dv, "sdkmessageprocessingsteps", {"name": "s1", "stage": 40, "mode": 1, **bind})
    other_step = create(dv, "sdkmessageprocessingsteps", {"name": "s2", "stage": 40, "mode": 1})
    image = create(
        dv,
        "sdkmessageprocessingstepimages",
        {
            "entityalias": "pre",
            "imagetype": 0,
            "sdkmessageprocessingstepid@odata.bind": f"/sdkmessageprocessingsteps({step})",
        },
    )

    response = dv.delete(f"serviceendpoints({endpoint})")

    assert response.status_code == 204
    store = dv.sandbox.store
    assert store.get("sdkmessageprocessingstep", step) is None
    assert store.get("sdkmessageprocessingstepimage", image) is None
    assert store.get("sdkmessageprocessingstep", other_step) is not None


def test_delete_removes_links_of_other_relationships(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    registration = create(
        dv, "mp_registrations", {"mp_PersonId@odata.bind": f"/contacts({contact_id})"}
    )
    task = create(
        dv,
        "tasks",
        {
            "subject": "call",
            "regardingobjectid_contact_task@odata.bind": f"/contacts({contact_id})",
        },
    )
    version = row(dv, "task", task).version

    assert dv.delete(f"contacts({contact_id})").status_code == 204

    assert row(dv, "mp_registration", registration).values["mp_personid"] is None
    assert row(dv, "task", task).values["regardingobjectid"] is None
    assert row(dv, "task", task).version > version


# ------------------------------------------------------------------ single property


def test_put_and_delete_a_single_property(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada", "lastname": "L"})

    put = dv.put(f"contacts({contact_id})/lastname", json={"value": "Lovelace"})
    assert put.status_code == 204
    assert row(dv, "contact", contact_id).values["fullname"] == "Ada Lovelace"

    deleted = dv.delete(f"contacts({contact_id})/lastname")
    assert deleted.status_code == 204
    assert row(dv, "contact", contact_id).values["lastname"] is None


def test_put_property_checks_the_value(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})

    too_long = dv.put(f"contacts({contact_id})/firstname", json={"value": "x" * 51})
    no_value = dv.put(f"contacts({contact_id})/firstname", json={"firstname": "Bo"})
    unknown = dv.put(f"contacts({contact_id})/nosuch", json={"value": 1})
    missing = dv.put(
        "contacts(4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d04)/firstname", json={"value": "Bo"}
    )

    assert error(too_long)[:2] == (400, "0x80044331")
    assert no_value.status_code == 400
    assert error(unknown)[:2] == (404, "0x8006088a")
    assert error(missing)[:2] == (404, "0x80040217")


def test_delete_of_a_required_property_is_refused(dv: WebApiSession) -> None:
    task = create(dv, "tasks", {"subject": "call"})

    response = dv.delete(f"tasks({task})/subject")

    assert error(response)[:2] == (400, "0x80040203")
    assert row(dv, "task", task).values["subject"] == "call"


# --------------------------------------------------------------------------- $ref


def test_associate_and_disassociate_through_a_collection_navigation(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    task = create(dv, "tasks", {"subject": "call"})
    task_url = f"{dv.sandbox.base_url}/api/data/v9.2/tasks({task})"

    added = dv.post(f"contacts({contact_id})/Contact_Tasks/$ref", json={"@odata.id": task_url})
    assert added.status_code == 204
    assert row(dv, "task", task).values["regardingobjectid"] == Lookup("contact", contact_id)

    removed = dv.delete(f"contacts({contact_id})/Contact_Tasks({task})/$ref")
    assert removed.status_code == 204
    assert row(dv, "task", task).values["regardingobjectid"] is None

    dv.post(f"contacts({contact_id})/Contact_Tasks/$ref", json={"@odata.id": f"tasks({task})"})
    by_id = dv.delete(f"contacts({contact_id})/Contact_Tasks/$ref", params={"$id": task_url})
    assert by_id.status_code == 204
    assert row(dv, "task", task).values["regardingobjectid"] is None


def test_set_and_clear_a_single_valued_navigation(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    task = create(dv, "tasks", {"subject": "call"})

    put = dv.put(
        f"tasks({task})/regardingobjectid_contact_task/$ref",
        json={"@odata.id": f"/contacts({contact_id})"},
    )
    assert put.status_code == 204
    assert row(dv, "task", task).values["regardingobjectid"] == Lookup("contact", contact_id)

    other_nav = dv.delete(f"tasks({task})/regardingobjectid_mp_registration_task/$ref")
    assert other_nav.status_code == 204
    assert row(dv, "task", task).values["regardingobjectid"] == Lookup("contact", contact_id)

    cleared = dv.delete(f"tasks({task})/regardingobjectid_contact_task/$ref")
    assert cleared.status_code == 204
    assert row(dv, "task", task).values["regardingobjectid"] is None


def test_ref_errors(dv: WebApiSession) -> None:
    contact_id = create(dv, "contacts", {"firstname": "Ada"})
    task = create(dv, "tasks", {"subject": "call"})

    wrong_table = dv.post(
        f"contacts({contact_id})/Contact_Tasks/$ref", json={"@odata.id": f"contacts({contact_id})"}
    )
    unknown_nav = dv.post(f"contacts({contact_id})/Nope/$ref", json={"@odata.id": f"tasks({task})"})
    single_by_post = dv.post(
        f"tasks({task})/regardingobjectid_contact_task/$ref",
        json={"@odata.id": f"contacts({contact_id})"},
    )
    no_id = dv.post(f"contacts({contact_id})/Contact_Tasks/$ref", json={})

    assert error(wrong_table)[:2] == (400, "0x80048d19")
    assert error(unknown_nav)[:2] == (404, "0x8006088a")
    assert single_by_post.status_code == 405
    assert no_id.status_code == 400
    assert row(dv, "task", task).values.get("regardingobjectid") is None

"""CreateMultiple, UpdateMultiple and UpsertMultiple over real HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from sandbox.store import Lookup, Row

if TYPE_CHECKING:
    from conftest import WebApiSession

CONTACT = "Microsoft.Dynamics.CRM.contact"
API = "/api/data/v9.2/"


def action(
    dv: WebApiSession, name: str, targets: list[dict[str, Any]], entity_set: str = "contacts"
):
    return dv.post(f"{entity_set}/Microsoft.Dynamics.CRM.{name}", json={"Targets": targets})


def contact_row(dv: WebApiSession, row_id: str) -> Row:
    row = dv.sandbox.store.get("contact", row_id)
    assert row is not None
    return row


def contact(dv: WebApiSession, row_id: str) -> dict[str, Any]:
    return contact_row(dv, row_id).values


def by_national_id(dv: WebApiSession, national_id: str) -> list[dict[str, Any]]:
    return [
        r.values
        for r in dv.sandbox.store.rows("contact")
        if r.values.get("mp_nationalid") == national_id
    ]


def snapshot(dv: WebApiSession) -> list[tuple[str, int]]:
    return [(r.id, r.version) for r in dv.sandbox.store.rows("contact")]


def test_create_multiple_answers_the_new_ids(dv: WebApiSession) -> None:
    dv.sandbox.request_log.clear()

    response = action(
        dv,
        "CreateMultiple",
        [
            {"@odata.type": CONTACT, "firstname": "Ada", "mp_topics": "100000000, 100000001"},
            {"@odata.type": CONTACT, "firstname": "Bo"},
        ],
    )

    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"] == (
        f"{dv.sandbox.base_url}{API}$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
    )
    first, second = body["Ids"]
    assert contact(dv, first)["firstname"] == "Ada"
    assert contact(dv, first)["mp_topics"] == "100000000,100000001"
    assert contact(dv, second)["firstname"] == "Bo"
    assert dv.sandbox.request_log.count(prefix=API) == 1


def test_create_multiple_supports_binds(dv: WebApiSession) -> None:
    person = action(dv, "CreateMultiple", [{"@odata.type": CONTACT, "firstname": "Ada"}]).json()[
        "Ids"
    ][0]

    response = action(
        dv,
        "CreateMultiple",
        [
            {
                "@odata.type": "Microsoft.Dynamics.CRM.task",
                "subject": "call",
                "regardingobjectid_contact_task@odata.bind": f"/contacts({person})",
            }
        ],
        entity_set="tasks",
    )

    (task_id,) = response.json()["Ids"]
    task = dv.sandbox.store.get("task", task_id)
    assert task is not None and task.values["regardingobjectid"] == Lookup("contact", person)


def test_any_failing_target_rolls_back_the_whole_request(dv: WebApiSession) -> None:
    before = snapshot(dv)

    response = action(
        dv,
        "CreateMultiple",
        [
            {"@odata.type": CONTACT, "firstname": "Ada"},
            {"@odata.type": CONTACT, "firstname": "x" * 51},
        ],
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x80044331"
    assert snapshot(dv) == before


@pytest.mark.parametrize(
    ("targets", "problem"),
    [
        (
            [{"@odata.type": CONTACT, "firstname": "Ada"}, {"firstname": "Bo"}],
            "needs an '@odata.type'",
        ),
        ([{"@odata.type": "Microsoft.Dynamics.CRM.task", "subject": "call"}], "must be of type"),
    ],
)
def test_every_target_needs_the_sets_odata_type(
    dv: WebApiSession, targets: list[dict[str, Any]], problem: str
) -> None:
    before = snapshot(dv)

    response = action(dv, "CreateMultiple", targets)

    assert response.status_code == 400
    assert problem in response.json()["error"]["message"]
    assert snapshot(dv) == before


@pytest.mark.parametrize("body", [{}, {"Targets": {"firstname": "Ada"}}, {"Targets": ["x"]}])
def test_targets_must_be_an_array_of_objects(dv: WebApiSession, body: dict[str, Any]) -> None:
    response = dv.post("contacts/Microsoft.Dynamics.CRM.CreateMultiple", json=body)

    assert response.status_code == 400


def test_unknown_action_is_404(dv: WebApiSession) -> None:
    response = action(dv, "DeleteEverything", [])

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "0x8006088a"


def test_update_multiple_updates_each_target_by_primary_key(dv: WebApiSession) -> None:
    ada, bo = action(
        dv,
        "CreateMultiple",
        [{"@odata.type": CONTACT, "firstname": "Ada"}, {"@odata.type": CONTACT, "firstname": "Bo"}],
    ).json()["Ids"]
    version = contact_row(dv, ada).version

    response = action(
        dv,
        "UpdateMultiple",
        [
            {"@odata.type": CONTACT, "contactid": ada, "lastname": "Lovelace"},
            {"@odata.type": CONTACT, "contactid": bo.upper(), "lastname": "Ek"},
        ],
    )

    assert response.status_code == 204
    assert contact(dv, ada)["fullname"] == "Ada Lovelace"
    assert contact(dv, bo)["fullname"] == "Bo Ek"
    assert contact_row(dv, ada).version > version


def test_update_multiple_with_a_missing_row_rolls_back(dv: WebApiSession) -> None:
    (ada,) = action(dv, "CreateMultiple", [{"@odata.type": CONTACT, "firstname": "Ada"}]).json()[
        "Ids"
    ]
    before = snapshot(dv)

    missing = action(
        dv,
        "UpdateMultiple",
        [
            {"@odata.type": CONTACT, "contactid": ada, "lastname": "Lovelace"},
            {
                "@odata.type": CONTACT,
                "contactid": "4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d06",
                "lastname": "X",
            },
        ],
    )
    no_key = action(dv, "UpdateMultiple", [{"@odata.type": CONTACT, "lastname": "X"}])

    assert missing.status_code == 404
    assert no_key.status_code == 400
    assert snapshot(dv) == before


def test_upsert_multiple_creates_and_updates_by_alternate_key(dv: WebApiSession) -> None:
    action(
        dv,
        "UpsertMultiple",
        [
            {
                "@odata.type": CONTACT,
                "@odata.id": "contacts(mp_nationalid='19900101-0001')",
                "firstname": "Ada",
            }
        ],
    )

    response = action(
        dv,
        "UpsertMultiple",
        [
            {
                "@odata.type": CONTACT,
                "@odata.id": "contacts(mp_nationalid='19900101-0001')",
                "lastname": "L",
            },
            {
                "@odata.type": CONTACT,
                "@odata.id": "contacts(mp_nationalid='19900101-0002')",
                "firstname": "Bo",
            },
        ],
    )

    assert response.status_code == 204
    assert response.content == b""
    (ada,) = by_national_id(dv, "19900101-0001")
    (bo,) = by_national_id(dv, "19900101-0002")
    assert ada["fullname"] == "Ada L"
    assert bo["firstname"] == "Bo"


def test_upsert_multiple_by_primary_key(dv: WebApiSession) -> None:
    new_id = "4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d07"

    created = action(
        dv, "UpsertMultiple", [{"@odata.type": CONTACT, "contactid": new_id, "firstname": "Ada"}]
    )
    updated = action(
        dv,
        "UpsertMultiple",
        [{"@odata.type": CONTACT, "@odata.id": f"contacts({new_id})", "lastname": "L"}],
    )

    assert (created.status_code, updated.status_code) == (204, 204)
    assert contact(dv, new_id)["fullname"] == "Ada L"


def test_upsert_multiple_create_with_key_in_id_and_body_is_the_observed_400(
    dv: WebApiSession,
) -> None:
    before = snapshot(dv)
    target = {
        "@odata.type": CONTACT,
        "@odata.id": "contacts(mp_nationalid='19900101-0003')",
        "mp_nationalid": "19900101-0003",
        "firstname": "Ada",
    }

    response = action(dv, "UpsertMultiple", [target])

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "0x80040216",
        "message": "An unexpected error occurred.",
    }
    assert snapshot(dv) == before


def test_upsert_multiple_update_tolerates_key_in_id_and_body(dv: WebApiSession) -> None:
    action(
        dv,
        "UpsertMultiple",
        [
            {
                "@odata.type": CONTACT,
                "@odata.id": "contacts(mp_nationalid='19900101-0004')",
                "firstname": "Ada",
            }
        ],
    )
    target = {
        "@odata.type": CONTACT,
        "@odata.id": "contacts(mp_nationalid='19900101-0004')",
        "mp_nationalid": "19900101-0004",
        "lastname": "L",
    }

    response = action(dv, "UpsertMultiple", [target])

    assert response.status_code == 204
    (ada,) = by_national_id(dv, "19900101-0004")
    assert ada["fullname"] == "Ada L"


def test_upsert_multiple_target_needs_an_id_of_the_same_set(dv: WebApiSession) -> None:
    no_key = action(dv, "UpsertMultiple", [{"@odata.type": CONTACT, "firstname": "Ada"}])
    other_set = action(
        dv,
        "UpsertMultiple",
        [{"@odata.type": CONTACT, "@odata.id": "tasks(4b8c5f41-28e1-4a6c-9d11-6f5b8a0c1d08)"}],
    )
    undefined_key = action(
        dv, "UpsertMultiple", [{"@odata.type": CONTACT, "@odata.id": "contacts(firstname='Ada')"}]
    )

    assert no_key.status_code == 400
    assert other_set.status_code == 400
    assert undefined_key.status_code == 400

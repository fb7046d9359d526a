"""Registering service endpoints, steps and images through the Web API, exactly as an admin
does it against Dataverse (reference §5.2), for the step-delivery tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import WebApiSession

REPRESENTATION = {"Prefer": "return=representation"}


def create(dv: WebApiSession, entity_set: str, body: dict[str, Any], key: str) -> str:
    """POST a row and return its id (``Prefer: return=representation``)."""
    response = dv.post(entity_set, json=body, headers=REPRESENTATION)
    assert response.status_code == 201, response.text
    return response.json()[key]


def register_webhook(dv: WebApiSession, url: str, authtype: int, authvalue: str) -> str:
    """``POST serviceendpoints`` with contract 8 (webhook)."""
    return create(
        dv,
        "serviceendpoints",
        {"name": "member-plugins webhook", "url": url, "contract": 8, "authtype": authtype,
         "authvalue": authvalue},
        "serviceendpointid",
    )


def register_queue(dv: WebApiSession, path: str, messageformat: int = 2) -> str:
    """``POST serviceendpoints`` for a Service Bus queue (contract 6, SAS key)."""
    return create(
        dv,
        "serviceendpoints",
        {
            "name": f"member-plugins queue {path}",
            "contract": 6,
            "namespaceaddress": "sb://member-plugins.servicebus.windows.net/",
            "path": path,
            "authtype": 2,
            "saskeyname": "RootManageSharedAccessKey",
            "saskey": "c2FuZGJveA==",
            "messageformat": messageformat,
            "userclaim": 1,
            "connectionmode": 1,
        },
        "serviceendpointid",
    )


def message_id(dv: WebApiSession, name: str) -> str:
    """``GET sdkmessages?$filter=name eq '<name>'``."""
    response = dv.get(f"sdkmessages?$select=sdkmessageid,name&$filter=name eq '{name}'")
    assert response.status_code == 200, response.text
    [row] = response.json()["value"]
    return row["sdkmessageid"]


def filter_id(dv: WebApiSession, table: str, message: str) -> str:
    """The message filter for a table, by the navigation filter admins use."""
    response = dv.get(
        "sdkmessagefilters?$select=sdkmessagefilterid&$filter=primaryobjecttypecode eq "
        f"'{table}' and sdkmessageid/name eq '{message}'"
    )
    assert response.status_code == 200, response.text
    [row] = response.json()["value"]
    return row["sdkmessagefilterid"]


def register_step(
    dv: WebApiSession,
    endpoint_id: str,
    message: str,
    table: str,
    *,
    mode: int = 1,
    stage: int = 40,
    rank: int = 1,
    filtering_attributes: str | None = None,
    asyncautodelete: bool = False,
) -> str:
    """``POST sdkmessageprocessingsteps`` with the three ``@odata.bind`` lookups."""
    body: dict[str, Any] = {
        "name": f"member-plugins: {message} of {table}",
        "stage": stage,
        "mode": mode,
        "rank": rank,
        "supporteddeployment": 0,
        "asyncautodelete": asyncautodelete,
        "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint_id})",
        "sdkmessageid@odata.bind": f"/sdkmessages({message_id(dv, message)})",
        "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({filter_id(dv, table, message)})",
    }
    if filtering_attributes is not None:
        body["filteringattributes"] = filtering_attributes
    return create(dv, "sdkmessageprocessingsteps", body, "sdkmessageprocessingstepid")


def register_image(
    dv: WebApiSession, step_id: str, imagetype: int, alias: str, attributes: str | None = None
) -> str:
    """``POST sdkmessageprocessingstepimages`` bound to a step."""
    body: dict[str, Any] = {
        "sdkmessageprocessingstepid@odata.bind": f"/sdkmessageprocessingsteps({step_id})",
        "imagetype": imagetype,
        "name": alias,
        "entityalias": alias,
        "messagepropertyname": "Target",
    }
    if attributes is not None:
        body["attributes"] = attributes
    return create(dv, "sdkmessageprocessingstepimages", body, "sdkmessageprocessingstepimageid")


def system_jobs(dv: WebApiSession, step_id: str) -> list[dict[str, Any]]:
    """The step's system jobs, by the query reference §1.1 gives."""
    response = dv.get(
        "asyncoperations?$select=name,statuscode,friendlymessage,errorcode,message,completedon"
        f"&$filter=_owningextensionid_value eq {step_id}"
    )
    assert response.status_code == 200, response.text
    return response.json()["value"]

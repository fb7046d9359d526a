"""The office's views of registrations: FetchXml (which rows, in which order) and LayoutXml
(which columns) of each ``savedquery`` (pure).

- *Registrations to review*: ``NotApproved``, oldest first (invalid registrations are
  ``NotApproved`` too, so they are in it);
- *Decided today*: processed today, newest first;
- *Stuck in Received for more than an hour*: ``Received`` (or no status yet) and created more
  than an hour ago, oldest first: the sweep should have taken them; if they stay, something
  is wrong;
- *Unregistered*: ``Unregistered``, newest first.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from plugins.core.schema_map import RegistrationMap
from plugins.registration.model import Status

_NAMESPACE = uuid.UUID("0c8a3b9e-2f61-4d8a-b3c4-7e5d9a1f2b60")


@dataclass(frozen=True)
class Condition:
    column: str
    operator: str
    value: str | None = None


@dataclass(frozen=True)
class ViewSpec:
    """One view: its text key, filter (all of ``conditions``, and one of ``any_of``), order
    and the columns shown."""

    key: str
    conditions: tuple[Condition, ...]
    order: str
    descending: bool
    columns: tuple[str, ...]
    any_of: tuple[Condition, ...] = ()


def view_id(key: str) -> str:
    """The stable id of a view the product ships (its ``savedqueryid``)."""
    return str(uuid.uuid5(_NAMESPACE, f"view/{key}"))


def registration_views(m: RegistrationMap) -> tuple[ViewSpec, ...]:
    """The four views of the registration table, under the schema map's names."""
    def status(value: Status) -> str:
        return str(m.status_values[value])

    return (
        ViewSpec(
            key="view.review",
            conditions=(Condition(m.status, "eq", status(Status.NOT_APPROVED)),),
            order=m.created_on, descending=False,
            columns=(m.first_name, m.last_name, m.email, m.reason, m.created_on,
                     m.office_decision),
        ),
        ViewSpec(
            key="view.decided",
            conditions=(Condition(m.processed_on, "today"),),
            order=m.processed_on, descending=True,
            columns=(m.first_name, m.last_name, m.status, m.reason, m.processed_on),
        ),
        ViewSpec(
            key="view.stuck",
            conditions=(Condition(m.created_on, "olderthan-x-hours", "1"),),
            any_of=(Condition(m.status, "eq", status(Status.RECEIVED)),
                    Condition(m.status, "null")),
            order=m.created_on, descending=False,
            columns=(m.first_name, m.last_name, m.email, m.created_on, m.status),
        ),
        ViewSpec(
            key="view.unregistered",
            conditions=(Condition(m.status, "eq", status(Status.UNREGISTERED)),),
            order=m.processed_on, descending=True,
            columns=(m.first_name, m.last_name, m.email, m.processed_on),
        ),
    )


def fetch_xml(view: ViewSpec, table: str, primary_id: str) -> str:
    """The view's FetchXml: the shown columns and the id, the order, the filter."""
    fetch = ET.Element("fetch", version="1.0", mapping="logical")
    entity = ET.SubElement(fetch, "entity", name=table)
    for column in (*view.columns, primary_id):
        ET.SubElement(entity, "attribute", name=column)
    ET.SubElement(entity, "order", attribute=view.order,
                  descending="true" if view.descending else "false")
    where = ET.SubElement(entity, "filter", type="and")
    _conditions(where, view.conditions)
    if view.any_of:
        _conditions(ET.SubElement(where, "filter", type="or"), view.any_of)
    return ET.tostring(fetch, encoding="unicode")


def layout_xml(
    view: ViewSpec, primary_id: str, primary_name: str, object_type_code: int | None
) -> str:
    """The view's LayoutXml: one cell per shown column; ``object`` is the table's type code."""
    attributes = {"name": "resultset", "jump": primary_name, "select": "1", "icon": "1",
                  "preview": "1"}
    if object_type_code is not None:
        attributes["object"] = str(object_type_code)
    grid = ET.Element("grid", attributes)
    row = ET.SubElement(grid, "row", name="result", id=primary_id)
    for column in view.columns:
        ET.SubElement(row, "cell", name=column, width=_width(column, view.columns))
    return ET.tostring(grid, encoding="unicode")


def _conditions(parent: ET.Element, conditions: Sequence[Condition]) -> None:
    for condition in conditions:
        attributes = {"attribute": condition.column, "operator": condition.operator}
        if condition.value is not None:
            attributes["value"] = condition.value
        ET.SubElement(parent, "condition", attributes)


def _width(column: str, columns: Sequence[str]) -> str:
    return "200" if column == columns[2] else "150"

"""Plain-text renderings of the workspace the product ships, as docs/ shows them: a form as
its tabs, sections and fields (from the FormXml), a view as its columns and filter (from the
FetchXml and LayoutXml), the roles as a privilege table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from plugins.admin.workspace.components import Component, Workspace
from plugins.admin.workspace.roles import RoleSpec
from plugins.admin.workspace.texts import LCIDS, text

EN = LCIDS["en"]


def form_text(form: Component) -> str:
    """``[Tab] / Section / field (read-only)`` lines, English labels."""
    root = ET.fromstring(form.body["formxml"])
    lines = [f"Form: {form.name}"]
    for tab in root.iter("tab"):
        lines.append(f"[{_label(tab)}]")
        for section in tab.iter("section"):
            lines.append(f"  {_label(section)}")
            for cell in section.iter("cell"):
                control = cell.find("control")
                assert control is not None
                state = " (read-only)" if control.get("disabled") == "true" else ""
                lines.append(f"    {_label(cell)}: {control.get('datafieldname')}{state}")
    return "\n".join(lines)


def view_text(view: Component) -> str:
    """The view's name, columns, filter and order, from its FetchXml and LayoutXml."""
    fetch = ET.fromstring(view.body["fetchxml"])
    layout = ET.fromstring(view.body["layoutxml"])
    columns = ", ".join(str(c.get("name")) for c in layout.iter("cell"))
    where = next(fetch.iter("filter"))
    [order] = fetch.iter("order")
    direction = "newest first" if order.get("descending") == "true" else "oldest first"
    return (f"View: {view.name}\n  columns: {columns}\n  rows: {_filter(where)}\n"
            f"  order: {order.get('attribute')}, {direction}")


def _filter(element: ET.Element) -> str:
    joiner = " or " if element.get("type") == "or" else " and "
    parts = [
        " ".join(filter(None, (c.get("attribute"), c.get("operator"), c.get("value"))))
        if c.tag == "condition" else f"({_filter(c)})"
        for c in element
    ]
    return joiner.join(parts)


def privileges_table(roles: tuple[RoleSpec, ...]) -> str:
    """A markdown table: role, table, rights, why."""
    lines = ["| Role | Table | Rights (depth Global) | Why |", "|---|---|---|---|"]
    for spec in roles:
        for grant in spec.grants:
            lines.append(f"| {text(spec.key, 'en')} | `{grant.table}` | "
                         f"{', '.join(grant.rights)} | {grant.why} |")
    return "\n".join(lines)


def workspace_forms(ws: Workspace) -> list[Component]:
    return [c for c in ws.components if c.entity_set == "systemforms"]


def workspace_views(ws: Workspace) -> list[Component]:
    return [c for c in ws.components if c.entity_set == "savedqueries"]


def _label(element: ET.Element) -> str:
    for label in element.iter("label"):
        if label.get("languagecode") == str(EN):
            return str(label.get("description"))
    return "?"

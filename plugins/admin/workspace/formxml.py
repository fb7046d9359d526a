"""The office's main forms as FormXml (pure).

A form is tabs of sections of rows, one field a row, each field a control bound to a column
(``datafieldname``) whose ``classid`` says how the column is shown; the control kind follows
the column's type in the product schema. Every label is written in the three office
languages. Ids are derived from the form and field names, so the same schema always gives
the same FormXml, byte for byte (a second ``provision`` finds nothing to change).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from plugins.core.schema import Table

from .texts import labels

# The control class of each column type (the classids Dataverse's own forms use).
CONTROL_CLASSES: Mapping[str, str] = {
    "string": "{4273EDBD-AC1D-40D3-9FB2-095C621B552D}",
    "memo": "{E0DECE4B-6FC8-4A8F-A065-082708572369}",
    "choice": "{3EF39988-22BB-4F0B-BBBE-64B5A3748AEE}",
    "state": "{3EF39988-22BB-4F0B-BBBE-64B5A3748AEE}",
    "status": "{5D68B988-0661-4DB2-BC3E-17598AD3BE6C}",
    "multichoice": "{4AA28AB7-9C13-4F57-A73D-AD894D048B5F}",
    "lookup": "{270BD3DB-D9AF-4782-9025-509E298DEC0A}",
    "datetime": "{5B773807-9FB2-42DB-97C3-7A91EFF8ADFF}",
    "date": "{5B773807-9FB2-42DB-97C3-7A91EFF8ADFF}",
    "boolean": "{67FAC785-CD58-4F9F-ABB3-4B7DDC6ED5ED}",
    "integer": "{C6D124CA-7EDA-4A60-AEA9-7FB8D318B68F}",
    "decimal": "{C3EFE0C3-0EC6-42BE-8349-CBD9079DFD8E}",
}
_NAMESPACE = uuid.UUID("5b0f8f0e-6d1a-4c57-9f5e-4d2f7c1c9a15")


@dataclass(frozen=True)
class Field:
    """A column on the form; ``readonly`` ones are shown, not edited."""

    column: str
    label: str
    readonly: bool = False


@dataclass(frozen=True)
class Section:
    name: str
    label: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Tab:
    name: str
    label: str
    sections: tuple[Section, ...]


def form_id(key: str) -> str:
    """The stable id of a form the product ships (its ``formid``)."""
    return str(uuid.uuid5(_NAMESPACE, f"form/{key}"))


def form_xml(key: str, table: Table, tabs: Sequence[Tab]) -> str:
    """The FormXml of form ``key`` on ``table``; every field's column must be in the table."""
    form = ET.Element("form")
    tabs_element = ET.SubElement(form, "tabs")
    for tab in tabs:
        tab_element = ET.SubElement(tabs_element, "tab", {
            "name": tab.name, "id": _id(key, tab.name), "verticallayout": "true",
            "expanded": "true", "showlabel": "true",
        })
        _labels(tab_element, tab.label)
        column = ET.SubElement(ET.SubElement(tab_element, "columns"), "column", width="100%")
        sections = ET.SubElement(column, "sections")
        for section in tab.sections:
            _section(sections, key, tab, section, table)
    return ET.tostring(form, encoding="unicode")


def _section(parent: ET.Element, key: str, tab: Tab, section: Section, table: Table) -> None:
    element = ET.SubElement(parent, "section", {
        "name": section.name, "id": _id(key, tab.name, section.name), "showlabel": "true",
        "showbar": "false", "columns": "1",
    })
    _labels(element, section.label)
    rows = ET.SubElement(element, "rows")
    for field in section.fields:
        column = table.columns.get(field.column)
        if column is None:
            raise ValueError(f"form {key}: {table.logical_name} has no column {field.column}")
        cell = ET.SubElement(ET.SubElement(rows, "row"), "cell", {
            "id": _id(key, tab.name, section.name, field.column), "showlabel": "true",
        })
        _labels(cell, field.label)
        control = {
            "id": field.column, "classid": CONTROL_CLASSES[column.type],
            "datafieldname": field.column,
        }
        if field.readonly:
            control["disabled"] = "true"
        ET.SubElement(cell, "control", control)


def _labels(parent: ET.Element, key: str) -> None:
    element = ET.SubElement(parent, "labels")
    for lcid, text in sorted(labels(key).items()):
        ET.SubElement(element, "label", description=text, languagecode=str(lcid))


def _id(*parts: str) -> str:
    return "{" + str(uuid.uuid5(_NAMESPACE, "/".join(parts))) + "}"

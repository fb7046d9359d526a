"""The app's navigation as SiteMapXml (pure): one area, a review group (registrations and
tasks) and a people group (contacts), titles in every office language."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .texts import labels


def site_map_xml(area: str, groups: Sequence[tuple[str, Sequence[str]]]) -> str:
    """SiteMapXml with one area (text key ``area``) and ``groups`` of (text key, tables)."""
    site_map = ET.Element("SiteMap", IntroducedVersion="7.0.0.0")
    area_element = ET.SubElement(site_map, "Area", Id="mp_alumni", ShowGroups="true",
                                 IntroducedVersion="7.0.0.0")
    _titles(area_element, area)
    for key, tables in groups:
        group = ET.SubElement(area_element, "Group", Id=_id(key), IsProfile="false")
        _titles(group, key)
        for table in tables:
            ET.SubElement(group, "SubArea", Id=f"mp_{table}", Entity=table)
    return ET.tostring(site_map, encoding="unicode")


def _titles(parent: ET.Element, key: str) -> None:
    titles = ET.SubElement(parent, "Titles")
    for lcid, text in sorted(labels(key).items()):
        ET.SubElement(titles, "Title", LCID=str(lcid), Title=text)


def _id(key: str) -> str:
    return "mp_" + key.replace(".", "_")

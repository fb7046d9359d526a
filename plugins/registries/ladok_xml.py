"""Ladok's XML for issued degrees, by the names of Ladok's own schema for the examen service.

The schema (``schemas.ladok.se-examen.xsd``, namespace ``http://schemas.ladok.se/examen``)
names an issued certificate ``UtfardatBevis``: ``Uid``, ``StudentUID``, ``Benamningar``
(``base:Benamning`` with ``Sprakkod`` and ``Text``), ``Bevisbenamningskod``, ``Bevistyp``
(the national degree type, with its own ``Benamningar``), ``Utfardandedatum``,
``DatumForAvslutadeStudier``, ``Omfattning``, ``UtfardandeLarosateID`` and ``Borttaget``.
A list of them is ``UtfardatBevisLista``. Elements are qualified (``elementFormDefault``),
so every child is looked up in its namespace.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .models import Degree
from .values import date_or_none, decimal_or_none, text_or_none

EXAMEN = "http://schemas.ladok.se/examen"
BASE = "http://schemas.ladok.se"
EVENTS = "http://schemas.ladok.se/events"


def tag(namespace: str, name: str) -> str:
    """The ElementTree name of ``name`` in ``namespace``."""
    return f"{{{namespace}}}{name}"


def child_text(element: ET.Element, namespace: str, name: str) -> str | None:
    """The stripped text of the first child ``name``, or None."""
    found = element.find(tag(namespace, name))
    return None if found is None else text_or_none(found.text)


def benamningar(element: ET.Element | None) -> dict[str, str]:
    """A ``Benamningar`` element as ``{language: text}``."""
    if element is None:
        return {}
    names: dict[str, str] = {}
    for benamning in element.iter(tag(BASE, "Benamning")):
        language = child_text(benamning, BASE, "Sprakkod")
        text = child_text(benamning, BASE, "Text")
        if language and text:
            names[language] = text
    return names


def issued_degrees(listing: ET.Element) -> list[Degree]:
    """The degrees of an ``UtfardatBevisLista``; removed ones (``Borttaget``) left out."""
    degrees = []
    for certificate in listing.iter(tag(EXAMEN, "UtfardatBevis")):
        if child_text(certificate, EXAMEN, "Borttaget") == "true":
            continue
        names = benamningar(certificate.find(tag(EXAMEN, "Benamningar")))
        code = child_text(certificate, EXAMEN, "Bevisbenamningskod")
        national = certificate.find(tag(EXAMEN, "Bevistyp"))
        national_names = benamningar(
            None if national is None else national.find(tag(EXAMEN, "Benamningar"))
        )
        degrees.append(
            Degree(
                title=names.get("sv") or names.get("en") or code or "degree",
                title_en=names.get("en"),
                code=code,
                key=child_text(certificate, BASE, "Uid"),
                national_type=national_names.get("sv") or national_names.get("en"),
                awarded_on=date_or_none(child_text(certificate, EXAMEN, "Utfardandedatum")),
                completed_on=date_or_none(
                    child_text(certificate, EXAMEN, "DatumForAvslutadeStudier")
                ),
                credits=decimal_or_none(child_text(certificate, EXAMEN, "Omfattning")),
                institution=child_text(certificate, EXAMEN, "UtfardandeLarosateID"),
            )
        )
    return degrees

"""SOAP 1.1 envelopes and namespace-agnostic reading of XML answers.

Registries version their XML namespaces (SPAR has a namespace per component and schema
release), so answers are read by local element names: a namespace bump that keeps the
element names does not break the adapter.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import requests

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# SOAP 1.1 over HTTP: XML body, and a SOAPAction header (empty in both registries' WSDLs).
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def envelope(body: ET.Element) -> bytes:
    """``body`` wrapped in a SOAP 1.1 envelope, serialised as UTF-8."""
    root = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    ET.SubElement(root, f"{{{SOAP_ENV}}}Header")
    ET.SubElement(root, f"{{{SOAP_ENV}}}Body").append(body)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def local_name(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Direct children called ``name`` (any namespace)."""
    return [child for child in element if local_name(child) == name]


def child(element: ET.Element | None, *path: str) -> ET.Element | None:
    """The first element along ``path`` of direct children, or None."""
    for name in path:
        if element is None:
            return None
        found = children(element, name)
        element = found[0] if found else None
    return element


def text(element: ET.Element | None, *path: str) -> str | None:
    """The stripped text at ``path`` below ``element``; None when absent or empty."""
    found = child(element, *path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def descendants(element: ET.Element, name: str) -> Iterator[ET.Element]:
    """Every element below ``element`` called ``name`` (any namespace)."""
    return (e for e in element.iter() if local_name(e) == name)


def fault_text(response: requests.Response) -> str | None:
    """The fault string of a SOAP fault answer, or None if the body is not a SOAP fault.

    A SOAP fault is the service's definitive answer to a request it refused, so it must not
    be retried like an overloaded server's bare 500.
    """
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return None
    fault = next(descendants(root, "Fault"), None)
    if fault is None:
        return None
    details = " ".join(
        (e.text or "").strip() for e in fault.iter() if len(e) == 0 and (e.text or "").strip()
    )
    return f"SOAP fault: {details or 'no details'}"

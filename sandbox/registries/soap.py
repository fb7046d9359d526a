"""SOAP 1.1 plumbing for the XML registries' emulators (Navet, SPAR)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from abc import abstractmethod

from werkzeug.wrappers import Request, Response

from .base import RegistryEmulator, text_answer

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


class SoapEmulator(RegistryEmulator):
    """A registry with one SOAP operation that checks the client certificate's subject."""

    endpoint: str
    cert_subject: str

    def authenticate(self, request: Request) -> Response | None:
        return self.client_cert_refusal(request, self.cert_subject)

    def serve(self, request: Request, path: str) -> Response:
        if path != self.endpoint:
            return text_answer(404, "Not Found")
        if request.method != "POST":
            return text_answer(405, "Method Not Allowed")
        return self.operation(request_body(request))

    def malformed(self) -> Response:
        return truncated()

    @abstractmethod
    def operation(self, body: ET.Element | None) -> Response:
        """Answer the SOAP body's first element (None when the request was no envelope)."""


def request_body(request: Request) -> ET.Element | None:
    """The first element of the SOAP body, or None when the request is not a SOAP envelope."""
    try:
        root = ET.fromstring(request.get_data())
    except ET.ParseError:
        return None
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or body is None or len(body) == 0:
        return None
    return body[0]


def answer(payload: ET.Element, status: int = 200) -> Response:
    """``payload`` in a SOAP envelope."""
    envelope = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    ET.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(payload)
    return Response(
        ET.tostring(envelope, encoding="utf-8", xml_declaration=True),
        status=status,
        content_type="text/xml;charset=utf-8",
    )


def fault(code: str, message: str, detail: ET.Element | None = None) -> Response:
    """A SOAP 1.1 fault (HTTP 500): ``code`` is ``soap:Client`` or ``soap:Server``."""
    element = ET.Element(f"{{{SOAP_ENV}}}Fault")
    ET.SubElement(element, "faultcode").text = code
    ET.SubElement(element, "faultstring").text = message
    if detail is not None:
        ET.SubElement(element, "detail").append(detail)
    return answer(element, status=500)


def add(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    """A child element (with text unless ``text`` is None)."""
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def text_of(element: ET.Element | None, tag: str) -> str | None:
    """The stripped text of the direct child ``tag`` (namespace-qualified)."""
    if element is None:
        return None
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else None


def truncated() -> Response:
    """A 200 whose XML breaks off (a proxy cut the connection short)."""
    return Response(
        b'<?xml version="1.0"?><S:Envelope xmlns:S="' + SOAP_ENV.encode() + b'"><S:Body><',
        status=200,
        content_type="text/xml;charset=utf-8",
    )

"""Invoices that go by post: the printable PDF, addressed, as a note on the invoice.

The office prints the invoices marked *To print* from their notes (``annotation`` rows
with the PDF as the document). Only people who chose post and whose address the policy lets
be printed get here (:mod:`.channels`), so a protected identity's address is never put on
paper. The note's id derives from the invoice's key, so it is attached once.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import DuplicateRecordError

from .document import InvoiceDocument
from .pdf import invoice_pdf

NOTE_NAMESPACE = uuid.UUID("5d2e8f41-7c3b-5a9e-8b1d-6f0a4c2e9b73")


class PrintLetters:
    """Attaches the addressed invoice PDF to invoices that go by post."""

    def __init__(self, client: DataverseClient, schema: SchemaMap) -> None:
        self._client = client
        self._schema = schema

    def attach(
        self, key: str, invoice_id: str, document: InvoiceDocument, contact: Mapping[str, Any]
    ) -> None:
        """The note with the PDF, addressed to the contact, on the invoice (once per key)."""
        n = self._schema.note
        letter = replace(document, address=address_lines(self._schema, contact))
        record = {
            n.subject: letter.title,
            n.text: letter.title,
            n.file_name: letter.file_name,
            n.mime_type: "application/pdf",
            n.body: base64.b64encode(invoice_pdf(letter)).decode("ascii"),
            n.is_document: True,
            n.object_type: self._schema.invoice.table,
            f"{n.invoice_nav}@odata.bind": odata.bind(self._schema.invoice.entity_set, invoice_id),
        }
        note_id = str(uuid.uuid5(NOTE_NAMESPACE, key))
        try:
            self._client.upsert(n.entity_set, note_id, record, mode=UpsertMode.CREATE_ONLY)
        except DuplicateRecordError:
            return


def address_lines(schema: SchemaMap, contact: Mapping[str, Any]) -> tuple[str, ...]:
    """The postal address as printed: name, street lines, postal code and city, country."""
    c = schema.contact
    name = f"{contact.get(c.first_name) or ''} {contact.get(c.last_name) or ''}".strip()
    town = f"{contact.get(c.postal_code) or ''} {contact.get(c.city) or ''}".strip()
    lines = (name, contact.get(c.address_line1), contact.get(c.address_line2), town,
             contact.get(c.country))
    return tuple(str(line) for line in lines if line)

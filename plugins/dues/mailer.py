"""Invoice and reminder e-mails: a Dataverse e-mail activity with the invoice PDF attached.

The activity is created under an id derived from what it is for (the invoice's key, or the
reminder's event key) with its parties and its attachment (``activitymimeattachment``)
deep-inserted, then sent with ``SendEmail``. A second attempt finds it and sends it only if
it is still open, so an invoice is e-mailed once whatever fails in between.
"""

from __future__ import annotations

import base64
import html
import uuid

from plugins.core.schema_map import SchemaMap
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.emails import EmailActivities, Message
from plugins.dataverse.errors import DuplicateRecordError

from .document import InvoiceDocument
from .pdf import invoice_pdf
from .texts import say

MAIL_NAMESPACE = uuid.UUID("8c4d3b9e-2f6a-5e1d-b7c8-9a0f1e2d3c4b")
PDF = "application/pdf"


class InvoiceMailer:
    """Sends invoices and reminders as e-mails with the PDF."""

    def __init__(self, client: DataverseClient, schema: SchemaMap) -> None:
        self._client = client
        self._schema = schema
        self._emails = EmailActivities(client, schema.email, schema.contact.entity_set)

    def send(self, key: str, contact_id: str, first_name: str, document: InvoiceDocument) -> None:
        """E-mail ``document`` to the contact, once per ``key``."""
        lang = document.language
        org = document.organisation
        subject = say(lang, "reminder_subject" if document.reminder else "invoice_subject",
                      org=org)
        body = say(lang, "reminder_body" if document.reminder else "invoice_body")
        rows = "".join(
            f"<tr><th scope=\"row\">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
            for label, value in document.lines()
        )
        page = (
            f"<p>{html.escape(say(lang, 'greeting', name=first_name))}</p>"
            f"<p>{html.escape(body)}</p><table>{rows}</table>"
            f"<p>{html.escape(say(lang, 'use_reference'))}</p>"
        )
        email_id = str(uuid.uuid5(MAIL_NAMESPACE, key))
        record = self._emails.record(Message(contact_id, subject, page))
        a = self._schema.attachment
        record[a.email_nav] = [{
            a.file_name: document.file_name,
            a.mime_type: PDF,
            a.body: base64.b64encode(invoice_pdf(document)).decode("ascii"),
            a.object_type: self._schema.email.table,
        }]
        try:
            self._client.upsert(
                self._emails.entity_set, email_id, record, mode=UpsertMode.CREATE_ONLY
            )
        except DuplicateRecordError:
            if not self._emails.is_open(email_id):
                return
        self._emails.send(email_id)

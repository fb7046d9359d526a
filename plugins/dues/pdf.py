"""The printable invoice: a one-page PDF (fpdf2, pure Python, its core Latin-1 fonts)."""

from __future__ import annotations

from fpdf import FPDF

from .document import InvoiceDocument
from .texts import say

_MARGIN = 20


def invoice_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as PDF bytes: organisation, address window (post only), facts, how to pay."""
    pdf = FPDF(format="A4")
    pdf.set_margins(_MARGIN, _MARGIN)
    pdf.set_auto_page_break(False)
    pdf.set_creator(document.organisation or "member-plugins")
    pdf.set_title(document.title)
    pdf.set_lang(document.language)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _latin(document.organisation), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.set_xy(110, 35)
    for line in document.address:
        pdf.cell(80, 6, _latin(line), new_x="LEFT", new_y="NEXT")
    pdf.set_xy(_MARGIN, 75)
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 10, _latin(document.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value in document.lines():
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(55, 8, _latin(label))
        pdf.set_font("helvetica", "", 11)
        pdf.cell(0, 8, _latin(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.multi_cell(0, 6, _latin(say(document.language, "use_reference")))
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """Text the core fonts can draw (Latin-1)."""
    return text.encode("latin-1", "replace").decode("latin-1")

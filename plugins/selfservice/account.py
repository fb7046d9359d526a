"""The member's own page: membership, invoices and payments (with the invoice PDF), cases,
and the ways to update or unregister.

It is reached with the signed link e-mailed for updating one's details (the update page
links to it): the link's token, still valid and not yet used, names the person, and every
read is that person's. The page only reads; the update and unregistration it offers are the
existing pages, so a link still works once for its own purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from plugins.core.settings import DuesSettings
from plugins.dues.document import Issuer, document_of
from plugins.dues.pdf import invoice_pdf
from plugins.dues.texts import money

from .account_store import AccountStore
from .account_texts import account_text
from .frame import Visit
from .i18n import text
from .pages import SelfServicePages
from .signing import LinkPurpose, TokenError, TokenExpired, read_link_token
from .web import PageRequest, PageResponse


@dataclass(frozen=True)
class Pdf:
    """An invoice as a file to download."""

    name: str
    content: bytes


class AccountPages:
    """The member's page on top of the self-service pages' frame, keys and store."""

    def __init__(self, pages: SelfServicePages, store: AccountStore, dues: DuesSettings) -> None:
        self.pages = pages
        self.store = store
        self.dues = dues

    def page(self, request: PageRequest) -> PageResponse:
        """The page for the person the link's token names."""
        visit = self.pages.frame.visit(request)
        person, problem = self._person(request)
        if person is None:
            return problem
        lang = visit.lang
        say = partial(account_text, lang)
        token = request.route.get("token", "")
        invoices = self.store.invoices(person)
        return self.pages.frame.page(
            visit, "account.html", 200, say("title"),
            a=say,
            memberships=self.store.memberships(person),
            invoices=invoices,
            amount=lambda line: money(line.amount, line.currency),
            paid=lambda line: money(line.paid_amount, line.currency),
            owing=any(line.status in ("open", "partly-paid") for line in invoices),
            cases=self.store.cases(person),
            pdf_base=f"{visit.base}/account/{token}/invoice",
            update_href=f"{visit.base}/link/{token}?lang={lang}",
            unregister_href=f"{visit.base}/unregister?lang={lang}",
        )

    def invoice(self, request: PageRequest) -> Pdf | PageResponse:
        """The invoice as PDF, when it is the person's; else the page's problem answer."""
        person, problem = self._person(request)
        if person is None:
            return problem
        row = self.store.invoice_row(person, request.route.get("invoice", ""))
        if row is None:
            visit = self.pages.frame.visit(request)
            return self.pages.frame.message(visit, 404, "not_found_title", ["not_found_text"])
        issuer = Issuer(
            self.pages.settings.organisation_name, self.dues.payee_name,
            self.dues.payee_account, self.dues.language,
        )
        document = document_of(self.pages.schema, issuer, row, self.store.contact_row(person))
        return Pdf(document.file_name, invoice_pdf(document))

    def _person(self, request: PageRequest) -> tuple[str | None, PageResponse]:
        """The person the route's token names, or the answer for a token that does not."""
        visit = self.pages.frame.visit(request)
        try:
            link = read_link_token(self.pages.keys, request.route.get("token", ""),
                                   self.pages.clock())
        except TokenExpired:
            return None, self._problem(visit, "link_expired", 410)
        except TokenError:
            return None, self._problem(visit, "link_invalid", 400)
        record = self.pages.store.open_link(link)
        if record is None or record.contact is None:
            return None, self._problem(visit, "link_invalid", 400)
        if record.used:
            return None, self._problem(visit, "link_used", 410)
        return record.contact.id, PageResponse(200)

    def _problem(self, visit: Visit, problem: str, status: int) -> PageResponse:
        lang = visit.lang
        return self.pages.frame.page(
            visit, "message.html", status, text(lang, f"{problem}_title"),
            paragraphs=[text(lang, f"{problem}_text")],
            action_href=f"{visit.base}/{LinkPurpose.UPDATE.value}?lang={lang}",
            action_label=text(lang, "request_new_link"),
        )


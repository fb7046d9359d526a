"""The member's own page: membership, invoices and payments (with the invoice PDF), cases,
and the ways to update or unregister.

It is reached with the signed link e-mailed for updating one's details (the update page
links to it): the link's token, still valid and not yet used, names the person. Or by
signing in with the OpenID Connect provider (``.../account`` offers both): the provider's
verified e-mail address must belong to exactly one contact, and the page is then opened with
a session token valid for ``SESSION_MINUTES``. Every read is that person's. The page only
reads; the update and unregistration it offers are the existing pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial

from plugins.core.lazy import LazyModule
from plugins.core.settings import DuesSettings
from plugins.dues.document import Issuer, document_of
from plugins.dues.texts import money

from .account_session import session_contact, session_token, sign_in_state, state_language
from .account_store import AccountStore
from .account_texts import account_text
from .frame import Visit
from .i18n import TEXTS, text
from .oidc import OidcError
from .pages import SelfServicePages
from .signing import LinkPurpose, TokenError, TokenExpired, read_link_token
from .web import PageRequest, PageResponse

# The PDF library (fpdf2 with numpy and fontTools, the product's heaviest import) is paid by the
# first invoice opened, not by every visit to the page.
pdf = LazyModule("plugins.dues.pdf")

log = logging.getLogger(__name__)
SESSION_MINUTES = 30


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

    def start(self, request: PageRequest) -> PageResponse:
        """The way in: sign in with the provider, or have a link e-mailed."""
        visit = self.pages.frame.visit(request)
        lang = visit.lang
        oidc = self.pages.oidc
        return self.pages.frame.page(
            visit, "account_start.html", 200, account_text(lang, "title"),
            a=partial(account_text, lang),
            signin_href=f"{visit.base}/account-signin?lang={lang}" if oidc else None,
            signin_provider=oidc.display_name if oidc else "",
            link_href=f"{visit.base}/{LinkPurpose.UPDATE.value}?lang={lang}",
        )

    def signin(self, request: PageRequest) -> PageResponse:
        """Off to the provider, to come back to :meth:`signin_callback`."""
        visit = self.pages.frame.visit(request)
        oidc = self.pages.oidc
        if oidc is None:
            return self.pages.frame.message(visit, 404, "not_found_title", ["not_found_text"])
        keys = self.pages.keys
        state = sign_in_state(keys, visit.session_id, visit.lang, self.pages.clock())
        try:
            url = oidc.authorization_url(
                self._callback(), state, keys.derive("account-nonce", state),
                keys.derive("account-pkce", state), visit.lang,
            )
        except OidcError as exc:
            log.warning("selfservice: provider unavailable: %s", type(exc).__name__)
            return self._failed(visit, 503)
        return self.pages.frame.redirect_to(visit, url)

    def signin_callback(self, request: PageRequest) -> PageResponse:
        """Back from the provider: the page of the one contact with the verified address."""
        visit = self.pages.frame.visit(request)
        oidc = self.pages.oidc
        if oidc is None:
            return self.pages.frame.message(visit, 404, "not_found_title", ["not_found_text"])
        keys = self.pages.keys
        state = request.query.get("state", "")
        try:
            lang = state_language(keys, state, visit.session_id, self.pages.clock())
            code = request.query.get("code", "")
            if not code:
                raise OidcError("no code")
            identity = oidc.identity(
                code, self._callback(), keys.derive("account-pkce", state),
                keys.derive("account-nonce", state),
            )
        except (OidcError, TokenError) as exc:
            log.warning("selfservice: account sign-in failed: %s", type(exc).__name__)
            return self._failed(visit, 400)
        if lang in TEXTS:
            visit = replace(visit, lang=lang)  # type: ignore[arg-type]
        people = self.pages.store.recipients(identity.email) if identity.email else []
        if len(people) != 1:
            log.info("selfservice: account sign-in matched %d people", len(people))
            return self._failed(visit, 404)
        token = session_token(keys, people[0].contact_id, self.pages.clock(),
                              timedelta(minutes=SESSION_MINUTES))
        return self.pages.frame.redirect(visit, f"account/{token}")

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
        return Pdf(document.file_name, pdf.invoice_pdf(document))

    def _person(self, request: PageRequest) -> tuple[str | None, PageResponse]:
        """The person the route's token names, or the answer for a token that does not."""
        visit = self.pages.frame.visit(request)
        token = request.route.get("token", "")
        now = self.pages.clock()
        try:
            link = read_link_token(self.pages.keys, token, now)
        except TokenExpired:
            return None, self._problem(visit, "link_expired", 410)
        except TokenError:
            try:
                return session_contact(self.pages.keys, token, now), PageResponse(200)
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

    def _failed(self, visit: Visit, status: int) -> PageResponse:
        lang = visit.lang
        return self.pages.frame.page(
            visit, "message.html", status, account_text(lang, "signin_failed_title"),
            paragraphs=[account_text(lang, "signin_failed")],
            action_href=f"{visit.base}/{LinkPurpose.UPDATE.value}?lang={lang}",
            action_label=account_text(lang, "email_link"),
        )

    def _callback(self) -> str:
        return f"{self.pages.frame.public_base()}/account-signin/callback"

    def _problem(self, visit: Visit, problem: str, status: int) -> PageResponse:
        lang = visit.lang
        return self.pages.frame.page(
            visit, "message.html", status, text(lang, f"{problem}_title"),
            paragraphs=[text(lang, f"{problem}_text")],
            action_href=f"{visit.base}/{LinkPurpose.UPDATE.value}?lang={lang}",
            action_label=text(lang, "request_new_link"),
        )


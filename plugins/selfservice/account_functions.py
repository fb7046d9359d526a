"""The member's own page as HTTP-triggered functions (anonymous: the signed link is the key).

``GET /api/mypage/account/{token}`` is the page; ``.../invoice/{invoice}`` one of the
person's invoices as PDF. Failures answer as the other pages do ("try again later", 503).
"""

from __future__ import annotations

import logging
import threading

import azure.functions as func

from plugins.core.settings import Settings
from plugins.dataverse.errors import DataverseError

from .account import AccountPages, Pdf
from .account_store import AccountStore
from .functions import http_response, page_request
from .runtime import NotConfigured, current_frame, current_pages
from .web import PageRequest

log = logging.getLogger(__name__)
blueprint = func.Blueprint()
_ANONYMOUS = func.AuthLevel.ANONYMOUS
_lock = threading.Lock()
_built: dict[int, AccountPages] = {}


@blueprint.route(route="mypage/account/{token}", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_account(req: func.HttpRequest) -> func.HttpResponse:
    """The member's page: membership, invoices and payments, cases."""
    return _answer(req, pdf=False)


@blueprint.route(
    route="mypage/account/{token}/invoice/{invoice}", methods=["GET"], auth_level=_ANONYMOUS
)
def mypage_account_invoice(req: func.HttpRequest) -> func.HttpResponse:
    """One of the member's invoices as PDF."""
    return _answer(req, pdf=True)


def _answer(req: func.HttpRequest, *, pdf: bool) -> func.HttpResponse:
    request = page_request(req) or PageRequest(method="GET", url=req.url)
    try:
        account = _account()
        if not pdf:
            return http_response(account.page(request))
        answer = account.invoice(request)
        if isinstance(answer, Pdf):
            return func.HttpResponse(answer.content, status_code=200, headers={
                "Content-Type": "application/pdf",
                "Content-Disposition": f'inline; filename="{answer.name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            })
        return http_response(answer)
    except NotConfigured as exc:
        log.error("selfservice: not configured: %s", exc)
    except DataverseError as exc:
        log.error("selfservice: account page failed: %s", type(exc).__name__)
    return http_response(current_frame().unavailable(request))


def _account() -> AccountPages:
    """The account pages on the current self-service pages (rebuilt with them)."""
    pages = current_pages()
    with _lock:
        account = _built.get(id(pages))
        if account is None:
            _built.clear()
            account = AccountPages(
                pages, AccountStore(pages.store.client, pages.schema),  # type: ignore[attr-defined]
                Settings().dues,
            )
            _built[id(pages)] = account
        return account

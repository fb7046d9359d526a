"""The member's own page as HTTP-triggered functions (anonymous: the signed link is the key).

``GET /api/mypage/account/{token}`` is the page; ``.../invoice/{invoice}`` one of the
person's invoices as PDF; ``/api/mypage/account`` the way in (sign in with the OpenID
Connect provider through ``account-signin``, or have a link e-mailed). Failures answer as
the other pages do ("try again later", 503).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import azure.functions as func

from plugins.core.body_limits import PAGE_MAX_BYTES, body_too_large
from plugins.core.settings_groups import SettingsError, load_group
from plugins.dataverse.errors import DataverseError

from .account import AccountPages, Pdf
from .account_store import AccountStore
from .functions import http_response, page_request
from .oidc import OidcError
from .runtime import NotConfigured, current_frame, current_pages
from .web import PageRequest, PageResponse

log = logging.getLogger(__name__)
blueprint = func.Blueprint()
_ANONYMOUS = func.AuthLevel.ANONYMOUS
_lock = threading.Lock()
_built: dict[int, AccountPages] = {}


@blueprint.route(route="mypage/account", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_account_start(req: func.HttpRequest) -> func.HttpResponse:
    """The way to the member's page: sign in, or have a link e-mailed."""
    return _answer(req, page=AccountPages.start)


@blueprint.route(route="mypage/account-signin", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_account_signin(req: func.HttpRequest) -> func.HttpResponse:
    """Off to the OpenID Connect provider."""
    return _answer(req, page=AccountPages.signin)


@blueprint.route(route="mypage/account-signin/callback", methods=["GET"],
                 auth_level=_ANONYMOUS)
def mypage_account_signin_callback(req: func.HttpRequest) -> func.HttpResponse:
    """Back from the provider, on to the member's page."""
    return _answer(req, page=AccountPages.signin_callback)


@blueprint.route(route="mypage/account/{token}", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_account(req: func.HttpRequest) -> func.HttpResponse:
    """The member's page: membership, invoices and payments, cases."""
    return _answer(req, page=AccountPages.page)


@blueprint.route(
    route="mypage/account/{token}/invoice/{invoice}", methods=["GET"], auth_level=_ANONYMOUS
)
def mypage_account_invoice(req: func.HttpRequest) -> func.HttpResponse:
    """One of the member's invoices as PDF."""
    return _answer(req, page=AccountPages.invoice)


def _answer(
    req: func.HttpRequest, *, page: Callable[[AccountPages, PageRequest], PageResponse | Pdf]
) -> func.HttpResponse:
    if body_too_large(req.headers, len(req.get_body()), PAGE_MAX_BYTES):
        log.info("selfservice: a body of %d bytes refused (413)", len(req.get_body()))
        return http_response(current_frame().too_large(PageRequest(method="GET", url=req.url)))
    request = page_request(req) or PageRequest(method="GET", url=req.url)
    try:
        answer = page(_account(), request)
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
    except SettingsError:
        pass  # the settings loader has logged it, once
    except (DataverseError, OidcError) as exc:
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
                load_group("dues"),
            )
            _built[id(pages)] = account
        return account

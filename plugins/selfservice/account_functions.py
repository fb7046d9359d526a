"""The member's own page as HTTP-triggered functions (anonymous: the signed link is the key).

``GET /api/mypage/account/{token}`` is the page; ``.../invoice/{invoice}`` one of the
person's invoices as PDF; ``/api/mypage/account`` the way in (sign in with the OpenID
Connect provider through ``account-signin``, or have a link e-mailed). Failures answer as
the other pages do ("try again later", 503). The account pages are imported on the first
request, and the PDF library on the first invoice (:class:`plugins.core.lazy.LazyModule`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import azure.functions as func

from plugins.core.body_limits import PAGE_MAX_BYTES, body_too_large
from plugins.core.lazy import LazyModule

from .functions import http_response, page_request

if TYPE_CHECKING:
    from .account import AccountPages, Pdf
    from .web import PageRequest, PageResponse

account = LazyModule("plugins.selfservice.account")
account_store = LazyModule("plugins.selfservice.account_store")
dataverse_errors = LazyModule("plugins.dataverse.errors")
oidc = LazyModule("plugins.selfservice.oidc")
runtime = LazyModule("plugins.selfservice.runtime")
settings_groups = LazyModule("plugins.core.settings_groups")
web = LazyModule("plugins.selfservice.web")

log = logging.getLogger(__name__)
blueprint = func.Blueprint()
_ANONYMOUS = func.AuthLevel.ANONYMOUS
_lock = threading.Lock()
_built: dict[int, AccountPages] = {}


@blueprint.route(route="mypage/account", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_account_start(req: func.HttpRequest) -> func.HttpResponse:
    """The way to the member's page: sign in, or have a link e-mailed."""
    return _answer(req, page=lambda pages, r: pages.start(r))


@blueprint.route(route="mypage/account-signin", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_account_signin(req: func.HttpRequest) -> func.HttpResponse:
    """Off to the OpenID Connect provider."""
    return _answer(req, page=lambda pages, r: pages.signin(r))


@blueprint.route(route="mypage/account-signin/callback", methods=["GET"],
                 auth_level=_ANONYMOUS)
def mypage_account_signin_callback(req: func.HttpRequest) -> func.HttpResponse:
    """Back from the provider, on to the member's page."""
    return _answer(req, page=lambda pages, r: pages.signin_callback(r))


@blueprint.route(route="mypage/account/{token}", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_account(req: func.HttpRequest) -> func.HttpResponse:
    """The member's page: membership, invoices and payments, cases."""
    return _answer(req, page=lambda pages, r: pages.page(r))


@blueprint.route(
    route="mypage/account/{token}/invoice/{invoice}", methods=["GET"], auth_level=_ANONYMOUS
)
def mypage_account_invoice(req: func.HttpRequest) -> func.HttpResponse:
    """One of the member's invoices as PDF."""
    return _answer(req, page=lambda pages, r: pages.invoice(r))


def _answer(
    req: func.HttpRequest,
    *,
    page: Callable[[AccountPages, PageRequest], PageResponse | Pdf],
) -> func.HttpResponse:
    if body_too_large(req.headers, len(req.get_body()), PAGE_MAX_BYTES):
        log.info("selfservice: a body of %d bytes refused (413)", len(req.get_body()))
        return http_response(
            runtime.current_frame().too_large(web.PageRequest(method="GET", url=req.url))
        )
    request = page_request(req) or web.PageRequest(method="GET", url=req.url)
    try:
        answer = page(_account(), request)
        if isinstance(answer, account.Pdf):
            return func.HttpResponse(answer.content, status_code=200, headers={
                "Content-Type": "application/pdf",
                "Content-Disposition": f'inline; filename="{answer.name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            })
        return http_response(answer)
    except runtime.NotConfigured as exc:
        log.error("selfservice: not configured: %s", exc)
    except settings_groups.SettingsError:
        pass  # the settings loader has logged it, once
    except (dataverse_errors.DataverseError, oidc.OidcError) as exc:
        log.error("selfservice: account page failed: %s", type(exc).__name__)
    return http_response(runtime.current_frame().unavailable(request))


def _account() -> AccountPages:
    """The account pages on the current self-service pages (rebuilt with them)."""
    pages = runtime.current_pages()
    with _lock:
        built = _built.get(id(pages))
        if built is None:
            _built.clear()
            built = account.AccountPages(
                pages,
                account_store.AccountStore(pages.store.client, pages.schema),  # type: ignore[attr-defined]
                settings_groups.load_group("dues"),
            )
            _built[id(pages)] = built
        return built

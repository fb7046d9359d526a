"""The self-service pages as HTTP-triggered functions (anonymous: they are public pages).

Each trigger converts the request, calls one page, and converts the answer. When Dataverse
or the configuration fails, the person gets a "try again later" page (503), never a trace.
The page modules (templates, forms, sign-in) are imported on the first request, so an
instance that serves only the queue never loads them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import azure.functions as func

from plugins.dataverse.errors import DataverseError

if TYPE_CHECKING:
    from .pages import SelfServicePages
    from .web import PageRequest, PageResponse

log = logging.getLogger(__name__)

blueprint = func.Blueprint()

_ANONYMOUS = func.AuthLevel.ANONYMOUS
_MAX_FORM_BYTES = 64 * 1024
Page = Callable[["SelfServicePages", "PageRequest"], "PageResponse"]


@blueprint.route(route="mypage", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_home(req: func.HttpRequest) -> func.HttpResponse:
    """The start page."""
    return _answer(req, lambda pages, r: pages.home(r))


@blueprint.route(route="mypage/register", methods=["GET", "POST"], auth_level=_ANONYMOUS)
def mypage_register(req: func.HttpRequest) -> func.HttpResponse:
    """The registration form."""
    return _answer(req, lambda pages, r: pages.register(r))


@blueprint.route(route="mypage/update", methods=["GET", "POST"], auth_level=_ANONYMOUS)
def mypage_update(req: func.HttpRequest) -> func.HttpResponse:
    """Asking for a link to update one's details."""
    return _answer(req, lambda pages, r: pages.request_link(r, _purpose("UPDATE")))


@blueprint.route(route="mypage/unregister", methods=["GET", "POST"], auth_level=_ANONYMOUS)
def mypage_unregister(req: func.HttpRequest) -> func.HttpResponse:
    """Asking for a link to unregister."""
    return _answer(req, lambda pages, r: pages.request_link(r, _purpose("UNREGISTER")))


@blueprint.route(route="mypage/link/{token}", methods=["GET", "POST"], auth_level=_ANONYMOUS)
def mypage_link(req: func.HttpRequest) -> func.HttpResponse:
    """The page an e-mailed link opens."""
    return _answer(req, lambda pages, r: pages.link(r))


@blueprint.route(route="mypage/done/{outcome}", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_done(req: func.HttpRequest) -> func.HttpResponse:
    """What happens next, after a submission."""
    return _answer(req, lambda pages, r: pages.done(r))


@blueprint.route(route="mypage/signin", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_signin(req: func.HttpRequest) -> func.HttpResponse:
    """Off to the OpenID Connect provider."""
    return _answer(req, lambda pages, r: pages.signin(r))


@blueprint.route(route="mypage/signin/callback", methods=["GET"], auth_level=_ANONYMOUS)
def mypage_signin_callback(req: func.HttpRequest) -> func.HttpResponse:
    """Back from the OpenID Connect provider."""
    return _answer(req, lambda pages, r: pages.signin_callback(r))


def _purpose(name: str) -> Any:
    from .signing import LinkPurpose

    return LinkPurpose[name]


def _answer(req: func.HttpRequest, page: Page) -> func.HttpResponse:
    from .oidc import OidcError
    from .runtime import NotConfigured, current_frame, current_pages

    request = page_request(req)
    try:
        if request is None:
            return http_response(current_frame().bad_request(_fallback(req)))
        return http_response(page(current_pages(), request))
    except NotConfigured as exc:
        log.error("selfservice: not configured: %s", exc)
    except (DataverseError, OidcError) as exc:
        log.error("selfservice: %s failed: %s", type(exc).__name__, exc)
    return http_response(current_frame().unavailable(request or _fallback(req)))


def page_request(req: func.HttpRequest) -> PageRequest | None:
    """The plain request; None when the form body is too large or not UTF-8 form data."""
    from .web import PageRequest

    form: dict[str, list[str]] = {}
    if req.method == "POST":
        body = req.get_body()
        if len(body) > _MAX_FORM_BYTES:
            return None
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
        except (UnicodeDecodeError, ValueError):
            return None
    return PageRequest(
        method=req.method.upper(),
        url=req.url,
        query=dict(req.params),
        form=form,
        headers={name.lower(): value for name, value in req.headers.items()},
        route=dict(req.route_params),
    )


def http_response(response: PageResponse) -> func.HttpResponse:
    """The ``func.HttpResponse`` for a page's answer."""
    return func.HttpResponse(
        response.body or None, status_code=response.status, headers=response.headers
    )


def _fallback(req: func.HttpRequest) -> PageRequest:
    from .web import PageRequest

    return PageRequest(
        method="GET",
        url=req.url,
        query=dict(req.params),
        headers={name.lower(): value for name, value in req.headers.items()},
    )

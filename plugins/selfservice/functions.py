"""The self-service pages as HTTP-triggered functions (anonymous: they are public pages).

Each trigger converts the request, calls one page, and converts the answer. The pages (their
templates, forms, sign-in and Dataverse store) are imported on the first request
(:class:`plugins.core.lazy.LazyModule`), not when the Function App starts. When Dataverse
or the configuration fails (a bad ``SELFSERVICE__*``, ``DATAVERSE__*`` or ``SCHEMA_MAP__*``
value), the person gets a "try again later" page (503), never a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import azure.functions as func

from plugins.core.body_limits import PAGE_MAX_BYTES, body_too_large
from plugins.core.lazy import LazyModule

if TYPE_CHECKING:
    from .pages import SelfServicePages
    from .web import PageRequest, PageResponse

dataverse_errors = LazyModule("plugins.dataverse.errors")
oidc = LazyModule("plugins.selfservice.oidc")
runtime = LazyModule("plugins.selfservice.runtime")
settings_groups = LazyModule("plugins.core.settings_groups")
signing = LazyModule("plugins.selfservice.signing")
web = LazyModule("plugins.selfservice.web")

log = logging.getLogger(__name__)

blueprint = func.Blueprint()

_ANONYMOUS = func.AuthLevel.ANONYMOUS
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
    return _answer(req, lambda pages, r: pages.request_link(r, signing.LinkPurpose.UPDATE))


@blueprint.route(route="mypage/unregister", methods=["GET", "POST"], auth_level=_ANONYMOUS)
def mypage_unregister(req: func.HttpRequest) -> func.HttpResponse:
    """Asking for a link to unregister."""
    return _answer(
        req, lambda pages, r: pages.request_link(r, signing.LinkPurpose.UNREGISTER)
    )


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


def _answer(req: func.HttpRequest, page: Page) -> func.HttpResponse:
    if body_too_large(req.headers, len(req.get_body()), PAGE_MAX_BYTES):
        log.info("selfservice: a body of %d bytes refused (413)", len(req.get_body()))
        return http_response(runtime.current_frame().too_large(_fallback(req)))
    request = page_request(req)
    try:
        if request is None:
            return http_response(runtime.current_frame().bad_request(_fallback(req)))
        return http_response(page(runtime.current_pages(), request))
    except runtime.NotConfigured as exc:
        log.error("selfservice: not configured: %s", exc)
    except settings_groups.SettingsError:
        pass  # the settings loader has logged it, once
    except (dataverse_errors.DataverseError, oidc.OidcError) as exc:
        log.error("selfservice: %s failed: %s", type(exc).__name__, exc)
    return http_response(runtime.current_frame().unavailable(request or _fallback(req)))


def page_request(req: func.HttpRequest) -> PageRequest | None:
    """The plain request; None when the body is not UTF-8 form data."""
    form: dict[str, list[str]] = {}
    if req.method == "POST":
        body = req.get_body()
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
        except (UnicodeDecodeError, ValueError):
            return None
    return web.PageRequest(
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
    return web.PageRequest(
        method="GET",
        url=req.url,
        query=dict(req.params),
        headers={name.lower(): value for name, value in req.headers.items()},
    )

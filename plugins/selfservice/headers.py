"""The security headers of every page (pure).

The pages need no script at all, so the Content-Security-Policy allows none; the one inline
style block carries a per-response nonce. Framing is refused unless the organisation lists
the origins that may embed the pages (``frame-ancestors``; ``X-Frame-Options`` only when
there are none, since it cannot name origins). Pages hold personal data and one-time forms,
so nothing is cached and no referrer leaves (a link's token is in its URL).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(
    style_nonce: str,
    frame_ancestors: Sequence[str],
    image_origins: Sequence[str] = (),
    form_targets: Sequence[str] = (),
) -> str:
    """The CSP of a page: no scripts, own images (plus the logo's origin), own forms."""
    images = " ".join(["'self'", *image_origins])
    forms = " ".join(["'self'", *form_targets])
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src 'nonce-{style_nonce}'",
            f"img-src {images}",
            f"form-action {forms}",
            f"frame-ancestors {ancestors}",
            "base-uri 'none'",
        ]
    )


def security_headers(
    style_nonce: str,
    frame_ancestors: Sequence[str],
    *,
    https: bool,
    image_origins: Sequence[str] = (),
    form_targets: Sequence[str] = (),
) -> dict[str, str]:
    """Every security header of a page."""
    headers = {
        "Content-Security-Policy": content_security_policy(
            style_nonce, frame_ancestors, image_origins, form_targets
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if not frame_ancestors:
        headers["X-Frame-Options"] = "DENY"
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers

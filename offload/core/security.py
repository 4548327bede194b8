"""Response headers and safe redirects (see shared/security.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, url_for
from flask_login import current_user

CSP = ("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'; img-src 'self' data:")
# the site uses none of these browser features; an injected frame or script can't either
PERMISSIONS_POLICY = ("accelerometer=(), autoplay=(), camera=(), display-capture=(), "
                      "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                      "midi=(), payment=(), usb=(), xr-spatial-tracking=()")


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
    # a window this site opens, or that opened it, gets no handle on it (tabnabbing, XS-Leaks)
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config["PRODUCTION"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # member pages are never stored; a response whose URL names a version of its content
    # (a profile photo) says so with ``immutable`` and keeps its own caching. The member
    # is asked last: a static file's response then loads nobody.
    if (request.endpoint != "static" and not response.cache_control.immutable
            and current_user.is_authenticated):
        response.headers["Cache-Control"] = "no-store"
    return response


def allow_form_redirects_to(response: Response, origin: str | None) -> Response:
    """Let the forms of this page be redirected to ``origin`` after their POST (to a payment
    provider's page): Chrome applies the page's form-action to that redirect too."""
    if origin:
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {origin}")
    return response


def safe_next(target: str | None, default_endpoint: str = "pages.dashboard") -> str:
    """A local path to go to after log-in; anything pointing off the site is ignored."""
    if target:
        target = target.strip().replace("\\", "/")
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/")
                and not target.startswith("//")):
            return target
    return url_for(default_endpoint)


def init_security(app: Flask) -> None:
    app.after_request(add_security_headers)
    if app.config["PRODUCTION"]:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

"""Errors to Sentry, when ``SENTRY_DSN`` (``OFFLOAD_SENTRY_DSN``) is set; otherwise
sentry_sdk is not even imported.

What reaches Sentry is the error, its stack (without local variables) and the request's
method, URL and headers, scrubbed by ``scrub_event`` before it leaves: no request body
or form data (never collected: ``max_request_body_size="never"``), no cookies, no
``Authorization`` header, no query string, the path as its route's rule (``<token>``),
and every string that looks like an e-mail address replaced,
wherever it is in the event (a message, an exception's text, a breadcrumb, a header).
``send_default_pii=False``: no member, no IP address. A 500 is reported through the log
line the error handler writes (``offload.core.errors``; the handler catches it, so
Flask's own signal never fires), with its traceback.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, has_request_context

from offload.core.errors import logged_path

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
EMAIL_MASK = "[email]"
FILTERED = "[Filtered]"
# request parts never sent, and headers that carry credentials
DROPPED_REQUEST_KEYS = ("data", "cookies", "env")
SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization",
                  "x-csrftoken", "x-csrf-token"}


def init_sentry(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn, integrations=[FlaskIntegration()],
        environment="production" if app.config["PRODUCTION"] else "development",
        send_default_pii=False, include_local_variables=False,
        max_request_body_size="never", before_send=scrub_event,
        before_breadcrumb=lambda crumb, _hint: _scrub(crumb))


def scrub_event(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event without bodies, cookies and credentials, its e-mail addresses masked."""
    req = event.get("request")
    if isinstance(req, dict):
        for key in DROPPED_REQUEST_KEYS:
            req.pop(key, None)
        headers = req.get("headers")
        if isinstance(headers, dict):
            req["headers"] = {k: FILTERED if k.lower() in SECRET_HEADERS else v
                              for k, v in headers.items()}
        if req.get("query_string"):
            req["query_string"] = FILTERED  # a reset or invite link's token, an address
        if isinstance(req.get("url"), str) and has_request_context():
            # the route's rule for the path, as the logs hold it: a feed's token stays home
            origin = req["url"].split("/", 3)[:3]
            req["url"] = "/".join(origin) + logged_path()
    event.pop("user", None)
    return _scrub(event)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return EMAIL.sub(EMAIL_MASK, value)
    if isinstance(value, dict):
        return {_scrub(k) if isinstance(k, str) else k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value

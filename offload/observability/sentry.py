"""Errors to Sentry, when ``SENTRY_DSN`` (``OFFLOAD_SENTRY_DSN``) is set; otherwise
sentry_sdk is not even imported.

What reaches Sentry is the error, its stack (without local variables) and the request's
method, URL and harmless headers, scrubbed by ``scrub_event`` before it leaves: no
request body or form data (never collected: ``max_request_body_size="never"``), no
cookies, only the headers of ``SENT_HEADERS`` (a ``Referer`` or ``Origin`` may hold a
reset or invite link with its live token; any header we don't know may hold anything),
no query string, the path as its route's rule (``<token>``), and every string that
looks like an e-mail address replaced, wherever it is in the event (a message, an
exception's text, a breadcrumb, a header). An outgoing request's breadcrumb (the
stdlib integration's, which sees webhook deliveries and Stripe's calls) keeps its
method, status and the URL's scheme and host: a webhook's path and query are its
owner's secret.
``send_default_pii=False``: no member, no IP address. A 500 is reported through the log
line the error handler writes (``offload.core.errors``; the handler catches it, so
Flask's own signal never fires), with its traceback.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, has_request_context

from offload.core.errors import logged_path

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
EMAIL_MASK = "[email]"
FILTERED = "[Filtered]"
# request parts never sent, and the only headers that are (lower case)
DROPPED_REQUEST_KEYS = ("data", "cookies", "env")
SENT_HEADERS = frozenset({"user-agent", "accept", "accept-encoding", "accept-language",
                          "content-type", "content-length", "host", "x-request-id"})
# what an outgoing request's breadcrumb keeps besides its URL's scheme and host
SENT_HTTP_CRUMB_DATA = frozenset({"method", "http.method", "http.request.method",
                                  "status_code", "http.response.status_code", "reason"})


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
        before_breadcrumb=scrub_breadcrumb)


def scrub_event(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event without bodies, cookies and credentials, its e-mail addresses masked."""
    req = event.get("request")
    if isinstance(req, dict):
        for key in DROPPED_REQUEST_KEYS:
            req.pop(key, None)
        headers = req.get("headers")
        if isinstance(headers, dict):
            req["headers"] = {k: v for k, v in headers.items() if k.lower() in SENT_HEADERS}
        if req.get("query_string"):
            req["query_string"] = FILTERED  # a reset or invite link's token, an address
        if isinstance(req.get("url"), str) and has_request_context():
            # the route's rule for the path, as the logs hold it: a feed's token stays home
            origin = req["url"].split("/", 3)[:3]
            req["url"] = "/".join(origin) + logged_path()
        elif isinstance(req.get("url"), str):
            req["url"] = _origin(req["url"])
    event.pop("user", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict) and isinstance(breadcrumbs.get("values"), list):
        breadcrumbs["values"] = [scrub_breadcrumb(c) for c in breadcrumbs["values"]]
    return _scrub(event)


def scrub_breadcrumb(crumb: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """The breadcrumb with its e-mail addresses masked; an outgoing request's (type
    ``http``) with only its method, status and the URL's scheme and host."""
    data = crumb.get("data")
    if crumb.get("type") == "http" and isinstance(data, dict):
        kept = {k: v for k, v in data.items() if k in SENT_HTTP_CRUMB_DATA}
        url = data.get("url") or data.get("url.full")
        if isinstance(url, str):
            kept["url"] = _origin(url)
        crumb = {**crumb, "data": kept}
        crumb.pop("message", None)
    return _scrub(crumb)


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, without user, path, query or fragment."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a URL, or a port out of range
        return FILTERED
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}" if parts.scheme and host else FILTERED


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return EMAIL.sub(EMAIL_MASK, value)
    if isinstance(value, dict):
        return {_scrub(k) if isinstance(k, str) else k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value

"""Log lines and request ids.

The format is configuration: ``LOG_FORMAT=json`` (production's default) writes one JSON
object a line for a log shipper; ``text`` (development and the tests) keeps ``make
run``'s output readable as ``time LEVEL logger: message key=value ...``. JSON is made
by a formatter of a few lines over the standard library rather than a dependency:
the record's message, level, logger and time, the fields of the work at hand
(``offload.core.logs.log_context``: the request id, the worker's job and outbox row)
and the call's ``extra=`` fields.

Every request gets an id: the ``X-Request-ID`` its proxy set, when the app is behind
one it trusts (``PROXY_FIX_X_FOR`` hops, and the request came through them: it carries
``X-Forwarded-For``) and the value is sane (1 to 128 of ``A-Za-z0-9._-``); otherwise a
new uuid4. A client can send both headers itself, so the proxy must overwrite
``X-Request-ID`` (nginx: ``proxy_set_header X-Request-ID $request_id;``, as the README
says); the app can't tell a proxy's id from one the proxy passed on. The id is on every
line logged while the request runs, in the ``X-Request-ID`` response header and on the
error pages (``g.request_id``), so a member can quote it.
In JSON mode each request also ends with one ``request`` line: the member id (when the
request loaded its member), endpoint, method, status, duration. The development
server prints its own access lines, so text mode doesn't repeat them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextlib import suppress
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, request

from offload.core.errors import logged_path
from offload.core.logs import (
    KeyValueFormatter,
    bind_log_fields,
    extras_of,
    install_log_context,
    unbind_log_fields,
)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

requests_log = logging.getLogger("offload.requests")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the
    context's and the call's fields, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage(), **extras_of(record)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def log_format(app: Flask) -> str:
    chosen = app.config.get("LOG_FORMAT") or ("json" if app.config["PRODUCTION"] else "text")
    if chosen not in ("json", "text"):
        raise RuntimeError(f"LOG_FORMAT is {chosen!r}: set OFFLOAD_LOG_FORMAT to json or text")
    return chosen


def init_logging(app: Flask) -> None:
    """Give the root logger our handler in the chosen format, unless the host (pytest)
    has one of its own; a second app in the process (the tests make many) re-formats
    ours rather than adding another."""
    install_log_context()
    app.config["LOG_FORMAT"] = log_format(app)
    formatter = (JsonFormatter() if app.config["LOG_FORMAT"] == "json"
                 else KeyValueFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "offload", False)]
    if ours:
        ours[0].setFormatter(formatter)
        return
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.offload = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def request_id_of_request() -> str:
    """The proxy's ``X-Request-ID`` when it is to be believed, else a new id."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    through_proxy = (current_app.config["PROXY_FIX_X_FOR"] > 0
                     and "X-Forwarded-For" in request.headers)
    if through_proxy and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def init_request_ids(app: Flask) -> None:
    json_lines = app.config["LOG_FORMAT"] == "json"

    @app.before_request
    def _start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request_id_of_request()
        g.request_log_token = bind_log_fields(request_id=g.request_id)

    @app.after_request
    def _end_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is None:  # a request that failed before ours ran
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        if json_lines:
            requests_log.info("request", extra={
                "member_id": _member_id(), "endpoint": request.endpoint,
                "method": request.method, "path": logged_path(),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1)})
        return response

    @app.teardown_request
    def _forget_request(_error: BaseException | None) -> None:
        token = g.pop("request_log_token", None)
        if token is not None:
            # a token set in another context (a copied one) ends with that context
            with suppress(ValueError):
                unbind_log_fields(token)


def _member_id() -> int | None:
    """The signed-in member's id if this request loaded them (Flask-Login keeps the
    loaded user in ``g._login_user``): asking ``current_user`` would load them, a query
    that pages such as /healthz never make."""
    user = g.get("_login_user")
    return user.id if user is not None and user.is_authenticated else None

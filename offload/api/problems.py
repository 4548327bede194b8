"""Errors as ``application/problem+json`` (RFC 9457).

Every refusal the API gives has a stable ``type`` (a URN: the same on every deployment,
so a client can switch on it), a ``title`` that names the kind of problem, the HTTP
``status`` and a ``detail`` for this occurrence. A refusal about input lists the
fields (``errors``: where, which field, what was wrong).

- An ``OffloadError`` of a service: its type is named after its class
  (``InsufficientFunds`` → ``urn:offload:problem:insufficient-funds``), its status
  after the nearest class the API knows (a ``Conflict`` is 409, an ``Invalid`` 422,
  ``NotAllowed`` 403, any other refusal 422); ``detail`` is the member-facing message.
  An ``Idempotency-Key`` reused with another body (``KeyReused``) is a 422.
- An HTTP error (401, 403, 404, 405, 413, 422, 429, 500, ...): a type per status.
  Private things are 404, as on the pages: the same ``NotFound`` the queries raise.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Response, current_app, json
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed, OffloadError
from offload.ledger.idempotency import KeyReused

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:offload:problem:"

# the HTTP errors the API answers with: status → (type slug, title)
HTTP_PROBLEMS = {
    400: ("bad-request", "The request could not be read"),
    401: ("unauthorized", "A valid personal access token is required"),
    403: ("forbidden", "The token may not do this"),
    404: ("not-found", "There is nothing here"),
    405: ("method-not-allowed", "This method is not allowed here"),
    413: ("too-large", "The request is too large"),
    422: ("validation-failed", "The request's values are not valid"),
    429: ("rate-limited", "Too many requests"),
    500: ("server-error", "Something went wrong on our side"),
}

# the status of an OffloadError, by the nearest of these classes in its MRO
ERROR_STATUS: dict[type[OffloadError], int] = {
    KeyReused: 422, Conflict: 409, Invalid: 422, NotAllowed: 403, OffloadError: 422}
ERROR_TITLES = {
    409: "The thing changed or is taken", 422: "The request was refused by a rule",
    403: "You may not do this"}


def problem_type(slug: str) -> str:
    return TYPE_PREFIX + slug


def error_slug(error_class: type[OffloadError]) -> str:
    """``InsufficientFunds`` → ``insufficient-funds``: the class's name, kebab-cased."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", error_class.__name__).lower()


def problem(status: int, *, slug: str | None = None, title: str | None = None,
            detail: str | None = None, errors: list[dict] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """A problem+json response; ``slug`` and ``title`` default to the HTTP status's."""
    known_slug, known_title = HTTP_PROBLEMS.get(status, (None, None))
    slug = slug or known_slug
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title or known_title or _phrase(status),
        "status": status,
        "detail": detail or title or known_title or _phrase(status),
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status,
                                          mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def from_offload_error(error: OffloadError) -> Response:
    """The problem a service's refusal is: typed by its class, detailed by its message."""
    status = next(ERROR_STATUS[c] for c in type(error).__mro__ if c in ERROR_STATUS)
    errors = None
    if isinstance(error, KeyReused):
        return problem(422, slug=error_slug(KeyReused), title=ERROR_TITLES[422],
                       detail="This Idempotency-Key was already used for a different request.",
                       errors=[{"in": "headers", "field": "Idempotency-Key",
                                "message": "Used before with another body."}])
    field = getattr(error, "field", None) if isinstance(error, InvalidField) else None
    if field:
        errors = [{"in": "body", "field": field, "message": str(error)}]
    return problem(status, slug=error_slug(type(error)), title=ERROR_TITLES[status],
                   detail=str(error), errors=errors)


def from_http_error(status: int, error: HTTPException | None) -> Response:
    """The problem an HTTP error is (the app's error handlers call this for API paths).

    A 422 from argument parsing (webargs) carries its messages per location and field;
    a 401 asks for a bearer token (a 429's Retry-After is the blueprint's: views.py).
    """
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    data = getattr(error, "data", None) or {}
    errors = field_errors(data.get("messages")) if data else None
    detail = getattr(error, "api_detail", None)
    if detail is None and status not in (404, 500) and error is not None and error.description:
        detail = _own_description(error)
    return problem(status, detail=detail, errors=errors, headers=headers)


def field_errors(messages: Any) -> list[dict] | None:
    """webargs' ``{"query": {"sort": ["Must be one of: …"]}}`` as a list of
    ``{"in": "query", "field": "sort", "message": "Must be one of: …"}``."""
    if not isinstance(messages, dict):
        return None
    found = []
    for location, fields in messages.items():
        if not isinstance(fields, dict):
            continue
        for field, problems in fields.items():
            for message in problems if isinstance(problems, list) else [problems]:
                found.append({"in": _WHERE.get(location, location), "field": str(field),
                              "message": str(message)})
    return found or None


# webargs' location names as the problems name them: a JSON body is "body", as in a
# service's refusal of a field (``from_offload_error``)
_WHERE = {"json": "body"}


def _own_description(error: HTTPException) -> str | None:
    """An abort's own description; werkzeug's stock text for the status says nothing
    the title doesn't."""
    stock = type(error).description
    return None if error.description == stock else error.description


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

"""The ``api`` blueprint (at ``/api/v1``) and what every endpoint is made with.

Adding an endpoint is a function in the module of its area (``endpoints/``), on the
read model or service the pages use, with the decorators that say everything else::

    @bp.route("/gigs/<int:gig_id>", tags=["gigs"])
    @needs(READ)                                    # the scope; the member comes first
    @problem_response(404, "No such gig, or another member's draft")
    @bp.response(200, GigDetailSchema)              # schemas.py: the OpenAPI document
    def gig(member, gig_id: int):
        page = gig_page(gig_id, member)             # authorizes as the page does
        if page is None:
            raise NotFound()                        # a problem+json 404
        return Joined(page.gig, questions=page.questions, ...)

A list takes ``@bp.arguments(CursorQuery, location="query", as_kwargs=True)`` (or a
schema extending it) and returns ``paged(items, next_cursor)`` (``paging.py``) under
``@bp.response(200, ..., headers=LINK_HEADER)``. A POST that creates something answers
201 with a ``Location`` and documents, with ``@link(...)``, how to read it back. A
service's refusal (``OffloadError``) becomes a problem on its own (``problems.py``); a
write passes ``actor=member``.

Here too: every endpoint but the public ones needs a token before its arguments are
read (401), answers carry the RateLimit-* headers of the token's limit, and nothing
the API answers with a token is stored by a cache.
"""

from __future__ import annotations

import time
from functools import wraps

from flask import current_app, request
from flask_smorest import Blueprint

from offload.accounts.models import TokenScope
from offload.core.errors import OffloadError
from offload.core.extensions import csrf, limiter

from . import problems
from .auth import rate_key, require_scope, require_token
from .schemas.common import ProblemSchema

PREFIX = "/api/v1"
BEARER = "bearerAuth"
SCOPE_EXTENSION = "x-scope"  # an operation's scope, in the document
READ = TokenScope.READ.value
# served to anyone: the document, its docs page and the page's files
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs", "api.static"}

bp = Blueprint("api", __name__, url_prefix=PREFIX, static_folder="static",
               description="Offload's JSON API")


def needs(scope: str):
    """The endpoint needs a token with ``scope``; the view gets the member first."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(require_scope(scope), *args, **kwargs)

        # ``x-scope``: the same, for tools (the Schemathesis run picks its token by it)
        wrapped = bp.doc(security=[{BEARER: []}], **{SCOPE_EXTENSION: scope},
                         description=f"Needs a token with the `{scope}` scope.")(wrapped)
        for status, said in ((401, "No valid token"),
                             (403, f"The token lacks the `{scope}` scope"),
                             (429, "Too many requests with this token: see Retry-After")):
            wrapped = problem_response(status, said)(wrapped)
        return wrapped

    return decorate


def loaded(name: str, load):
    """The URL's ``<name>_id`` becomes ``name``, the object ``load(member, id)`` answers
    (a ``*_for`` query), loaded and authorized before the body is read, as the page does:
    another member's private thing is a 404 whatever was sent. Goes under ``@needs`` and
    above ``@bp.arguments``."""

    def decorate(view):
        @wraps(view)
        def wrapped(member, *args, **kwargs):
            kwargs[name] = load(member, kwargs.pop(f"{name}_id"))
            return view(member, *args, **kwargs)

        return wrapped

    return decorate


def stacked(*decorators):
    """The decorators as one, as if written one above the other in this order."""

    def decorate(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


def problem_response(status: int, description: str):
    """Document that the endpoint may answer ``status`` with a problem."""
    return bp.alt_response(status, schema=ProblemSchema, description=description,
                           content_type=problems.PROBLEM_JSON)


def link(name: str, path: str, *, method: str = "get", status: int = 201,
         **parameters: str):
    """Document an OpenAPI link from the endpoint's ``status`` answer to the operation at
    ``path`` (as in the document, under the prefix: ``/gigs/{gig_id}``), each of its
    parameters an expression on the answer (``gig_id="$response.body#/id"``). Clients
    and Schemathesis' stateful run (tests/api/test_schemathesis.py) follow links."""
    pointer = (PREFIX + path).replace("~", "~0").replace("/", "~1")
    return bp.doc(responses={status: {"links": {name: {
        "operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}}}})


# the Link header of a page (paging.py)
LINK_HEADER = {"Link": {"description": 'The next page: `<url>; rel="next"` (absent on '
                                       "the last page)", "schema": {"type": "string"}}}


# the Location header of what a write made
LOCATION_HEADER = {"Location": {"description": "Where what was made is read",
                                "schema": {"type": "string", "format": "uri"}}}


class Joined:
    """A read model with a few more attributes, for a schema that shows them together."""

    def __init__(self, base, **more) -> None:
        self._base, self._more = base, more

    def __getattr__(self, name: str):
        if name in self._more:
            return self._more[name]
        return getattr(self._base, name)


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_key)(bp)
csrf.exempt(bp)  # no cookie authenticates here (auth.py), so there is nothing to forge


@bp.before_request
def _token_first():
    """Every endpoint but the public ones needs a token, before its arguments are read."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        require_token()


@bp.after_request
def _headers(response):
    limit = limiter.current_limit
    if limit is not None:
        window = limit.limit.get_expiry()
        response.headers["RateLimit-Limit"] = str(limit.limit.amount)
        response.headers["RateLimit-Remaining"] = str(max(0, limit.remaining))
        reset = max(0, int(limit.reset_at - time.time()))
        response.headers["RateLimit-Reset"] = str(reset)
        response.headers["RateLimit-Policy"] = f"{limit.limit.amount};w={window}"
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, reset))
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(OffloadError)
def _refused(error: OffloadError):
    return problems.from_offload_error(error)

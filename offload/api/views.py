"""The API's blueprint (``api``, at ``/api/v1``), its endpoints and the OpenAPI document.

An endpoint is a few lines: its route, its query or body schema, its response schema,
the scope it needs, and the read model or service it calls::

    @bp.route("/gigs/<int:gig_id>")
    @needs(READ)
    @bp.response(200, GigDetailSchema)
    def gig(member, gig_id):
        page = gig_page(gig_id, member)
        ...

``needs(scope)`` checks the bearer token's scope (401 without a token, 403 without the
scope: ``auth.py``), passes the member (``SignedIn``) as the first argument, and
documents both in the OpenAPI document. A refusal of a service (``OffloadError``) and
every HTTP error answer as problem+json (``problems.py``).
"""

from __future__ import annotations

import http
import time
from functools import wraps

from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, render_template, request
from flask_smorest import Api, Blueprint
from flask_smorest import abort as abort_with
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import NotFound

from offload.accounts.models import TokenScope
from offload.core.errors import OffloadError, install_error_renderer
from offload.core.extensions import csrf, limiter
from offload.core.forms import ID_MAX
from offload.core.routing import RecordIdConverter
from offload.gigs.filters import BoardFilters
from offload.gigs.queries import board_page, gig_page
from offload.notifications.queries import notifications_page
from offload.notifications.services import mark_all_notifications_read

from . import problems
from .auth import rate_key, require_scope, require_token
from .paging import paged
from .schemas import (
    BoardQuery,
    CursorQuery,
    GigDetailSchema,
    GigPageSchema,
    MarkedReadSchema,
    MeSchema,
    NotificationPageSchema,
    ProblemSchema,
)

PREFIX = "/api/v1"
BEARER = "bearerAuth"
READ = TokenScope.READ.value
# served to anyone: the document, its docs page and the page's files
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs", "api.static"}

bp = Blueprint("api", __name__, url_prefix=PREFIX, static_folder="static",
               description="Offload's JSON API")


class OffloadApi(Api):
    """flask-smorest's ``Api`` with errors left to ``core.errors`` (which answers under
    /api/v1 with ``problems.from_http_error``) and documented as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        pass  # the app's own handlers answer, with problem+json on API paths

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def needs(scope: str):
    """The endpoint needs a token with ``scope``; the view gets the member first."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(require_scope(scope), *args, **kwargs)

        wrapped = bp.doc(security=[{BEARER: []}],
                         description=f"Needs a token with the `{scope}` scope.")(wrapped)
        for status, said in ((401, "No valid token"),
                             (403, f"The token lacks the `{scope}` scope"),
                             (429, "Too many requests with this token: see Retry-After")):
            wrapped = problem_response(status, said)(wrapped)
        return wrapped

    return decorate


def problem_response(status: int, description: str):
    """Document that the endpoint may answer ``status`` with a problem."""
    return bp.alt_response(status, schema=ProblemSchema, description=description,
                           content_type=problems.PROBLEM_JSON)


# the Link header of a page (paging.py)
LINK_HEADER = {"Link": {"description": 'The next page: `<url>; rel="next"` (absent on '
                                       "the last page)", "schema": {"type": "string"}}}


class _Joined:
    """A read model with a few more attributes, for a schema that shows them together."""

    def __init__(self, base, **more) -> None:
        self._base, self._more = base, more

    def __getattr__(self, name: str):
        if name in self._more:
            return self._more[name]
        return getattr(self._base, name)


# --- the member ---------------------------------------------------------------------------

@bp.route("/me", tags=["members"])
@needs(READ)
@bp.response(200, MeSchema)
def me(member):
    """The member the token speaks for"""
    return _Joined(member, scopes=sorted(require_token().scopes,
                                         key=[s.value for s in TokenScope].index))


# --- gigs -----------------------------------------------------------------------------------

@bp.route("/gigs", tags=["gigs"])
@needs(READ)
@bp.arguments(BoardQuery, location="query", as_kwargs=True)
@bp.response(200, GigPageSchema, headers=LINK_HEADER)
def gigs(member, cursor: str | None = None, limit: int | None = None, **_filters):
    """The board: open gigs, filtered, searched and sorted as on the board page"""
    filters, errors = BoardFilters.from_args(request.args)
    if errors:
        abort_with(422, messages={"query": {key: [message] for key, message in errors.items()}})
    page = board_page(filters, cursor, size=limit)
    return paged(page.items, page.next_cursor)


@bp.route("/gigs/<int:gig_id>", tags=["gigs"])
@needs(READ)
@problem_response(404, "No such gig, or one the member may not see (another's draft)")
@bp.response(200, GigDetailSchema)
def gig(member, gig_id: int):
    """One gig, with its questions and answers (a draft of another member is a 404)"""
    page = gig_page(gig_id, member)
    if page is None:
        raise NotFound()
    return _Joined(page.gig, questions=page.questions, client_details=page.client_details)


# --- notifications --------------------------------------------------------------------------

@bp.route("/notifications", tags=["notifications"])
@needs(READ)
@bp.arguments(CursorQuery, location="query", as_kwargs=True)
@bp.response(200, NotificationPageSchema, headers=LINK_HEADER)
def notifications(member, cursor: str | None = None, limit: int | None = None):
    """The member's notifications, newest first"""
    page = notifications_page(member.id, cursor, size=limit)
    return paged(page.items, page.next_cursor)


@bp.route("/notifications/read", methods=["POST"], tags=["notifications"])
@needs(READ)
@bp.response(200, MarkedReadSchema)
def read_notifications(member):
    """Mark every notification of the member read"""
    return {"marked": mark_all_notifications_read(actor=member)}


# --- the document and its page -----------------------------------------------------------

def openapi_json():
    """The OpenAPI 3.1 document, generated from the endpoints and schemas above."""
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def docs():
    """Swagger UI over the document, from the package's own files (no CDN, no inline
    script: the site's CSP holds here too)."""
    return render_template("api/docs.html")


# Flask's add_url_rule, not flask-smorest's: these are not operations of the API
for _rule, _view in (("/openapi.json", openapi_json), ("/docs", docs)):
    FlaskBlueprint.add_url_rule(bp, _rule, endpoint=_view.__name__, view_func=_view)


# --- wiring -------------------------------------------------------------------------------

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


def init_api(app: Flask) -> None:
    """Mount the API on ``app``: the OpenAPI document's settings, the blueprint, and
    problem+json for every error under /api/v1 (routing errors included)."""
    api = OffloadApi(app, spec_kwargs={
        "title": f"{app.config['SITE_NAME']} API", "version": "1",
        "openapi_version": "3.1.0",
        "info": {"description": DESCRIPTION},
        "servers": [{"url": app.config["CANONICAL_URL"].rstrip("/")}],
        "security": [{BEARER: []}],
    })
    api.spec.components.security_scheme(BEARER, {
        "type": "http", "scheme": "bearer",
        "description": "A personal access token, made in Settings → API tokens"})
    api.register_converter(RecordIdConverter,
                           lambda _: {"type": "integer", "minimum": 0, "maximum": ID_MAX})
    api.register_blueprint(bp)
    # flask-smorest tags the blueprint itself; the operations carry their own tags
    # (gigs, members, ...), so that one would be an empty section of the docs page
    api.spec._tags = [tag for tag in api.spec._tags if tag["name"] != bp.name]
    install_error_renderer(PREFIX + "/", problems.from_http_error)


DESCRIPTION = """Offload's JSON API, for members' own tools.

Authenticate with a personal access token (Settings → API tokens) in an
`Authorization: Bearer …` header; a browser's session cookie does not authenticate
here. Each token has scopes: `read` for every GET (and marking notifications read).

Lists are pages: follow `next` (also in the `Link` header) until it is null.
Errors are `application/problem+json` (RFC 9457) with a stable `type`
(`urn:offload:problem:<slug>`). Requests are limited per token; the `RateLimit-*`
headers say how many are left.
"""

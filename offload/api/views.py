"""Mounting the API (``init_api``, called by ``create_app``): the OpenAPI document's
settings, the blueprint with every endpoint module, the document and its docs page, and
problem+json for every error under /api/v1. How an endpoint is written:
``blueprint.py``.
"""

from __future__ import annotations

import http

from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, render_template
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from offload.core.errors import install_error_renderer
from offload.core.forms import ID_MAX
from offload.core.routing import RecordIdConverter

from . import problems
from .blueprint import BEARER, PREFIX, bp
from .endpoints import (  # noqa: F401 (each adds its routes)
    conversations,
    gig_writes,
    gigs,
    members,
    milestones,
    notifications,
    offers,
    projects,
    reviews,
    wallet,
)
from .schemas.common import ProblemSchema


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


# --- the document and its page -----------------------------------------------------------

def openapi_json():
    """The OpenAPI 3.1 document, generated from the endpoints and their schemas."""
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def docs():
    """Swagger UI over the document, from the package's own files (no CDN, no inline
    script: the site's CSP holds here too)."""
    return render_template("api/docs.html")


# Flask's add_url_rule, not flask-smorest's: these are not operations of the API
for _rule, _view in (("/openapi.json", openapi_json), ("/docs", docs)):
    FlaskBlueprint.add_url_rule(bp, _rule, endpoint=_view.__name__, view_func=_view)


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
here. Each token has scopes, and each operation names the one it needs (`x-scope`):
`read` for every GET (and marking notifications read); `offers` for posting, editing
and cancelling gigs, asking and answering questions, and making, negotiating, awarding
and accepting offers (an offer with a fee, on a task gig, needs `wallet` too: its fee
is charged, or held and charged when the award is accepted); `projects` for a
project's timeline, milestones (add, deliver, revision), messages, invoices and
reviews; `wallet` for the wallet (its GETs too: balances are money) and for whatever
moves money: funding and releasing a milestone, completing a referral, paying a
commission. Those also take an `Idempotency-Key` header: a retry with the same key and
body gets the first answer; the same key with another body is refused (422).

Lists are pages: follow `next` (also in the `Link` header) until it is null. Feeds
(a project's timeline, a conversation's messages) are read oldest first after `since`;
their `next` is always there: follow it for more, poll it later for what is new.
Errors are `application/problem+json` (RFC 9457) with a stable `type`
(`urn:offload:problem:<slug>`). Requests are limited per token; the `RateLimit-*`
headers say how many are left.
"""

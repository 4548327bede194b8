"""Who an API request speaks for: the personal access token in ``Authorization: Bearer``.

Only the bearer token authenticates. The session cookie is never read here, so a page
of another site that makes a member's browser call the API carries no credential (the
blueprint is exempt from CSRF because of this, and only because of this). A request
without a valid token is a 401; a token without the scope an endpoint needs is a 403.

A token carries no admin powers while TWO_FACTOR_REQUIRED_FOR_ADMINS is on: no second
factor stands behind a bearer token, so an admin's token speaks for them as a plain
member (``accounts.queries.without_admin_powers``); admin work is done on the site.

``holder()`` authenticates once per request (the rate limiter's key asks first) and
records the token's use at most once a minute (``accounts.services.record_token_use``).
"""

from __future__ import annotations

from dataclasses import replace

from flask import abort, current_app, g, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import Forbidden

from offload.accounts.queries import (
    SignedIn,
    TokenHolder,
    token_holder,
    without_admin_powers,
)
from offload.accounts.services import TOKEN_USE_PRECISION, record_token_use
from offload.core.db import utcnow

_NONE = object()


def holder() -> TokenHolder | None:
    """The token holder of this request, or None; looked up once per request."""
    found = g.get("api_holder", _NONE)
    if found is _NONE:
        found = _authenticate()
        g.api_holder = found
    return found


def _authenticate() -> TokenHolder | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    found = token_holder(secret.strip())
    if found is not None and found.member.is_admin \
            and current_app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"]:
        found = replace(found, member=without_admin_powers(found.member))
    if found is not None and (found.last_used_at is None or
                              found.last_used_at <= utcnow() - TOKEN_USE_PRECISION):
        record_token_use(found.token_id)
    return found


def require_token() -> TokenHolder:
    """The holder, or a 401 problem."""
    found = holder()
    if found is None:
        abort(401)
    return found


def require_scope(scope: str) -> SignedIn:
    """The member the token speaks for, if it has ``scope``; else 401 or 403."""
    found = require_token()
    if scope not in found.scopes:
        error = Forbidden()
        error.api_detail = f"This token lacks the “{scope}” scope."  # problems.py reads it
        raise error
    return found.member


def rate_key() -> str:
    """Rate limits count per token; a request without a valid one, per address."""
    found = holder()
    return f"api-token:{found.token_id}" if found else f"api-address:{get_remote_address()}"


"""Domain errors and the friendly error pages.

Services raise ``OffloadError`` subclasses with a message meant for the member;
views show it next to the form. HTTP errors render one template per status; under a
path an API installed (``install_error_renderer``) they answer as that API does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("offload.errors")


class OffloadError(Exception):
    """A rule refused the action; the message is shown to the member as it is."""


class NotAllowed(OffloadError):
    """The actor may not do this (policy)."""


class Conflict(OffloadError):
    """The thing changed under us (already used, no longer pending, taken)."""


class Invalid(OffloadError):
    """The input broke a rule that a form cannot check on its own."""


class InvalidField(Invalid):
    """Invalid input that belongs to one form field, so the form can show it there."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class PasswordNotConfirmed(NotAllowed):
    """The password an admin re-entered to confirm a money action was wrong."""

    field = "password"  # shown next to the form's password field (``forms.show_error``)


def refuse(reason: str | None, *, actor_may: bool) -> None:
    """Raise ``reason`` if there is one: ``NotAllowed`` when the actor may never do this,
    else ``Conflict`` (the thing's state is what stands in the way)."""
    if reason:
        raise (Conflict if actor_may else NotAllowed)(reason)


ERROR_TITLES = {
    400: "That request didn't look right",
    403: "You can't do that",
    404: "We couldn't find that page",
    405: "That isn't allowed here",
    413: "That file is too large",
    422: "That request didn't look right",
    429: "Slow down a little",
    500: "Something went wrong on our side",
}


# path prefix → renderer(status, error or None) of the API served there (the JSON API
# installs itself from create_app: core imports no feature)
_error_renderers: dict[str, Callable[[int, HTTPException | None], object]] = {}


def install_error_renderer(prefix: str,
                           render: Callable[[int, HTTPException | None], object]) -> None:
    """Answer errors under ``prefix`` (``/api/v1/``) with ``render``, routing errors too."""
    _error_renderers[prefix] = render


def _api_renderer() -> Callable[[int, HTTPException | None], object] | None:
    path = request.path
    return next((render for prefix, render in _error_renderers.items()
                 if path.startswith(prefix) or path == prefix.rstrip("/")), None)


def _render(status: int, message: str | None = None):
    title = ERROR_TITLES.get(status, "Something went wrong")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=title, message=message), status
    return render_template("errors/error.html", status=status, title=title,
                           message=message), status


def _hidden_admin_route() -> bool:
    """A request for the admin area (the admin blueprint is all under ``/admin``) from
    someone who isn't an admin: they get the 404 the area's pages give them."""
    return (request.path == "/admin" or request.path.startswith("/admin/")) and not getattr(
        current_user, "is_admin", False)


def logged_path() -> str:
    """The request's path as the logs may hold it: the route's rule when one matched
    (``/feeds/<token>/gigs.atom``), so a secret in a URL (a feed token, an invite or a
    reset link) never reaches a log line; the raw path only when nothing matched."""
    rule = request.url_rule
    return rule.rule if rule is not None else request.path


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        log.warning("csrf failure", extra={"path": logged_path(), "reason": error.description})
        return _render(400, "The form expired or was sent from elsewhere. "
                            "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code == 403:
            log.warning("authorization denied", extra={"path": logged_path()})
        api = _api_renderer()
        if api is not None:
            return api(error.code or 500, error)
        if error.code == 405 and _hidden_admin_route():
            return _render(404)  # the admin area doesn't announce its POST-only routes
        messages = {
            413: "Uploads are limited in size; choose a smaller file.",
            429: "Too many attempts in a short time. Wait a few minutes and try again.",
        }
        # an exception may carry its own message for the member (core.forms' 400)
        return _render(error.code or 500,
                       messages.get(error.code) or getattr(error, "member_message", None))

    @app.errorhandler(Exception)
    def _unhandled(error: Exception):
        log.exception("unhandled error on %s %s", request.method, logged_path())
        api = _api_renderer()
        if api is not None:
            return api(500, None)
        return _render(500, "The error has been logged. Please try again in a moment.")

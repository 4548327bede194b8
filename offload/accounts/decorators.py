"""View decorators for who may use a route (entry-point helpers, not policy)."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required


def confirmed_required(view):
    """Logged in with a confirmed e-mail; others are sent to confirm first."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_confirmed:
            flash("Confirm your e-mail address first: we sent you a link.", "warning")
            return redirect(url_for("accounts.settings"))
        return view(*args, **kwargs)

    return wrapped


def login_or_404(view):
    """Logged in, else 404: for private things (projects, milestones, disputes) whose
    URLs must not tell an anonymous visitor anything, not even that a log-in would help."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Admins only; everyone else gets 404 so the admin area does not announce itself."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(404)
        return view(*args, **kwargs)

    return wrapped

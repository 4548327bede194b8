"""The messages inbox, and the unread count in the top bar."""

from __future__ import annotations

from flask import Blueprint, g, has_request_context, render_template, request
from flask_login import current_user, login_required

from .queries import inbox_page, top_bar_counts

bp = Blueprint("messages", __name__)


@bp.get("/messages")
@login_required
def inbox():
    return render_template("messages/inbox.html",
                           page=inbox_page(current_user.id, request.args.get("before")))


@bp.app_template_global("unread_messages")
def _unread_messages() -> int:
    """For the top bar: the logged-in member's unread messages, counted once a request.

    The layout shows the notifications' count beside it: one statement answers both,
    and the notifications' count is left in ``g`` where its own helper looks first, so
    the second badge costs no query (whichever the layout asks for first).
    """
    if not has_request_context() or not current_user.is_authenticated:
        return 0
    if "unread_messages" not in g:
        notifications, g.unread_messages = top_bar_counts(current_user.id)
        g.setdefault("unread_notifications", notifications)
    return g.unread_messages

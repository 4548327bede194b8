"""Notification pages: the list, marking read, and per-kind preferences (members only)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from offload.core.db import db
from offload.core.errors import NotAllowed
from offload.core.security import safe_next
from offload.core.submit import submit
from offload.feeds.queries import feed_link_of

from .forms import PreferencesForm
from .models import Notification
from .queries import notifications_page, preferences_for
from .services import (
    mark_all_notifications_read,
    mark_notification_read,
    set_notification_preferences,
)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def index():
    page = notifications_page(current_user.id, request.args.get("before"))
    return render_template("notifications/index.html", page=page,
                           feed_link=feed_link_of(current_user.id))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    notification = db.get_or_404(Notification, notification_id)
    try:
        mark_notification_read(notification, actor=current_user)
    except NotAllowed:
        abort(404)  # someone else's notification: don't reveal that it exists
    return redirect(safe_next(notification.link, "notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    count = mark_all_notifications_read(actor=current_user)
    flash("All notifications marked as read." if count else "Nothing was unread.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    if request.method == "GET":
        form = PreferencesForm(data=preferences_for(current_user.id))
    else:
        form = PreferencesForm()
    return submit(form, lambda: set_notification_preferences(actor=current_user,
                                                             channels=form.channels()),
                  done="Your notification preferences are saved.",
                  then=url_for("notifications.preferences"),
                  again=lambda: (render_template("notifications/preferences.html", form=form),
                                 422 if form.errors else 200))


@bp.app_template_global("unread_notifications")
def _unread_notifications() -> int:
    # the counter came with the member's row (accounts.queries.signed_in): no query here
    if not has_request_context() or not current_user.is_authenticated:
        return 0
    return current_user.unread_notifications

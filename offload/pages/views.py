"""The landing page (public), the dashboard (members) and the liveness probe."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from offload.cases.hook import why_on_the_hook
from offload.conversations.queries import unread_conversations
from offload.gigs.queries import matching_gigs_for
from offload.offers.queries import awards_awaiting_answer

from .queries import dashboard_for

bp = Blueprint("pages", __name__)


@bp.get("/healthz")
def healthz():
    """A liveness probe for load balancers and the benchmarks' bare baseline: answers
    without touching the database or rendering a template."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/")
def landing():
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    return render_template("pages/landing.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    hook = why_on_the_hook(current_user, "send invites, post gigs or make offers")
    return render_template("pages/dashboard.html", matching=matching_gigs_for(current_user.id),
                           awards=awards_awaiting_answer(current_user.id),
                           unread=unread_conversations(current_user.id),
                           work=dashboard_for(current_user), hook=hook)

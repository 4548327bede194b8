"""The dispute queue and the page to resolve one.

Resolving takes a written reason (both parties see it) and the admin's password again;
the service checks both and writes the moderation-log entry.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.core.db import db
from offload.core.submit import submit
from offload.milestones.disputes import resolve_dispute
from offload.milestones.forms import ResolveForm
from offload.milestones.models import Dispute
from offload.milestones.queries import dispute_evidence, open_disputes_page

from .blueprint import bp


@bp.get("/disputes")
@admin_required
def disputes():
    page = open_disputes_page(request.args.get("after"))
    return render_template("admin/disputes.html", page=page)


@bp.route("/disputes/<int:dispute_id>", methods=["GET", "POST"])
@admin_required
def dispute(dispute_id: int):
    dispute = db.get_or_404(Dispute, dispute_id)
    form = ResolveForm() if request.method == "POST" else ResolveForm(formdata=None)
    return submit(form, lambda: resolve_dispute(
        dispute, actor=current_user, outcome=form.outcome.data, reason=form.reason.data,
        password=form.password.data, released_minor=form.released.minor,
        close_project=form.close_project.data),
        done="The dispute is resolved; both sides are told.", then=url_for("admin.disputes"),
        again=lambda: _render_dispute(dispute_id, form))


def _render_dispute(dispute_id: int, form: ResolveForm):
    dispute = db.session.get(Dispute, dispute_id)
    return render_template("admin/dispute.html", dispute=dispute, form=form,
                           **dispute_evidence(dispute)), (
        422 if form.errors or form.form_errors else 200)

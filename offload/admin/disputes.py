"""The dispute queue and the page to resolve one.

Resolving takes a written reason (both parties see it) and the admin's password again;
the service checks both and writes the moderation-log entry.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.forms import show_error
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
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        abort(404)
    form = ResolveForm() if request.method == "POST" else ResolveForm(formdata=None)
    if form.validate_on_submit():
        try:
            resolve_dispute(dispute, actor=current_user, outcome=form.outcome.data,
                            reason=form.reason.data, password=form.password.data,
                            released_minor=form.released.minor,
                            close_project=form.close_project.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("The dispute is resolved; both sides are told.", "success")
            return redirect(url_for("admin.disputes"))
    dispute = db.session.get(Dispute, dispute_id)
    return render_template("admin/dispute.html", dispute=dispute, form=form,
                           **dispute_evidence(dispute)), 422 if form.errors or \
        form.form_errors else 200

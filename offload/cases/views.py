"""Cases for the members in them (the subject and their inviter) and for admins, and
the "report this member" form. Admin actions are under /admin (offload/admin/cases.py)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import confirmed_required, login_or_404
from offload.accounts.queries import member_named
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.forms import parse_id, show_error
from offload.projects.models import Project

from .forms import ReportForm
from .rendering import render_case
from .reports import report_member

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
@login_or_404
def show(case_id: int):
    return render_case(case_id)


@bp.route("/members/<username>/report", methods=["GET", "POST"])
@confirmed_required
def report(username: str):
    subject = member_named(username) or abort(404)
    form = ReportForm()
    project_id = form.project.data if request.method == "POST" else _project_arg()
    project = db.session.get(Project, project_id) if project_id else None
    if project is not None and {current_user.id, subject.id} != {project.poster_id,
                                                                 project.performer_id}:
        project = None  # not theirs to name: the report goes on without it
        if request.method == "POST":
            form.form_errors.append("That project isn't one the two of you share; "
                                    "send the report without it.")
    if form.validate_on_submit() and not form.form_errors:
        try:
            report_member(actor=current_user, subject=subject, body=form.body.data,
                          project_id=project.id if project else None)
        except OffloadError as e:
            show_error(form, e, fields={"project": ""})  # not a field they see: above the form
        else:
            flash(f"Thank you: the admins will look at your report about {subject.name}.",
                  "success")
            return redirect(url_for("profiles.show", username=subject.username))
    return render_template("cases/report.html", form=form, subject=subject,
                           project=project), 422 if form.errors or form.form_errors else 200


def _project_arg() -> int | None:
    return parse_id(request.args.get("project", ""))

"""Cases for the members in them (the subject and their inviter) and for admins, and
the "report this member" form. Admin actions are under /admin (offload/admin/cases.py)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import confirmed_required, login_or_404
from offload.accounts.queries import member_named
from offload.core.db import db
from offload.core.forms import parse_id
from offload.core.submit import submit
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

    def again():
        return render_template("cases/report.html", form=form, subject=subject,
                               project=project), 422 if form.errors else 200

    if form.form_errors:  # the project named is refused: the report is not sent
        form.validate()  # and what else is wrong is said with it
        return again()
    return submit(form, lambda: report_member(actor=current_user, subject=subject,
                                              body=form.body.data,
                                              project_id=project.id if project else None),
                  done=f"Thank you: the admins will look at your report about {subject.name}.",
                  then=url_for("profiles.show", username=subject.username), again=again,
                  fields={"project": ""})  # not a field they see: above the form


def _project_arg() -> int | None:
    return parse_id(request.args.get("project", ""))

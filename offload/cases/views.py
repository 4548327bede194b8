"""Cases for the members in them (the subject and their inviter) and for admins, and
the "report this member" form. Admin actions are under /admin (offload/admin/cases.py)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from offload.accounts.decorators import confirmed_required, login_or_404
from offload.accounts.models import User
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.forms import parse_id, show_error
from offload.projects.models import Project

from .forms import EvidenceForm, ReasonForm, ReportForm, ResolveCaseForm
from .policies import can_view_case
from .queries import case_page
from .reports import report_member

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
@login_or_404
def show(case_id: int):
    return render_case(case_id)


def render_case(case_id: int, **forms):
    """The case page; admins also get its forms (the given, submitted ones kept)."""
    page = case_page(case_id)
    if page is None or not can_view_case(page.case, page.case.subject, current_user):
        abort(404)
    status = 422 if any(f.errors or f.form_errors for f in forms.values()) else 200
    admin = current_user.is_admin
    return render_template(
        "cases/show.html", page=page, case=page.case, is_admin=admin,
        evidence_form=forms.get("evidence_form") or EvidenceForm(formdata=None),
        resolve_form=forms.get("resolve_form") or ResolveCaseForm(
            formdata=None, contests_invoice=page.contested is not None),
        lift_form=forms.get("lift_form") or ReasonForm(prefix="lift", formdata=None),
    ), status


@bp.route("/members/<username>/report", methods=["GET", "POST"])
@confirmed_required
def report(username: str):
    subject = db.session.scalar(select(User).where(User.username == username.lower()))
    if subject is None:
        abort(404)
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

"""Accountability: the case queue, opening a case, evidence, resolving (cleared, warned,
suspended), lifting a suspension, and the report triage queue.

Every action takes a written reason and the service writes its moderation-log entry;
resolving a case that contests an invoiced amount also takes the admin's password
again (the service checks it). A case's page itself is the cases package's
(``/cases/<id>``, where admins also get these forms); a form that fails here shows
that page again with its errors (``cases.rendering``).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from offload.accounts.decorators import admin_required
from offload.accounts.models import User
from offload.cases import reports as case_reports
from offload.cases import services as cases_service
from offload.cases import suspension
from offload.cases.forms import (
    SUMMARY_IS_PUBLISHED,
    EvidenceForm,
    OpenCaseForm,
    ReasonForm,
    ReportCaseForm,
    ResolveCaseForm,
)
from offload.cases.models import Case, CaseState, Report
from offload.cases.queries import cases_page, pending_reports_page
from offload.cases.rendering import render_case
from offload.core.db import db
from offload.core.errors import InvalidField, OffloadError
from offload.core.forms import arg_text, show_error

from .blueprint import bp
from .queries import member_named, report_for_queue


@bp.get("/cases")
@admin_required
def cases():
    raw = arg_text(request.args, "state", "open")
    state = CaseState(raw) if raw in {s.value for s in CaseState} else None
    return render_template("admin/cases.html", page=cases_page(state, request.args.get("before")),
                           state=state)


@bp.route("/cases/new", methods=["GET", "POST"])
@admin_required
def new_case():
    form = OpenCaseForm() if request.method == "POST" else OpenCaseForm(
        formdata=None, subject=arg_text(request.args, "subject"))
    if form.validate_on_submit():
        subject = member_named(form.subject.data)
        evidence = ([(form.evidence_kind.data, form.evidence_id.data)]
                    if form.evidence_kind.data and form.evidence_id.data else [])
        try:
            if subject is None:
                raise InvalidField("subject", "There is no member with that username.")
            case = cases_service.open_case(actor=current_user, subject=subject,
                                           kind=form.kind.data, summary=form.summary.data,
                                           evidence=evidence)
        except OffloadError as e:
            show_error(form, e, fields={"evidence": "evidence_id"})
        else:
            flash(f"Case #{case.id} is open: {subject.name} and their inviter are on the hook.",
                  "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template("admin/case_new.html", form=form), (
        422 if form.errors or form.form_errors else 200)


@bp.post("/cases/<int:case_id>/evidence")
@admin_required
def add_evidence(case_id: int):
    case = _case(case_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        try:
            cases_service.add_evidence(case, actor=current_user, kind=form.kind.data,
                                       target_id=form.target_id.data, note=form.note.data or "")
        except OffloadError as e:
            show_error(form, e, fields={"evidence": "target_id"})
        else:
            flash("Linked.", "success")
            return redirect(url_for("cases.show", case_id=case_id, _anchor="evidence"))
    return render_case(case_id, evidence_form=form)


@bp.post("/cases/<int:case_id>/resolve")
@admin_required
def resolve_case(case_id: int):
    case = _case(case_id)
    contests = case.contested_commission_id is not None
    form = ResolveCaseForm(contests_invoice=contests)
    if form.validate_on_submit():
        try:
            cases_service.resolve_case(
                case, actor=current_user, resolution=form.resolution.data,
                reason=form.reason.data,
                corrected_minor=form.corrected.minor if contests else None,
                password=form.password.data if contests else None,
                idempotency_key=form.idempotency_key.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash(f"Case #{case_id} is resolved: {form.resolution.data}.", "success")
            return redirect(url_for("cases.show", case_id=case_id))
    return render_case(case_id, resolve_form=form)


@bp.post("/cases/<int:case_id>/lift-suspension")
@admin_required
def lift_suspension(case_id: int):
    case = _case(case_id)
    form = ReasonForm(prefix="lift")
    if form.validate_on_submit():
        try:
            suspension.lift_suspension(db.session.get(User, case.subject_id),
                                       actor=current_user, reason=form.reason.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("The suspension is lifted: the member can log in again.", "success")
            return redirect(url_for("cases.show", case_id=case_id))
    return render_case(case_id, lift_form=form)


@bp.get("/reports")
@admin_required
def reports():
    return _render_reports()


@bp.post("/reports/<int:report_id>/open-case")
@admin_required
def open_case_from_report(report_id: int):
    report = _report(report_id)
    form = ReportCaseForm()
    if form.validate_on_submit():
        try:
            case = case_reports.open_case_from_report(
                report, actor=current_user, kind=form.kind.data, summary=form.summary.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash(f"Case #{case.id} is open.", "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return _render_reports((report_id, "open", form))


@bp.post("/reports/<int:report_id>/dismiss")
@admin_required
def dismiss_report(report_id: int):
    report = _report(report_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            case_reports.dismiss_report(report, actor=current_user, reason=form.reason.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("The report is dismissed; the reporter is told.", "success")
            return redirect(url_for("admin.reports"))
    return _render_reports((report_id, "dismiss", form))



def _render_reports(failed: tuple[int, str, FlaskForm] | None = None):
    """The triage queue; ``failed`` (report id, "open" or "dismiss", the submitted
    form) is shown again with what was typed and its errors, at the top."""
    page = pending_reports_page(request.args.get("before"))
    items = list(page.items)
    if failed and failed[0] not in {r.id for r in items}:
        report = report_for_queue(failed[0])
        if report is not None:
            items.insert(0, report)  # keep the form in view
    return render_template("admin/reports.html", page=page, items=items, failed=failed,
                           kind_choices=OpenCaseForm(formdata=None).kind.choices,
                           summary_is_published=SUMMARY_IS_PUBLISHED), (
        422 if failed else 200)


def _case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    return case


def _report(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        abort(404)
    return report

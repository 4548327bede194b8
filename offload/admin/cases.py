"""Accountability: the case queue, opening a case, evidence, resolving (cleared, warned,
suspended), lifting a suspension, and the report triage queue.

Every action takes a written reason and the service writes its moderation-log entry;
resolving a case that contests an invoiced amount also takes the admin's password
again (the service checks it). A case's page itself is the cases package's
(``/cases/<id>``, where admins also get these forms); a form that fails here shows
that page again with its errors (``cases.rendering``).
"""

from __future__ import annotations

from flask import render_template, request, url_for
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
from offload.core.errors import InvalidField
from offload.core.forms import arg_text
from offload.core.submit import submit

from .blueprint import bp
from .queries import member_named, report_for_queue
from .queues import render_queue


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

    def call() -> tuple[Case, User]:
        subject = member_named(form.subject.data)
        if subject is None:
            raise InvalidField("subject", "There is no member with that username.")
        evidence = ([(form.evidence_kind.data, form.evidence_id.data)]
                    if form.evidence_kind.data and form.evidence_id.data else [])
        return cases_service.open_case(actor=current_user, subject=subject,
                                       kind=form.kind.data, summary=form.summary.data,
                                       evidence=evidence), subject

    return submit(form, call, fields={"evidence": "evidence_id"},
                  done=lambda opened: f"Case #{opened[0].id} is open: {opened[1].name} and "
                                      "their inviter are on the hook.",
                  then=lambda opened: url_for("cases.show", case_id=opened[0].id),
                  again=lambda: (render_template("admin/case_new.html", form=form),
                                 422 if form.errors or form.form_errors else 200))


@bp.post("/cases/<int:case_id>/evidence")
@admin_required
def add_evidence(case_id: int):
    case = db.get_or_404(Case, case_id)
    form = EvidenceForm()
    return _submit_on_case(case_id, "evidence_form", form, lambda: cases_service.add_evidence(
        case, actor=current_user, kind=form.kind.data, target_id=form.target_id.data,
        note=form.note.data or ""), fields={"evidence": "target_id"},
        done="Linked.", anchor="evidence")


@bp.post("/cases/<int:case_id>/resolve")
@admin_required
def resolve_case(case_id: int):
    case = db.get_or_404(Case, case_id)
    contests = case.contested_commission_id is not None
    form = ResolveCaseForm(contests_invoice=contests)
    return _submit_on_case(case_id, "resolve_form", form, lambda: cases_service.resolve_case(
        case, actor=current_user, resolution=form.resolution.data, reason=form.reason.data,
        corrected_minor=form.corrected.minor if contests else None,
        password=form.password.data if contests else None,
        idempotency_key=form.idempotency_key.data),
        done=lambda _: f"Case #{case_id} is resolved: {form.resolution.data}.")


@bp.post("/cases/<int:case_id>/lift-suspension")
@admin_required
def lift_suspension(case_id: int):
    case = db.get_or_404(Case, case_id)
    form = ReasonForm(prefix="lift")
    return _submit_on_case(case_id, "lift_form", form, lambda: suspension.lift_suspension(
        db.session.get(User, case.subject_id), actor=current_user, reason=form.reason.data),
        done="The suspension is lifted: the member can log in again.")


@bp.get("/reports")
@admin_required
def reports():
    return _render_reports()


@bp.post("/reports/<int:report_id>/open-case")
@admin_required
def open_case_from_report(report_id: int):
    form = ReportCaseForm()
    return _submit_on_report(report_id, "open", form, lambda report: (
        case_reports.open_case_from_report(report, actor=current_user, kind=form.kind.data,
                                           summary=form.summary.data)),
        done=lambda case: f"Case #{case.id} is open.",
        then=lambda case: url_for("cases.show", case_id=case.id))


@bp.post("/reports/<int:report_id>/dismiss")
@admin_required
def dismiss_report(report_id: int):
    form = ReasonForm()
    return _submit_on_report(report_id, "dismiss", form, lambda report: (
        case_reports.dismiss_report(report, actor=current_user, reason=form.reason.data)),
        done="The report is dismissed; the reporter is told.", then=url_for("admin.reports"))


def _submit_on_report(report_id: int, action: str, form: FlaskForm, call, *, done, then):
    """``core.submit`` for a form on the triage queue (``action``: "open" or "dismiss"):
    refused, the queue again with that report's form as it was sent."""
    report = db.get_or_404(Report, report_id)
    return submit(form, lambda: call(report), done=done, then=then,
                  again=lambda: _render_reports((report_id, action, form)))


def _submit_on_case(case_id: int, name: str, form: FlaskForm, call, *, done,
                    anchor: str | None = None, fields: dict[str, str] | None = None):
    """``core.submit`` for an admin's form on the case page (``name`` is its name there):
    back to the page at ``anchor`` when done, the page again with the form when refused."""
    return submit(form, call, done=done, fields=fields,
                  then=url_for("cases.show", case_id=case_id, _anchor=anchor),
                  again=lambda: render_case(case_id, **{name: form}))


def _render_reports(failed: tuple[int, str, FlaskForm] | None = None):
    """The triage queue; ``failed`` (report id, "open" or "dismiss", the submitted
    form) is shown again with what was typed and its errors, at the top."""
    return render_queue("admin/reports.html", pending_reports_page(request.args.get("before")),
                        failed, failed and failed[0], report_for_queue,
                        kind_choices=OpenCaseForm(formdata=None).kind.choices,
                        summary_is_published=SUMMARY_IS_PUBLISHED)

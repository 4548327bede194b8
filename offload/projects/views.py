"""Project pages: the private project page with its timeline, and My projects.

A project is seen by its two parties and admins; everyone else, including members who
know the URL, gets 404 (its timeline form too).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from offload.commissions.models import Commission
from offload.commissions.policies import why_cannot_complete, why_cannot_pay
from offload.commissions.queries import commission_of
from offload.commissions.services import complete_referral, pay_commission
from offload.core.db import db, utcnow
from offload.core.errors import OffloadError
from offload.core.forms import first_error, show_error
from offload.wallet.queries import wallet_summary

from .forms import CompleteReferralForm, EventForm, MyProjectsFilterForm, PayCommissionForm
from .models import Project, ProjectState
from .policies import can_view_project, why_cannot_post_event
from .queries import my_projects, my_stalling_projects, project_page
from .services import post_project_event

bp = Blueprint("projects", __name__)


@bp.get("/projects/<int:project_id>")
@login_required
def show(project_id: int):
    return _render_show(project_id)


@bp.post("/projects/<int:project_id>/events")
@login_required
def post_event(project_id: int):
    project = _project_or_404(project_id)
    form = EventForm(prefix="event")
    if form.validate_on_submit():
        try:
            event = post_project_event(project, actor=current_user, kind=form.kind.data,
                                       note=form.note.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("Posted on the timeline; the other side is told.", "success")
            return redirect(url_for(".show", project_id=project_id,
                                    _anchor=f"event-{event.id}"))
    return _render_show(project_id, event_form=form)


@bp.post("/projects/<int:project_id>/complete")
@login_required
def complete(project_id: int):
    project = _project_or_404(project_id)
    form = CompleteReferralForm()
    if form.validate_on_submit():
        try:
            commission = complete_referral(project, actor=current_user,
                                           invoiced_minor=form.invoiced.minor,
                                           idempotency_key=form.idempotency_key.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("The work is complete. " + ("The commission is paid."
                  if commission.state == "paid" else "The commission is due: pay it from "
                  "this page once your wallet covers it."), "success")
            return redirect(url_for(".show", project_id=project_id, _anchor="settlement"))
    return _render_show(project_id, complete_form=form)


@bp.post("/projects/<int:project_id>/commission/pay")
@login_required
def pay(project_id: int):
    _project_or_404(project_id)
    commission = commission_of(project_id)
    if commission is None:
        abort(404)
    form = PayCommissionForm()
    if not form.validate_on_submit():
        flash(first_error(form), "error")
    else:
        try:
            pay_commission(commission, actor=current_user,
                           idempotency_key=form.idempotency_key.data)
        except OffloadError as e:
            flash(str(e), "error")
        else:
            flash("The commission is paid. Thank you.", "success")
    return redirect(url_for(".show", project_id=project_id, _anchor="settlement"))


@bp.get("/my/projects")
@login_required
def mine():
    form = MyProjectsFilterForm(request.args)
    state = None
    if form.state.data:
        try:
            state = ProjectState(form.state.data)
        except ValueError:
            form.state.errors = ["Choose one of the states in the list."]
    page = my_projects(current_user.id, state, request.args.get("before"))
    return render_template("projects/mine.html", page=page, form=form, state=state,
                           stalling=my_stalling_projects(current_user.id)), (
        422 if form.state.errors else 200)


def _project_or_404(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or not can_view_project(project, current_user):
        abort(404)
    return project


def _render_show(project_id: int, **forms):
    """The project page with the given (submitted) forms and fresh ones for the rest."""
    page = project_page(project_id, current_user, request.args.get("before"))
    if page is None:
        abort(404)
    project, user = page.project, current_user
    status = 422 if any(f.errors or f.form_errors for f in forms.values()) else 200
    commission: Commission | None = commission_of(project.id)
    return render_template(
        "projects/show.html", page=page, project=project, gig=project.gig,
        can_post=why_cannot_post_event(project, user) is None,
        form=forms.get("event_form") or EventForm(prefix="event", formdata=None),
        commission=commission, today=utcnow().date(),
        can_complete=why_cannot_complete(project, user) is None,
        can_pay=commission is not None and why_cannot_pay(commission, user) is None,
        wallet=wallet_summary(user.id) if user.id == project.performer_id else None,
        complete_form=forms.get("complete_form") or CompleteReferralForm(formdata=None),
        pay_form=PayCommissionForm(formdata=None)), status

"""Project pages: the private project page with its timeline, completion and commission,
and My projects. Milestones, disputes and the price are served by ``milestones.views``
and reviews by ``reviews.views``; all of them answer with the page through
``projects.rendering.render_project_page``.

A project is seen by its two parties and admins; everyone else, including members who
know the URL, gets 404 (its timeline form too). A refused action answers 422 with the
page and, at its top, why.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from offload.accounts.decorators import login_or_404
from offload.cases.invoices import contest_invoice
from offload.commissions.models import Commission
from offload.commissions.queries import commission_of
from offload.commissions.services import accept_invoice, complete_referral, pay_commission
from offload.conversations.forms import MessageForm
from offload.conversations.queries import unread_counts
from offload.conversations.services import send_offer_message
from offload.core.db import db
from offload.core.forms import ButtonForm, chosen_state
from offload.core.uploads import send_stored_file
from offload.offers.models import Offer

from .forms import (
    CompleteReferralForm,
    ContestInvoiceForm,
    EventForm,
    MyProjectsFilterForm,
    PayCommissionForm,
)
from .models import Project, ProjectEvent, ProjectEventFile, ProjectState
from .queries import my_projects, my_stalling_projects, project_for
from .rendering import render_project_page, submit_on_project_page
from .services import post_project_event

bp = Blueprint("projects", __name__)


@bp.get("/projects/<int:project_id>")
@login_or_404
def show(project_id: int):
    return render_project_page(project_id)


@bp.post("/projects/<int:project_id>/events")
@login_or_404
def post_event(project_id: int):
    project = _project_or_404(project_id)
    form = EventForm(prefix="event")
    return submit_on_project_page(project_id, form, lambda: post_project_event(
        project, actor=current_user, kind=form.kind.data, note=form.note.data),
        done="Posted on the timeline; the other side is told.",
        anchor=lambda event: f"event-{event.id}")


@bp.post("/projects/<int:project_id>/complete")
@login_or_404
def complete(project_id: int):
    project = _project_or_404(project_id)
    form = CompleteReferralForm()
    return submit_on_project_page(project_id, form, lambda: complete_referral(
        project, actor=current_user, invoiced_minor=form.invoiced.minor,
        idempotency_key=form.idempotency_key.data, invoice_reason=form.reason.data or ""),
        done=lambda commission: "The work is complete. " + (
            "The commission is paid." if commission.state == "paid" else
            "The commission is due: pay it from this page once your wallet covers it."),
        anchor="settlement")


@bp.post("/projects/<int:project_id>/commission/pay")
@login_or_404
def pay(project_id: int):
    commission = _commission_or_404(project_id)
    form = PayCommissionForm()
    return submit_on_project_page(project_id, form, lambda: pay_commission(
        commission, actor=current_user, idempotency_key=form.idempotency_key.data),
        done="The commission is paid. Thank you.", anchor="settlement")


@bp.post("/projects/<int:project_id>/commission/accept-invoice")
@login_or_404
def accept_invoiced(project_id: int):
    commission = _commission_or_404(project_id)
    return submit_on_project_page(
        project_id, ButtonForm(), lambda: accept_invoice(commission, actor=current_user),
        done="You accepted the invoiced amount.", anchor="settlement")


@bp.post("/projects/<int:project_id>/commission/contest-invoice")
@login_or_404
def contest_invoiced(project_id: int):
    commission = _commission_or_404(project_id)
    form = ContestInvoiceForm(prefix="contest")
    return submit_on_project_page(project_id, form, lambda: contest_invoice(
        commission, actor=current_user, statement=form.statement.data),
        done="You contested the invoiced amount: an admin will look at both sides and may "
             "correct it.", anchor="settlement")


@bp.post("/projects/<int:project_id>/messages")
@login_or_404
def message(project_id: int):
    project = _project_or_404(project_id)
    offer = db.session.get(Offer, project.offer_id)
    form = MessageForm(prefix="message")
    return submit_on_project_page(project_id, form, lambda: send_offer_message(
        offer, actor=current_user, body=form.body.data, file_storage=form.file.data),
        done=None, anchor=lambda sent: f"message-{sent.id}")


@bp.get("/my/projects")
@login_required
def mine():
    form = MyProjectsFilterForm(request.args)
    state = chosen_state(form.state, ProjectState)
    page = my_projects(current_user.id, state, request.args.get("before"))
    stalling = my_stalling_projects(current_user.id)
    unread = unread_counts(current_user.id, {p.offer_id for p in page.items + stalling})
    return render_template("projects/mine.html", page=page, form=form, state=state,
                           stalling=stalling, unread=unread), (
        422 if form.state.errors else 200)


def _project_or_404(project_id: int) -> Project:
    return project_for(current_user, project_id)


def _commission_or_404(project_id: int) -> Commission:
    """The commission of a project the member may see; 404 while there is none."""
    _project_or_404(project_id)
    commission = commission_of(project_id)
    if commission is None:
        abort(404)
    return commission


@bp.get("/projects/files/<int:event_file_id>")
@login_or_404
def event_file(event_file_id: int):
    """A file handed over on the timeline, for the two sides and admins, as a download."""
    file = db.session.get(ProjectEventFile, event_file_id)
    if file is None:
        abort(404)
    _project_or_404(db.session.get(ProjectEvent, file.event_id).project_id)
    return send_stored_file(file.stored_name, file.content_type, file.original_name)



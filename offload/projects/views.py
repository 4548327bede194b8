"""Project pages: the private project page with its timeline, and My projects.

A project is seen by its two parties and admins; everyone else, including members who
know the URL, gets 404 (its timeline form too).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from offload.accounts.decorators import login_or_404
from offload.cases.invoices import contest_invoice
from offload.commissions.models import Commission
from offload.commissions.policies import why_cannot_complete, why_cannot_pay, why_cannot_review
from offload.commissions.queries import commission_of
from offload.commissions.services import accept_invoice, complete_referral, pay_commission
from offload.conversations.forms import MessageForm
from offload.conversations.policies import why_cannot_message
from offload.conversations.queries import conversation_page, reading_of, unread_counts
from offload.conversations.services import send_offer_message
from offload.core.db import db, utcnow
from offload.core.errors import OffloadError
from offload.core.forms import first_error, show_error
from offload.core.uploads import send_stored_file
from offload.milestones import disputes, price
from offload.milestones import services as milestones
from offload.milestones.forms import (
    PROPOSAL_GONE,
    DeliveryForm,
    FundForm,
    MilestoneForm,
    NoteForm,
    PriceAnswerForm,
    PriceProposalForm,
    StatementForm,
)
from offload.milestones.models import Dispute, Milestone, PriceProposal
from offload.milestones.policies import MilestoneRules
from offload.milestones.queries import (
    delivery_files_of,
    disputes_of,
    milestones_of,
    pending_price_proposal,
    progress_of,
)
from offload.offers.forms import ButtonForm
from offload.offers.models import Offer
from offload.reviews.forms import ReviewForm
from offload.reviews.queries import project_reviews
from offload.wallet.queries import wallet_summary

from .forms import (
    CompleteReferralForm,
    ContestInvoiceForm,
    EventForm,
    MyProjectsFilterForm,
    PayCommissionForm,
)
from .models import EVENT_FILES_MAX, Project, ProjectEvent, ProjectEventFile, ProjectState
from .policies import can_view_project, why_cannot_post_event
from .queries import my_projects, my_stalling_projects, project_page
from .services import post_project_event

bp = Blueprint("projects", __name__)


@bp.get("/projects/<int:project_id>")
@login_or_404
def show(project_id: int):
    return _render_show(project_id)


@bp.post("/projects/<int:project_id>/events")
@login_or_404
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
@login_or_404
def complete(project_id: int):
    project = _project_or_404(project_id)
    form = CompleteReferralForm()
    if form.validate_on_submit():
        try:
            commission = complete_referral(project, actor=current_user,
                                           invoiced_minor=form.invoiced.minor,
                                           idempotency_key=form.idempotency_key.data,
                                           invoice_reason=form.reason.data or "")
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("The work is complete. " + ("The commission is paid."
                  if commission.state == "paid" else "The commission is due: pay it from "
                  "this page once your wallet covers it."), "success")
            return redirect(url_for(".show", project_id=project_id, _anchor="settlement"))
    return _render_show(project_id, complete_form=form)


@bp.post("/projects/<int:project_id>/commission/pay")
@login_or_404
def pay(project_id: int):
    commission = _commission_or_404(project_id)
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


@bp.post("/projects/<int:project_id>/commission/accept-invoice")
@login_or_404
def accept_invoiced(project_id: int):
    commission = _commission_or_404(project_id)
    if not ButtonForm().validate_on_submit():
        flash("Something was wrong with the form; try again.", "error")
    else:
        try:
            accept_invoice(commission, actor=current_user)
        except OffloadError as e:
            flash(str(e), "error")
        else:
            flash("You accepted the invoiced amount.", "success")
    return redirect(url_for(".show", project_id=project_id, _anchor="settlement"))


@bp.post("/projects/<int:project_id>/commission/contest-invoice")
@login_or_404
def contest_invoiced(project_id: int):
    commission = _commission_or_404(project_id)
    form = ContestInvoiceForm(prefix="contest")
    if form.validate_on_submit():
        try:
            contest_invoice(commission, actor=current_user, statement=form.statement.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("You contested the invoiced amount: an admin will look at both sides and "
                  "may correct it.", "success")
            return redirect(url_for(".show", project_id=project_id, _anchor="settlement"))
    return _render_show(project_id, contest_form=form)


# --- milestones (task projects) ------------------------------------------------------------

@bp.post("/projects/<int:project_id>/milestones")
@login_or_404
def add_milestone(project_id: int):
    project = _project_or_404(project_id)
    form = MilestoneForm(prefix="milestone")
    return _submit(project_id, form, lambda: milestones.add_milestone(
        project, actor=current_user, title=form.title.data, amount_minor=form.amount.minor,
        due_on=form.due_on.data),
        "Milestone added. Fund it to put the money in escrow.", "milestones",
        milestone_form=form)


@bp.post("/milestones/<int:milestone_id>/fund")
@login_or_404
def fund_milestone(milestone_id: int):
    milestone = _milestone_or_404(milestone_id)
    form = FundForm(prefix=f"fund-{milestone.id}")
    return _milestone_action(milestone, form, lambda: milestones.fund_milestone(
        milestone, actor=current_user, idempotency_key=form.idempotency_key.data),
        "The milestone is funded: its amount is held in escrow.")


@bp.post("/milestones/<int:milestone_id>/remove")
@login_or_404
def remove_milestone(milestone_id: int):
    milestone = _milestone_or_404(milestone_id)
    return _milestone_action(milestone, ButtonForm(), lambda: milestones.remove_milestone(
        milestone, actor=current_user), "The milestone is removed.")


@bp.post("/milestones/<int:milestone_id>/release")
@login_or_404
def release_milestone(milestone_id: int):
    milestone = _milestone_or_404(milestone_id)
    return _milestone_action(milestone, ButtonForm(), lambda: milestones.release_milestone(
        milestone, actor=current_user), "Released: the performer is paid.")


@bp.post("/milestones/<int:milestone_id>/deliver")
@login_or_404
def deliver_milestone(milestone_id: int):
    milestone = _milestone_or_404(milestone_id)
    form = DeliveryForm(prefix=f"deliver-{milestone.id}")
    return _submit(milestone.project_id, form, lambda: milestones.deliver_milestone(
        milestone, actor=current_user, note=form.note.data, files=form.files.data or ()),
        "Delivered; the customer is told.", "milestones",
        note_form=(milestone.id, "deliver", form))


@bp.post("/milestones/<int:milestone_id>/revision")
@login_or_404
def ask_for_revision(milestone_id: int):
    milestone = _milestone_or_404(milestone_id)
    form = NoteForm(prefix=f"revision-{milestone.id}")
    return _submit(milestone.project_id, form, lambda: milestones.ask_for_revision(
        milestone, actor=current_user, note=form.note.data),
        "Sent back for a revision; the money stays in escrow.", "milestones",
        note_form=(milestone.id, "revision", form))


@bp.post("/milestones/<int:milestone_id>/dispute")
@login_or_404
def open_dispute(milestone_id: int):
    milestone = _milestone_or_404(milestone_id)
    form = StatementForm(prefix=f"dispute-{milestone.id}")
    return _submit(milestone.project_id, form, lambda: disputes.open_dispute(
        milestone, actor=current_user, statement=form.statement.data),
        "The dispute is open; the milestone is frozen until an admin decides.",
        f"milestone-{milestone.id}", statement_form=(milestone.id, "dispute", form))


@bp.post("/disputes/<int:dispute_id>/reply")
@login_or_404
def reply_to_dispute(dispute_id: int):
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        abort(404)
    _project_or_404(dispute.project_id)
    form = StatementForm(prefix=f"reply-{dispute.id}")
    return _submit(dispute.project_id, form, lambda: disputes.reply_to_dispute(
        dispute, actor=current_user, statement=form.statement.data),
        "Your statement is added to the dispute.", f"milestone-{dispute.milestone_id}",
        statement_form=(dispute.id, "reply", form))


@bp.post("/projects/<int:project_id>/price")
@login_or_404
def propose_price(project_id: int):
    project = _project_or_404(project_id)
    form = PriceProposalForm(prefix="price")
    return _submit(project_id, form, lambda: price.propose_lower_price(
        project, actor=current_user, price_minor=form.price.minor, reason=form.reason.data),
        "Proposed; the other side is told and accepts or declines it.", "price",
        price_form=form)


@bp.post("/projects/<int:project_id>/price/accept")
@login_or_404
def accept_price(project_id: int):
    return _answer_price(project_id, price.accept_lower_price, lambda project: (
        "The price is lowered: the project is complete." if project.state == "completed"
        else "The price is lowered."))


@bp.post("/projects/<int:project_id>/price/decline")
@login_or_404
def decline_price(project_id: int):
    return _answer_price(project_id, price.decline_lower_price,
                         "Declined: the price stays as agreed.")


@bp.post("/projects/<int:project_id>/price/withdraw")
@login_or_404
def withdraw_price(project_id: int):
    return _answer_price(project_id, price.withdraw_lower_price, "Your proposal is withdrawn.")


def _answer_price(project_id: int, call, done: str):
    """Answer (or withdraw) the proposal the page showed: its id comes with the form."""
    _project_or_404(project_id)
    form = PriceAnswerForm()
    valid = form.validate_on_submit()  # the id is read only once it is known to be one
    proposal = db.session.get(PriceProposal, form.proposal_id()) if valid else None
    if not valid:
        flash(first_error(form), "error")
    elif proposal is None or proposal.project_id != project_id:
        flash(PROPOSAL_GONE, "error")
    else:
        try:
            result = call(proposal, actor=current_user)
        except OffloadError as e:
            flash(str(e), "error")
        else:
            flash(done(result) if callable(done) else done, "success")
    return redirect(url_for(".show", project_id=project_id, _anchor="price"))


@bp.post("/projects/<int:project_id>/messages")
@login_or_404
def message(project_id: int):
    project = _project_or_404(project_id)
    offer = db.session.get(Offer, project.offer_id)
    form = MessageForm(prefix="message")
    if form.validate_on_submit():
        try:
            sent = send_offer_message(offer, actor=current_user, body=form.body.data,
                                      file_storage=form.file.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            return redirect(url_for(".show", project_id=project_id,
                                    _anchor=f"message-{sent.id}"))
    return _render_show(project_id, message_form=form)


@bp.post("/projects/<int:project_id>/cancel")
@login_or_404
def cancel(project_id: int):
    project = _project_or_404(project_id)
    if ButtonForm().validate_on_submit():
        try:
            milestones.cancel_task_project(project, actor=current_user)
        except OffloadError as e:
            flash(str(e), "error")
        else:
            flash("The project is cancelled and the funded milestones refunded.", "success")
    return redirect(url_for(".show", project_id=project_id))


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
    stalling = my_stalling_projects(current_user.id)
    unread = unread_counts(current_user.id, {p.offer_id for p in page.items + stalling})
    return render_template("projects/mine.html", page=page, form=form, state=state,
                           stalling=stalling, unread=unread), (
        422 if form.state.errors else 200)


def _project_or_404(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or not can_view_project(project, current_user):
        abort(404)
    return project


def _commission_or_404(project_id: int) -> Commission:
    """The commission of a project the member may see; 404 while there is none."""
    _project_or_404(project_id)
    commission = commission_of(project_id)
    if commission is None:
        abort(404)
    return commission


def _submit(project_id: int, form, call, done: str, anchor: str, **rerender):
    """Run a form's service call: on success flash ``done`` and go back to the project
    (at ``anchor``); else show the project page with the form and its errors."""
    if form.validate_on_submit():
        try:
            call()
        except OffloadError as e:
            show_error(form, e)
        else:
            flash(done, "success")
            return redirect(url_for(".show", project_id=project_id, _anchor=anchor))
    return _render_show(project_id, **rerender)


@bp.get("/projects/files/<int:event_file_id>")
@login_or_404
def event_file(event_file_id: int):
    """A file handed over on the timeline, for the two sides and admins, as a download."""
    file = db.session.get(ProjectEventFile, event_file_id)
    if file is None:
        abort(404)
    _project_or_404(db.session.get(ProjectEvent, file.event_id).project_id)
    return send_stored_file(file.stored_name, file.content_type, file.original_name)


def _milestone_or_404(milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        abort(404)
    _project_or_404(milestone.project_id)
    return milestone


def _milestone_action(milestone: Milestone, form, call, done: str):
    if not form.validate_on_submit():
        flash(first_error(form), "error")
    else:
        try:
            call()
        except OffloadError as e:
            flash(str(e), "error")
        else:
            flash(done, "success")
    return redirect(url_for(".show", project_id=milestone.project_id, _anchor="milestones"))


def _render_show(project_id: int, **forms):
    """The project page with the given (submitted) forms and fresh ones for the rest."""
    page = project_page(project_id, current_user, request.args.get("before"))
    if page is None:
        abort(404)
    project, user = page.project, current_user
    submitted = [f[2] if isinstance(f, tuple) else f for f in forms.values()]
    status = 422 if any(f.errors or f.form_errors for f in submitted) else 200
    commission: Commission | None = commission_of(project.id)
    offer = db.session.get(Offer, project.offer_id)
    messages_page = conversation_page(offer.id, request.args.get("messages_before"))
    steps = milestones_of(project.id) if project.kind == "task" else []
    delivered_files = delivery_files_of(project.id) if steps else {}
    note_forms = {}
    for m in steps:
        note_forms[(m.id, "deliver")] = DeliveryForm(prefix=f"deliver-{m.id}", formdata=None)
        note_forms[(m.id, "revision")] = NoteForm(prefix=f"revision-{m.id}", formdata=None)
    if "note_form" in forms:
        milestone_id, action, form = forms["note_form"]
        note_forms[(milestone_id, action)] = form
    project_disputes = disputes_of(project.id) if steps else {}
    progress = progress_of(project, steps, project_disputes)
    pending_price = pending_price_proposal(project.id) if project.kind == "task" else None
    statement_forms = {("dispute", m.id): StatementForm(prefix=f"dispute-{m.id}", formdata=None)
                       for m in steps}
    statement_forms.update({("reply", d.id): StatementForm(prefix=f"reply-{d.id}",
                                                           formdata=None)
                            for d in project_disputes.values()})
    if "statement_form" in forms:
        target_id, action, form = forms["statement_form"]
        statement_forms[(action, target_id)] = form
    return render_template(
        "projects/show.html", page=page, project=project, gig=project.gig,
        can_post=why_cannot_post_event(project, user) is None,
        form=forms.get("event_form") or EventForm(prefix="event", formdata=None),
        commission=commission, today=utcnow().date(),
        can_complete=why_cannot_complete(project, user) is None,
        can_pay=commission is not None and why_cannot_pay(commission, user) is None,
        wallet=wallet_summary(user.id) if user.id == project.performer_id else None,
        complete_form=forms.get("complete_form") or CompleteReferralForm(formdata=None),
        pay_form=PayCommissionForm(formdata=None),
        can_review=commission is not None and why_cannot_review(commission, user,
                                                                utcnow()) is None,
        contest_form=forms.get("contest_form") or ContestInvoiceForm(prefix="contest",
                                                                     formdata=None),
        messages=list(reversed(messages_page.items)), messages_page=messages_page,
        message_form=forms.get("message_form") or MessageForm(prefix="message", formdata=None),
        why_cannot_message=why_cannot_message(offer, project.gig, user),
        reading=(reading_of(offer.id, user.id)
                 if user.id in (project.poster_id, project.performer_id) else None),
        milestones=steps, note_forms=note_forms, disputes=project_disputes,
        delivered_files=delivered_files, event_files_max=EVENT_FILES_MAX,
        statement_forms=statement_forms,
        fund_forms={m.id: FundForm(prefix=f"fund-{m.id}", formdata=None) for m in steps},
        milestone_form=forms.get("milestone_form") or MilestoneForm(prefix="milestone",
                                                                    formdata=None),
        button_form=ButtonForm(formdata=None),
        milestone_rules=MilestoneRules(project, user, steps, utcnow().date(), progress,
                                       pending_price),
        progress=progress, pending_price=pending_price, agreed_price_minor=offer.price_minor,
        price_form=forms.get("price_form") or PriceProposalForm(prefix="price", formdata=None),
        price_answer_form=PriceAnswerForm(formdata=None,
                                          proposal=pending_price.id if pending_price else ""),
        reviews=project_reviews(project, user), now=utcnow(),
        review_form=forms.get("review_form") or ReviewForm(formdata=None),
        reply_form=True), status

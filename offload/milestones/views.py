"""The milestone, dispute and price actions of a task project's page: each feature owns
its URLs, and these are the milestones' (``/milestones/<id>/...``, a dispute's reply
under ``/milestones/disputes/<id>/``; adding a milestone, cancelling and the price act on
a project, so they are posted to it, ``/projects/<id>/...``). Each view loads (404 to
anyone but the two sides and admins), calls one service and goes back to the project
page; a refused action answers 422 with the page (``projects.rendering``) and, at its
top, why, since after a lost race its form may be gone from the page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask_login import current_user
from flask_wtf import FlaskForm

from offload.accounts.decorators import login_or_404
from offload.core.errors import Invalid
from offload.core.forms import ButtonForm
from offload.projects.queries import project_for
from offload.projects.rendering import submit_on_project_page

from . import disputes, forms, price, services
from .models import Milestone
from .queries import dispute_for, milestone_for, price_proposal_of

bp = Blueprint("milestones", __name__)


@bp.post("/projects/<int:project_id>/milestones")
@login_or_404
def add(project_id: int):
    project = project_for(current_user, project_id)
    form = forms.MilestoneForm(prefix="milestone")
    return submit_on_project_page(project_id, form, lambda: services.add_milestone(
        project, actor=current_user, title=form.title.data, amount_minor=form.amount.minor,
        due_on=form.due_on.data),
        done="Milestone added. Fund it to put the money in escrow.", anchor="milestones")


@bp.post("/milestones/<int:milestone_id>/fund")
@login_or_404
def fund(milestone_id: int):
    return _on_milestone(milestone_id, lambda m: forms.FundForm(prefix=f"fund-{m.id}"),
                         lambda m, form: services.fund_milestone(
                             m, actor=current_user, idempotency_key=form.idempotency_key.data),
                         done="The milestone is funded: its amount is held in escrow.")


@bp.post("/milestones/<int:milestone_id>/remove")
@login_or_404
def remove(milestone_id: int):
    return _on_milestone(milestone_id, lambda _: ButtonForm(), lambda m, _: (
        services.remove_milestone(m, actor=current_user)), done="The milestone is removed.")


@bp.post("/milestones/<int:milestone_id>/release")
@login_or_404
def release(milestone_id: int):
    return _on_milestone(milestone_id, lambda _: ButtonForm(), lambda m, _: (
        services.release_milestone(m, actor=current_user)),
        done="Released: the performer is paid.")


@bp.post("/milestones/<int:milestone_id>/deliver")
@login_or_404
def deliver(milestone_id: int):
    return _on_milestone(milestone_id, lambda m: forms.DeliveryForm(prefix=f"deliver-{m.id}"),
                         lambda m, form: services.deliver_milestone(
                             m, actor=current_user, note=form.note.data,
                             files=form.files.data or ()),
                         done="Delivered; the customer is told.")


@bp.post("/milestones/<int:milestone_id>/revision")
@login_or_404
def ask_for_revision(milestone_id: int):
    return _on_milestone(milestone_id, lambda m: forms.NoteForm(prefix=f"revision-{m.id}"),
                         lambda m, form: services.ask_for_revision(
                             m, actor=current_user, note=form.note.data),
                         done="Sent back for a revision; the money stays in escrow.")


@bp.post("/milestones/<int:milestone_id>/dispute")
@login_or_404
def open_dispute(milestone_id: int):
    return _on_milestone(milestone_id, lambda m: forms.StatementForm(prefix=f"dispute-{m.id}"),
                         lambda m, form: disputes.open_dispute(
                             m, actor=current_user, statement=form.statement.data),
                         done="The dispute is open; the milestone is frozen until an admin "
                              "decides.", anchor=lambda m: f"milestone-{m.id}")


def _on_milestone(milestone_id: int, form_for: Callable[[Milestone], FlaskForm],
                  call: Callable[[Milestone, FlaskForm], object], *, done: str,
                  anchor: Callable[[Milestone], str] = lambda _: "milestones"):
    """A form about one milestone: load it (404 to anyone but the two sides and admins),
    make its form (``form_for``) and post ``call(milestone, form)`` on the project page."""
    milestone = milestone_for(current_user, milestone_id)
    form = form_for(milestone)
    return submit_on_project_page(milestone.project_id, form, lambda: call(milestone, form),
                                  done=done, anchor=anchor(milestone))


@bp.post("/milestones/disputes/<int:dispute_id>/reply")
@login_or_404
def reply_to_dispute(dispute_id: int):
    dispute = dispute_for(current_user, dispute_id)
    form = forms.StatementForm(prefix=f"reply-{dispute.id}")
    return submit_on_project_page(dispute.project_id, form, lambda: disputes.reply_to_dispute(
        dispute, actor=current_user, statement=form.statement.data),
        done="Your statement is added to the dispute.",
        anchor=f"milestone-{dispute.milestone_id}")


@bp.post("/projects/<int:project_id>/cancel")
@login_or_404
def cancel_project(project_id: int):
    project = project_for(current_user, project_id)
    return submit_on_project_page(
        project_id, ButtonForm(),
        lambda: services.cancel_task_project(project, actor=current_user),
        done="The project is cancelled and the funded milestones refunded.")


@bp.post("/projects/<int:project_id>/price")
@login_or_404
def propose_price(project_id: int):
    project = project_for(current_user, project_id)
    form = forms.PriceProposalForm(prefix="price")
    return submit_on_project_page(project_id, form, lambda: price.propose_lower_price(
        project, actor=current_user, price_minor=form.price.minor, reason=form.reason.data),
        done="Proposed; the other side is told and accepts or declines it.", anchor="price")


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


def _answer_price(project_id: int, answer, done):
    """Answer (or withdraw) the proposal the page showed: its id comes with the form, so
    a newer proposal is never answered by mistake."""
    project_for(current_user, project_id)
    form = forms.PriceAnswerForm()

    def call():  # the id is read only once the form knows it is one
        proposal = price_proposal_of(project_id, form.proposal_id())
        if proposal is None:
            raise Invalid(forms.PROPOSAL_GONE)
        return answer(proposal, actor=current_user)

    return submit_on_project_page(project_id, form, call, done=done, anchor="price")

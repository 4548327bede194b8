"""Who may settle a referral project, and who may settle a contest about one."""

from __future__ import annotations

from datetime import datetime

from offload.accounts.models import User
from offload.projects.models import Project, ProjectState

from .models import Commission, CommissionState, InvoiceReview


def why_cannot_complete(project: Project, actor: User) -> str | None:
    if actor.id != project.performer_id:
        return "Only the performer marks the work complete and enters the invoiced amount."
    if project.kind != "referral":
        return "Task projects complete through their milestones."
    if project.state != ProjectState.ACTIVE:
        return "This project has already ended."
    return None


def why_cannot_pay(commission: Commission, actor: User) -> str | None:
    if actor.id != commission.payer_id:
        return "Only the performer pays the commission."
    if commission.state != CommissionState.DUE:
        return "This commission is already paid."
    return None


def why_cannot_review(commission: Commission, actor: User, now: datetime) -> str | None:
    """Whether ``actor`` may accept or contest the invoiced amount now."""
    if actor.id != commission.referrer_id:
        return "Only the referrer reviews the invoiced amount."
    if commission.review_state != InvoiceReview.AWAITING:
        return "This invoiced amount has already been reviewed."
    if commission.review_as_of(now) != InvoiceReview.AWAITING:
        return "The review window has closed: the invoiced amount counts as accepted."
    return None


def why_cannot_settle(commission: Commission, actor: User) -> str | None:
    """Whether ``actor`` may settle a contested invoiced amount (resolve its case): an
    admin who is not a side of the commission, as a dispute is settled by no party."""
    if not actor.is_admin:
        return "Only admins settle a contested invoice."
    if actor.id in (commission.referrer_id, commission.payer_id):
        side = "referrer" if actor.id == commission.referrer_id else "performer"
        return (f"You are the {side} on this commission, so another admin must settle "
                "the contested amount.")
    return None

"""Who may settle a referral project."""

from __future__ import annotations

from offload.accounts.models import User
from offload.projects.models import Project, ProjectState

from .models import Commission, CommissionState


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

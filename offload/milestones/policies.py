"""Who may do what with a task project's milestones. The customer is the gig's poster."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import current_app

from offload.accounts.models import User
from offload.core.money import format_money
from offload.projects.models import Project, ProjectState

from .models import HELD_STATES, Dispute, Milestone, MilestoneState, PriceProposal
from .queries import PriceProgress


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])


# What became of a milestone, said when an action on it comes too late (a race lost to
# the other side, or a page left open): the member learns what happened, then the rule.
_WHAT_HAPPENED = {
    MilestoneState.DRAFT: "This milestone is not funded yet.",
    MilestoneState.FUNDED: "This milestone was already funded.",
    MilestoneState.DELIVERED: "This milestone was already delivered.",
    MilestoneState.RELEASED: "This milestone was already released: the performer is paid.",
    MilestoneState.REFUNDED: "This milestone was already refunded to the customer.",
    MilestoneState.DISPUTED: "This milestone is in dispute: it is frozen until an admin "
                             "decides.",
    MilestoneState.SPLIT: "This milestone was already settled by an admin's decision.",
    MilestoneState.REMOVED: "This milestone was removed.",
}


def _moved_on(milestone: Milestone, rule: str) -> str:
    return f"{_WHAT_HAPPENED[MilestoneState(milestone.state)]} {rule}"


def _running_task(project: Project) -> str | None:
    if project.kind != "task":
        return "Referral projects settle by commission, not milestones."
    if project.state == ProjectState.COMPLETED:
        return "This project has ended: it was already completed."
    if project.state != ProjectState.ACTIVE:
        return "This project has ended: it was cancelled."
    return None


def drafts_over_price(milestones: Iterable[Milestone], floor_minor: int, price_minor: int
                      ) -> list[Milestone]:
    """The drafts a lower price of ``price_minor`` takes off, newest first.

    Drafts are kept oldest first (the order they were added, the order the work was
    planned) while ``floor_minor`` (paid and held) plus the kept drafts is at most the
    price; the first that doesn't fit and every draft after it go, so a later, smaller
    draft never jumps the queue.
    """
    drafts = sorted((m for m in milestones if m.state == MilestoneState.DRAFT),
                    key=lambda m: (m.created_at, m.id))
    total = floor_minor
    for i, m in enumerate(drafts):
        total += m.amount_minor
        if total > price_minor:
            return drafts[i:][::-1]
    return []


def why_cannot_add_milestone(project: Project, actor: User, progress: PriceProgress
                             ) -> str | None:
    if actor.id != project.poster_id:
        return "Only the customer adds milestones."
    reason = _running_task(project)
    if reason:
        return reason
    if not progress.unscheduled_minor:
        return (f"The whole {_money(project.price_minor)} price is scheduled in milestones. "
                "To change the plan, remove a milestone not yet funded.")
    return None


def why_cannot_propose_price(project: Project, actor: User, progress: PriceProgress,
                             pending: PriceProposal | None) -> str | None:
    if not project.is_party(actor):
        return "Only the two sides of the project can change its price."
    reason = _running_task(project)
    if reason:
        return reason
    if pending is not None:
        return ("A proposal to lower the price is waiting for an answer: it is answered or "
                "withdrawn first.")
    if progress.floor_minor >= project.price_minor:
        return ("The whole price is paid or held in escrow: there is nothing left to take "
                "off it.")
    return None


def why_cannot_answer_price(proposal: PriceProposal, project: Project, actor: User
                            ) -> str | None:
    if not project.is_party(actor) or actor.id == proposal.proposer_id:
        return "The other side of the project answers this proposal."
    if not proposal.is_pending:
        return f"This proposal was already {proposal.state}."
    return _running_task(project)


def why_cannot_withdraw_price(proposal: PriceProposal, project: Project, actor: User
                              ) -> str | None:
    if actor.id != proposal.proposer_id:
        return "Only the side who proposed it can withdraw it."
    if not proposal.is_pending:
        return f"This proposal was already {proposal.state}."
    return _running_task(project)


def why_cannot_fund(milestone: Milestone, project: Project, actor: User) -> str | None:
    if actor.id != project.poster_id:
        return "Only the customer funds milestones."
    if milestone.state != MilestoneState.DRAFT:
        return _WHAT_HAPPENED[MilestoneState(milestone.state)]
    return _running_task(project)


def why_cannot_remove(milestone: Milestone, project: Project, actor: User) -> str | None:
    if actor.id != project.poster_id:
        return "Only the customer removes milestones."
    if milestone.state != MilestoneState.DRAFT:
        return _moved_on(milestone, "Only a milestone not yet funded can be removed.")
    return _running_task(project)


def why_cannot_deliver(milestone: Milestone, project: Project, actor: User) -> str | None:
    if actor.id != project.performer_id:
        return "Only the performer delivers."
    if milestone.state != MilestoneState.FUNDED:
        return _moved_on(milestone, "Only a funded milestone can be delivered.")
    return _running_task(project)


def why_cannot_release(milestone: Milestone, project: Project, actor: User) -> str | None:
    if actor.id != project.poster_id:
        return "Only the customer releases milestones."
    if milestone.state not in (MilestoneState.FUNDED, MilestoneState.DELIVERED):
        return _moved_on(milestone, "Only a funded milestone can be released.")
    return _running_task(project)


def why_cannot_ask_revision(milestone: Milestone, project: Project, actor: User
                            ) -> str | None:
    if actor.id != project.poster_id:
        return "Only the customer asks for a revision."
    if milestone.state != MilestoneState.DELIVERED:
        return _moved_on(milestone, "A revision can be asked for delivered work only.")
    return _running_task(project)


def why_cannot_cancel_project(project: Project, milestones: list[Milestone], actor: User,
                              today: date) -> str | None:
    if actor.id != project.poster_id:
        return "Only the customer can cancel the project."
    reason = _running_task(project)
    if reason:
        return reason
    if project.due_on >= today:
        return f"The project can be cancelled once its deadline ({project.due_on}) has passed."
    # delivered once is delivered: a revision sends work back, not the money
    if any(m.delivery_note or m.state in (MilestoneState.DELIVERED, MilestoneState.RELEASED,
                                          MilestoneState.SPLIT) for m in milestones):
        return "Work was delivered: the project can't be cancelled, only disputed."
    if any(m.state == MilestoneState.DISPUTED for m in milestones):
        return "A milestone is in dispute: an admin resolves it first."
    return None


def why_cannot_dispute(milestone: Milestone, project: Project, actor: User) -> str | None:
    if not project.is_party(actor):
        return "Only the two sides of the project can open a dispute."
    if milestone.state not in (MilestoneState.FUNDED, MilestoneState.DELIVERED):
        return _moved_on(milestone, "Only a funded milestone can be disputed.")
    return _running_task(project)


def why_cannot_reply_to_dispute(dispute: Dispute, project: Project, actor: User
                                ) -> str | None:
    if not project.is_party(actor) or actor.id == dispute.opened_by_id:
        return "The other side of the project answers the dispute."
    if not dispute.is_open:
        return "This dispute was already decided by an admin: the decision is on the milestone."
    if dispute.reply_by_id is not None:
        return "This dispute already has your statement."
    return None


class MilestoneRules:
    """The project page's view of these rules: which buttons to show to ``actor``."""

    def __init__(self, project: Project, actor: User, milestones: list[Milestone],
                 today: date, progress: PriceProgress,
                 pending: PriceProposal | None = None) -> None:
        self.project, self.actor, self.progress = project, actor, progress
        self.can_add = why_cannot_add_milestone(project, actor, progress) is None
        self.can_cancel = why_cannot_cancel_project(project, milestones, actor, today) is None
        self.can_propose_price = why_cannot_propose_price(project, actor, progress,
                                                          pending) is None
        self.can_answer_price = pending is not None and why_cannot_answer_price(
            pending, project, actor) is None
        self.can_withdraw_price = pending is not None and why_cannot_withdraw_price(
            pending, project, actor) is None
        # what accepting ``pending`` would take off, said before the click
        self.drafts_over_price = drafts_over_price(
            milestones, progress.floor_minor, pending.price_minor) if pending else []

    def release_note(self, m: Milestone) -> str | None:
        """What releasing ``m`` does to the project, said before the click: it completes
        it, or it is the last money in escrow while part of the price is still open."""
        p, price = self.progress, self.project.price_minor
        if m.state not in HELD_STATES or p.held_minor > m.amount_minor:
            return None  # other milestones are still in escrow: nothing ends here
        if p.paid_minor + m.amount_minor >= price and not p.draft_minor:
            return f"Releasing this completes the project: the whole {_money(price)} is paid."
        open_parts = []
        if p.unscheduled_minor:
            open_parts.append(f"{_money(p.unscheduled_minor)} of the {_money(price)} price is "
                              "not scheduled yet")
        if p.draft_minor:
            open_parts.append(f"{_money(p.draft_minor)} is in milestones not funded yet")
        return (f"This is the last funded milestone; {' and '.join(open_parts)}: the project "
                "stays open.")

    def can_fund(self, m: Milestone) -> bool:
        return why_cannot_fund(m, self.project, self.actor) is None

    def can_remove(self, m: Milestone) -> bool:
        return why_cannot_remove(m, self.project, self.actor) is None

    def can_deliver(self, m: Milestone) -> bool:
        return why_cannot_deliver(m, self.project, self.actor) is None

    def can_release(self, m: Milestone) -> bool:
        return why_cannot_release(m, self.project, self.actor) is None

    def can_ask_revision(self, m: Milestone) -> bool:
        return why_cannot_ask_revision(m, self.project, self.actor) is None

    def can_dispute(self, m: Milestone) -> bool:
        return why_cannot_dispute(m, self.project, self.actor) is None

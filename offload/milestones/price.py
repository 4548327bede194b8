"""Closing a task project short: lowering its agreed price by agreement of both sides.

Each public function is one transaction (``@transactional``). The project row is locked
first (PostgreSQL), so a proposal and the milestones it is measured against don't move
under each other; every proposal move is an UPDATE guarded by the state it leaves
(``PRICE_PROPOSAL_TRANSITIONS``), so of an accept and a withdraw at once exactly one
happens, and a partial unique index keeps one proposal pending per project.

A proposal may not go below what is paid or held in escrow (``PriceProgress.floor``):
funded milestones keep their money and end by release or dispute as before. Accepting
keeps the drafts, oldest first, while paid + held + the kept drafts is at most the new
price, takes off the rest (``drafts_over_price``), and completes the project if the new
price is then paid in full (so nothing is held when it closes: invariant 9).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import db, transactional, utcnow
from offload.core.errors import Conflict, InvalidField, refuse
from offload.core.links import site_path
from offload.core.money import format_money
from offload.core.text import clean_text
from offload.core.transitions import insert_once, move_row, update_row
from offload.notifications.services import notify
from offload.projects.lifecycle import lock_project, record_event
from offload.projects.models import EventKind, Project, ProjectState

from .models import (
    PRICE_PROPOSAL_TRANSITIONS,
    REASON_MAX,
    Milestone,
    MilestoneState,
    PriceProposal,
    PriceProposalState,
)
from .policies import (
    drafts_over_price,
    why_cannot_answer_price,
    why_cannot_propose_price,
    why_cannot_withdraw_price,
)
from .queries import pending_price_proposal, price_progress
from .services import complete_if_settled, move_milestone


@transactional
def propose_lower_price(project: Project, *, actor: User, price_minor: int, reason: str
                        ) -> PriceProposal:
    """Either side proposes a lower agreed price for a running task project, with a reason.

    Writes: a pending proposal (one per project: a partial unique index).
    Timeline: price proposed. Notifies: the other side (milestone).
    Refuses: a price not below the current one, or below what is paid and held in
    escrow (InvalidField ``price``); a proposal already waiting (Conflict).
    """
    lock_project(project)
    progress = price_progress(project)
    refuse(why_cannot_propose_price(project, actor, progress,
                                    pending_price_proposal(project.id)),
           actor_may=project.is_party(actor))
    reason = clean_text("reason", reason, REASON_MAX, "The reason", required=True,
                        multiline=True)
    if not isinstance(price_minor, int) or isinstance(price_minor, bool) or price_minor <= 0:
        raise InvalidField("price", "Enter the new price, for example 200.")
    if price_minor >= project.price_minor:
        raise InvalidField("price", f"Propose less than the agreed "
                                    f"{_money(project.price_minor)}.")
    if price_minor < progress.floor_minor:
        raise InvalidField("price", _floor_message(progress))
    proposal = PriceProposal(project_id=project.id, proposer_id=actor.id,
                             price_minor=price_minor, was_price_minor=project.price_minor,
                             reason=reason, state=PriceProposalState.PENDING)
    insert_once(proposal, taken=lambda: pending_price_proposal(project.id),  # its index
                refused="A proposal to lower the price is already waiting for an answer.")
    record_event(project, EventKind.PRICE_PROPOSED, actor_id=actor.id, note=(
        f"Lower the price to {_money(price_minor)} (from {_money(project.price_minor)}): "
        f"{reason}"))
    _tell(project.other_party_id(actor), f"{actor.name} proposes lowering the price to "
                                  f"{_money(price_minor)}: accept or decline it", project)
    return proposal


@transactional
def accept_lower_price(proposal: PriceProposal, *, actor: User) -> Project:
    """The other side agrees: the proposal's price becomes the project's agreed price.

    State: proposal pending → accepted; drafts kept oldest first while paid + held +
    kept drafts is at most the new price, the rest (newest first) draft → removed; the
    project completes if the new price is then paid in full.
    Timeline: price accepted, naming the drafts taken off (and completed).
    Notifies: the proposer (milestone).
    Refuses: a proposal answered or withdrawn meanwhile; one that more money in escrow
    has since put below the floor (Conflict: decline it and propose again).
    """
    project = _locked(proposal)
    refuse(why_cannot_answer_price(proposal, project, actor),
           actor_may=_answers(proposal, project, actor))
    progress = price_progress(project)
    if proposal.price_minor < progress.floor_minor:
        raise Conflict("Since this was proposed, more was funded: " + _floor_message(progress)
                       + " Decline it; either side can then propose again.")
    _move_proposal(proposal, PriceProposalState.ACCEPTED, answered_by_id=actor.id)
    update_row(project, Project.state == ProjectState.ACTIVE,
               Project.price_minor == proposal.was_price_minor,
               price_minor=proposal.price_minor,
               refused="The project's price changed while you were working on it. Reload it.")
    note = (f"The agreed price is now {_money(proposal.price_minor)} (was "
            f"{_money(proposal.was_price_minor)}).")
    if progress.floor_minor + progress.draft_minor > proposal.price_minor:
        taken_off = drafts_over_price(db.session.scalars(select(Milestone).where(
            Milestone.project_id == project.id, Milestone.state == MilestoneState.DRAFT)),
            progress.floor_minor, proposal.price_minor)
        for milestone in taken_off:
            move_milestone(milestone, MilestoneState.REMOVED)
        note += (" Milestones not funded yet that no longer fit were taken off: "
                 + ", ".join(f"“{m.title}”" for m in taken_off) + ".")
    record_event(project, EventKind.PRICE_ACCEPTED, actor_id=actor.id, note=note)
    completed = complete_if_settled(project, actor)
    _tell(proposal.proposer_id, f"{actor.name} agreed to lower the price to "
                                f"{_money(proposal.price_minor)}"
                                + (": the project is complete" if completed else ""), project)
    return project


@transactional
def decline_lower_price(proposal: PriceProposal, *, actor: User) -> PriceProposal:
    """The other side keeps the agreed price. State: proposal pending → declined.
    Timeline: price declined. Notifies: the proposer (milestone)."""
    project = _locked(proposal)
    refuse(why_cannot_answer_price(proposal, project, actor),
           actor_may=_answers(proposal, project, actor))
    _move_proposal(proposal, PriceProposalState.DECLINED, answered_by_id=actor.id)
    record_event(project, EventKind.PRICE_DECLINED, actor_id=actor.id, note=(
        f"The price stays {_money(project.price_minor)}; "
        f"{_money(proposal.price_minor)} was declined."))
    _tell(proposal.proposer_id, f"{actor.name} kept the price at "
                                f"{_money(project.price_minor)}", project)
    return proposal


@transactional
def withdraw_lower_price(proposal: PriceProposal, *, actor: User) -> PriceProposal:
    """The proposer takes the proposal back before an answer.
    State: proposal pending → withdrawn. Timeline: price withdrawn. Notifies: the other
    side (milestone)."""
    project = _locked(proposal)
    refuse(why_cannot_withdraw_price(proposal, project, actor),
           actor_may=actor.id == proposal.proposer_id)
    _move_proposal(proposal, PriceProposalState.WITHDRAWN)
    record_event(project, EventKind.PRICE_WITHDRAWN, actor_id=actor.id, note=(
        f"The proposal of {_money(proposal.price_minor)} is withdrawn; the price stays "
        f"{_money(project.price_minor)}."))
    _tell(project.other_party_id(actor), f"{actor.name} withdrew the proposal to lower the price",
          project)
    return proposal


def _move_proposal(proposal: PriceProposal, to: PriceProposalState, **values: Any) -> None:
    move_row(proposal, to, PRICE_PROPOSAL_TRANSITIONS,
             not_allowed=lambda frm: f"This proposal was already {frm.value}.",
             refused="This proposal was answered or withdrawn meanwhile. Reload the page.",
             **{"answered_at": utcnow(), **values})


def _answers(proposal: PriceProposal, project: Project, actor: User) -> bool:
    return project.is_party(actor) and actor.id != proposal.proposer_id


def _locked(proposal: PriceProposal) -> Project:
    project = db.session.get(Project, proposal.project_id)
    lock_project(project)
    db.session.refresh(proposal)
    return project


def _floor_message(progress) -> str:
    parts = [f"{_money(progress.paid_minor)} is paid"]
    if progress.held_minor:
        parts.append(f"{_money(progress.held_minor)} is held in escrow")
    return (f"The price can't go below {_money(progress.floor_minor)}: "
            + " and ".join(parts) + ".")


def _tell(member_id: int, title: str, project: Project) -> None:
    notify(db.session.get(User, member_id), "milestone", title=title,
           link=site_path("projects.show", project_id=project.id, _anchor="price"))


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])

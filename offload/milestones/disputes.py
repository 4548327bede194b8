"""Disputes on funded milestones: opened by either party, resolved by an admin.

Each public function is one transaction (``@transactional``). Resolution moves the
escrow hold through the ledger (post all, void, or post part: the rest returns) and
writes a moderation-log entry in the same transaction; the admin's password is checked
before the transaction opens (a hash must not hold the write lock).
"""

from __future__ import annotations

import logging

from flask import current_app

from offload.accounts.models import User
from offload.accounts.passwords import verify_password
from offload.core.db import db, transactional, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed, PasswordNotConfirmed, refuse
from offload.core.links import site_path
from offload.core.money import format_money
from offload.core.text import clean_text
from offload.core.transitions import update_row
from offload.ledger.services import post_reservation, void_reservation
from offload.moderation.services import record_moderation
from offload.notifications.services import notify
from offload.projects.lifecycle import record_event
from offload.projects.models import EventKind, Project

from .models import STATEMENT_MAX, Dispute, DisputeOutcome, Milestone, MilestoneState
from .policies import why_cannot_dispute, why_cannot_reply_to_dispute
from .services import (
    close_project_at_paid,
    complete_if_settled,
    locked_project,
    move_milestone,
    store_on_milestone,
)

log = logging.getLogger("offload.milestones")


ALREADY_DECIDED = ("This dispute was already decided; nothing was changed. Its decision is "
                   "shown here.")


@transactional
def open_dispute(milestone: Milestone, *, actor: User, statement: str) -> Dispute:
    """Either party disputes a funded (or delivered) milestone with a statement.

    State: milestone → disputed (frozen: no release, revision or refund until resolved).
    Timeline: dispute opened. Notifies: the other party (milestone).
    """
    project = locked_project(milestone)
    refuse(why_cannot_dispute(milestone, project, actor), actor_may=project.is_party(actor))
    statement = clean_text("statement", statement, STATEMENT_MAX, "Your statement",
                           required=True, multiline=True)
    move_milestone(milestone, MilestoneState.DISPUTED)
    dispute = Dispute(milestone_id=milestone.id, project_id=project.id, opened_by_id=actor.id,
                      statement=statement)
    db.session.add(dispute)
    db.session.flush()
    record_event(project, EventKind.DISPUTE_OPENED, actor_id=actor.id,
                 note=f"“{milestone.title}”: {statement}")
    notify(db.session.get(User, project.other_party_id(actor)), "milestone",
           title=f"{actor.name} opened a dispute on “{milestone.title}”: add your side",
           link=site_path("projects.show", project_id=project.id,
                             _anchor=f"milestone-{milestone.id}"))
    return dispute


@transactional
def reply_to_dispute(dispute: Dispute, *, actor: User, statement: str) -> Dispute:
    """The other party adds their statement to an open dispute, once."""
    project = db.session.get(Project, dispute.project_id)
    db.session.refresh(dispute)
    refuse(why_cannot_reply_to_dispute(dispute, project, actor),
           actor_may=project.is_party(actor) and actor.id != dispute.opened_by_id)
    statement = clean_text("statement", statement, STATEMENT_MAX, "Your statement",
                           required=True, multiline=True)
    update_row(dispute, Dispute.resolved_at.is_(None), Dispute.reply_by_id.is_(None),
               reply=statement, reply_by_id=actor.id,
               refused="This dispute was decided, or has your statement, while you were "
                       "writing. Reload the page.")
    return dispute


def resolve_dispute(dispute: Dispute, *, actor: User, outcome: str, reason: str,
                    password: str, released_minor: int | None = None,
                    close_project: bool = False) -> Dispute:
    """An admin settles a dispute: release to the performer, refund to the customer, or
    split (``released_minor`` to the performer, the rest back).

    State: milestone disputed → released / refunded / split; the project completes when
    its price is then paid in full. With ``close_project`` the dispute closes the project
    short: its price becomes what is paid, drafts are removed, and it completes (cancelled
    if nothing was paid); refused while another milestone is still in escrow.
    Money: the hold posted in full, voided, or posted in part.
    Writes: a moderation-log entry with the reason (both parties see the reason).
    Timeline: dispute resolved. Notifies: both parties (milestone).
    Refuses: non-admins and admins who are a party (NotAllowed); a wrong password
    (PasswordNotConfirmed); a blank reason; a split that isn't a part of the amount;
    a dispute already resolved (Conflict), so two resolutions at once settle once.
    """
    if not actor.is_admin:
        raise NotAllowed("Only admins resolve disputes.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidField("reason", "Write the reason: both sides see it, and it is logged.")
    if not verify_password(actor.password_hash, password or ""):
        log.warning("admin re-authentication failed", extra={"user_id": actor.id,
                                                              "dispute_id": dispute.id})
        raise PasswordNotConfirmed("Your password is not correct.")
    return _resolve(dispute, actor=actor, outcome=outcome, reason=reason,
                    released_minor=released_minor, close_project=bool(close_project))


@transactional
def _resolve(dispute: Dispute, *, actor: User, outcome: str, reason: str,
             released_minor: int | None, close_project: bool) -> Dispute:
    milestone = db.session.get(Milestone, dispute.milestone_id)
    project = locked_project(milestone)
    if project.is_party(actor):
        raise NotAllowed("You are a party to this project; another admin must resolve it.")
    db.session.refresh(dispute)
    if not dispute.is_open:  # said before any check of the form: the form no longer matters
        raise Conflict(ALREADY_DECIDED)
    try:
        outcome = DisputeOutcome(outcome)
    except ValueError:
        raise InvalidField("outcome", "Choose release, refund or split.") from None
    amount = milestone.amount_minor
    to_performer = {DisputeOutcome.RELEASE: amount, DisputeOutcome.REFUND: 0}.get(
        outcome, released_minor)
    if outcome == DisputeOutcome.SPLIT and (
            not isinstance(released_minor, int) or not 0 < released_minor < amount):
        raise InvalidField("released", f"A split pays the performer part of "
                                       f"{_money(amount)}: more than nothing, less than all.")
    now = utcnow()
    update_row(dispute, Dispute.resolved_at.is_(None), outcome=outcome.value,
               released_minor=to_performer, reason=reason, resolved_by_id=actor.id,
               resolved_at=now, refused=ALREADY_DECIDED)
    to_state = {DisputeOutcome.RELEASE: MilestoneState.RELEASED,
                DisputeOutcome.REFUND: MilestoneState.REFUNDED,
                DisputeOutcome.SPLIT: MilestoneState.SPLIT}[outcome]
    move_milestone(milestone, to_state)
    if outcome == DisputeOutcome.REFUND:
        settle = void_reservation(milestone.hold_transfer_id, actor_id=actor.id)
    else:
        settle = post_reservation(milestone.hold_transfer_id, amount=to_performer,
                                  actor_id=actor.id)
    store_on_milestone(milestone, settle_transfer_id=settle.id)
    action = f"dispute_{outcome.value}" + ("_project_closed" if close_project else "")
    record_moderation(actor=actor, action=action, subject_type="dispute",
                      subject_id=dispute.id, reason=reason)
    summary = (f"{_money(to_performer)} to the performer, {_money(amount - to_performer)} "
               f"back to the customer. Reason: {reason}")
    record_event(project, EventKind.DISPUTE_RESOLVED, actor_id=actor.id,
                 note=f"“{milestone.title}”: {summary}")
    for member_id in (project.poster_id, project.performer_id):
        notify(db.session.get(User, member_id), "milestone",
               title=f"The dispute on “{milestone.title}” was resolved: {summary}",
               link=site_path("projects.show", project_id=project.id,
                             _anchor=f"milestone-{milestone.id}"))
    if close_project:
        close_project_at_paid(project, actor, reason=reason)
    else:
        complete_if_settled(project, actor)
    for name in ("outcome", "released_minor", "reason", "resolved_by_id", "resolved_at"):
        db.session.refresh(dispute, [name])
    return dispute


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])



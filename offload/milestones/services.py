"""Milestones and escrow on task projects. Each public function is one transaction (it
joins the caller's, or opens its own and, on PostgreSQL, is re-run on serialization
failure or deadlock). Money moves only through ``offload.ledger``: funding reserves
customer → performer; release posts the hold; a refund voids it.

The project row is locked first (PostgreSQL) so that two changes of one project's
milestones queue up; every milestone move is an UPDATE guarded by the state it leaves,
so of a release and a refund at once exactly one happens.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import FileStorage

from offload.accounts.models import User
from offload.core.db import db, on_commit, transactional, utcnow
from offload.core.errors import Invalid, InvalidField, refuse
from offload.core.links import site_path
from offload.core.money import format_money
from offload.core.text import clean_text
from offload.core.transitions import move_row, update_row
from offload.core.uploads import store_document
from offload.gigs.lifecycle import move_gig
from offload.gigs.models import Gig, GigState
from offload.ledger.idempotency import claim_key, record_outcome
from offload.ledger.models import TransferKind
from offload.ledger.services import (
    Cause,
    InsufficientFunds,
    Leg,
    post_reservation,
    reserve_covered,
    void_reservation,
    wallet_account,
)
from offload.notifications.services import notify
from offload.projects.lifecycle import lock_project, move_project, record_event
from offload.projects.models import (
    EVENT_FILES_MAX,
    EventKind,
    Project,
    ProjectEventFile,
    ProjectState,
)

from .models import (
    MILESTONE_TRANSITIONS,
    MILESTONES_MAX,
    NOTE_MAX,
    TITLE_MAX,
    Milestone,
    MilestoneState,
    PriceProposal,
    PriceProposalState,
)
from .policies import (
    why_cannot_add_milestone,
    why_cannot_ask_revision,
    why_cannot_cancel_project,
    why_cannot_deliver,
    why_cannot_fund,
    why_cannot_release,
    why_cannot_remove,
)
from .queries import price_progress

log = logging.getLogger("offload.milestones")


class EscrowNotCovered(InsufficientFunds):
    """The customer's available balance doesn't cover the milestone."""


@transactional
def add_milestone(project: Project, *, actor: User, title: str, amount_minor: int,
                  due_on: date) -> Milestone:
    """Add a milestone to a running task project (the customer; not funded yet).

    Refuses: an amount beyond what is left of the agreed price to schedule (the project's
    row lock queues two adds, so together they can't pass the price either).
    """
    lock_project(project)
    progress = price_progress(project)
    refuse(why_cannot_add_milestone(project, actor, progress),
           actor_may=actor.id == project.poster_id)
    title = clean_text("title", title, TITLE_MAX, "The title", required=True)
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) \
            or not 0 < amount_minor <= current_app.config["MAX_AMOUNT_MINOR"]:
        raise InvalidField("amount", "Enter the milestone's amount, for example 250.")
    left = progress.unscheduled_minor
    if amount_minor > left:
        raise InvalidField("amount", (
            f"Milestones add up to the agreed price, {_money(project.price_minor)}: "
            + (f"enter at most {_money(left)}." if left == project.price_minor else
               f"only {_money(left)} of it is left to schedule.")))
    if not isinstance(due_on, date) or due_on < utcnow().date():
        raise InvalidField("due_on", "The due day can't be in the past.")
    count = db.session.scalar(select(func.count()).select_from(Milestone).where(
        Milestone.project_id == project.id))
    if count >= MILESTONES_MAX:
        raise Invalid(f"A project can have at most {MILESTONES_MAX} milestones.")
    milestone = Milestone(project_id=project.id, title=title, amount_minor=amount_minor,
                          due_on=due_on, state=MilestoneState.DRAFT)
    db.session.add(milestone)
    db.session.flush()
    return milestone


@transactional
def remove_milestone(milestone: Milestone, *, actor: User) -> Milestone:
    """Take off a milestone not yet funded. State: draft → removed; the project
    completes if the price is then paid in full (a draft left over the price)."""
    project = locked_project(milestone)
    refuse(why_cannot_remove(milestone, project, actor), actor_may=actor.id == project.poster_id)
    move_milestone(milestone, MilestoneState.REMOVED)
    complete_if_settled(project, actor)  # it may have been the last one left open
    return milestone


@transactional
def fund_milestone(milestone: Milestone, *, actor: User, idempotency_key: str) -> Milestone:
    """Put a milestone's amount in escrow from the customer's wallet.

    State: draft → funded. Money: a reservation customer → performer (ESCROW).
    Timeline: milestone funded. Notifies: the performer (milestone).
    Idempotent: the same key again returns the milestone and holds nothing more.
    Refuses: a wallet that doesn't cover it (EscrowNotCovered), with nothing held.
    """
    project = locked_project(milestone)
    stored = claim_key(actor.id, idempotency_key, {"op": "fund_milestone",
                                                    "milestone": milestone.id})
    if stored is not None:
        return milestone
    refuse(why_cannot_fund(milestone, project, actor), actor_may=actor.id == project.poster_id)
    leg = Leg(wallet_account(project.poster_id).id, wallet_account(project.performer_id).id,
              milestone.amount_minor, TransferKind.ESCROW)
    hold = reserve_covered(
        leg, cause=Cause("milestone", milestone.id), actor_id=actor.id,
        refused=lambda available: EscrowNotCovered(
            f"Your available balance is {_money(available)}: it doesn't cover this "
            f"{_money(milestone.amount_minor)} milestone. Add funds to your wallet, then "
            "fund it."))
    # the guarded move comes last: a milestone funded meanwhile rolls this hold back
    move_milestone(milestone, MilestoneState.FUNDED, hold_transfer_id=hold.id)
    record_outcome(actor.id, idempotency_key, {"milestone_id": milestone.id}, hold.batch_id)
    record_event(project, EventKind.MILESTONE_FUNDED, actor_id=actor.id,
                 note=f"“{milestone.title}”: {_money(milestone.amount_minor)} held in escrow.")
    _tell(project.performer_id, f"“{milestone.title}” is funded: "
                                f"{_money(milestone.amount_minor)} is held for you", project)
    return milestone


@transactional
def deliver_milestone(milestone: Milestone, *, actor: User, note: str,
                      files: Sequence[FileStorage] = ()) -> Milestone:
    """The performer delivers a funded milestone, with a note on what and where and up
    to EVENT_FILES_MAX files (the document limits; removed again on rollback).

    State: funded → delivered (the customer can no longer take the money back except
    through a dispute). Timeline: delivered, with the files. Notifies: the customer.
    """
    project = locked_project(milestone)
    refuse(why_cannot_deliver(milestone, project, actor),
           actor_may=actor.id == project.performer_id)
    note = clean_text("note", note, NOTE_MAX, "The delivery note", required=True,
                      multiline=True)
    files = [f for f in files if f is not None and f.filename]
    if len(files) > EVENT_FILES_MAX:
        raise InvalidField("files", f"Attach at most {EVENT_FILES_MAX} files to a delivery.")
    move_milestone(milestone, MilestoneState.DELIVERED, delivery_note=note)
    event = record_event(project, EventKind.DELIVERED, actor_id=actor.id,
                         note=f"“{milestone.title}”: {note}")
    for storage in files:
        stored = store_document(storage, field="files")
        db.session.add(ProjectEventFile(event_id=event.id, milestone_id=milestone.id,
                                        **stored.columns()))
    db.session.flush()
    _tell(project.poster_id, f"“{milestone.title}” was delivered: release it or ask for a "
                             "revision", project)
    return milestone


@transactional
def release_milestone(milestone: Milestone, *, actor: User,
                      idempotency_key: str | None = None) -> Milestone:
    """The customer pays a funded or delivered milestone out of escrow to the performer.

    State: → released; the project completes when its price is then paid in full.
    Money: the hold posted in full. Timeline: released. Notifies: the performer.
    Idempotent with ``idempotency_key`` (the API's header; the page's button has none,
    its guarded move refuses a second click): the same key again returns the milestone.
    """
    project = locked_project(milestone)
    if idempotency_key is not None and claim_key(
            actor.id, idempotency_key,
            {"op": "release_milestone", "milestone": milestone.id}) is not None:
        return milestone
    refuse(why_cannot_release(milestone, project, actor), actor_may=actor.id == project.poster_id)
    move_milestone(milestone, MilestoneState.RELEASED)
    settle = post_reservation(milestone.hold_transfer_id, actor_id=actor.id)
    store_on_milestone(milestone, settle_transfer_id=settle.id)
    if idempotency_key is not None:
        record_outcome(actor.id, idempotency_key, {"milestone_id": milestone.id},
                       settle.batch_id)
    record_event(project, EventKind.RELEASED, actor_id=actor.id,
                 note=f"“{milestone.title}”: {_money(milestone.amount_minor)} paid out.")
    _tell(project.performer_id, f"“{milestone.title}” was released: "
                                f"{_money(milestone.amount_minor)} is in your wallet", project)
    complete_if_settled(project, actor)
    return milestone


@transactional
def ask_for_revision(milestone: Milestone, *, actor: User, note: str) -> Milestone:
    """The customer sends delivered work back with a note; the money stays in escrow.

    State: delivered → funded. Timeline: revision requested. Notifies: the performer.
    """
    project = locked_project(milestone)
    refuse(why_cannot_ask_revision(milestone, project, actor),
           actor_may=actor.id == project.poster_id)
    note = clean_text("note", note, NOTE_MAX, "The note", required=True, multiline=True)
    move_milestone(milestone, MilestoneState.FUNDED, revision_note=note)
    record_event(project, EventKind.REVISION_REQUESTED, actor_id=actor.id,
                 note=f"“{milestone.title}”: {note}")
    _tell(project.performer_id, f"A revision of “{milestone.title}” was asked for", project)
    return milestone


@transactional
def cancel_task_project(project: Project, *, actor: User) -> Project:
    """The customer cancels a task project whose deadline passed without delivery.

    State: project → cancelled; gig → cancelled; funded milestones → refunded, drafts
    → removed; a pending price proposal lapses. Money: every hold voided (back to the
    customer). Timeline: refunded per milestone, cancelled. Notifies: the performer.
    """
    lock_project(project)
    milestones = list(db.session.scalars(select(Milestone).where(
        Milestone.project_id == project.id).order_by(Milestone.id)))
    refuse(why_cannot_cancel_project(project, milestones, actor, utcnow().date()),
           actor_may=actor.id == project.poster_id)
    for milestone in milestones:
        if milestone.state == MilestoneState.FUNDED:
            move_milestone(milestone, MilestoneState.REFUNDED)
            settle = void_reservation(milestone.hold_transfer_id, actor_id=actor.id)
            store_on_milestone(milestone, settle_transfer_id=settle.id)
            record_event(project, EventKind.REFUNDED, actor_id=actor.id, note=(
                f"“{milestone.title}”: {_money(milestone.amount_minor)} back to the customer."))
        elif milestone.state == MilestoneState.DRAFT:
            move_milestone(milestone, MilestoneState.REMOVED)
    lapse_price_proposals(project)
    move_project(project, ProjectState.CANCELLED)
    move_gig(db.session.get(Gig, project.gig_id), GigState.CANCELLED)
    record_event(project, EventKind.CANCELLED, actor_id=actor.id,
                 note="The deadline passed without delivery; funded milestones refunded.")
    _tell(project.performer_id, "The project was cancelled after its deadline passed", project)
    return project


# --- helpers (shared with ``disputes``; they join the caller's transaction) -----------------

def complete_if_settled(project: Project, actor: User, note: str = "") -> bool:
    """Complete the task project if its agreed price is paid in full (released
    milestones and the performer's part of splits) and nothing is held in escrow or
    waiting as a draft; a pending price proposal lapses. Whether it completed."""
    progress = price_progress(project)
    if not progress.is_paid_in_full:
        return False
    lapse_price_proposals(project)
    move_project(project, ProjectState.COMPLETED)
    move_gig(db.session.get(Gig, project.gig_id), GigState.COMPLETED)
    record_event(project, EventKind.COMPLETED, actor_id=actor.id, note=note or (
        f"The agreed price, {_money(project.price_minor)}, is paid in full."))
    on_commit(lambda: log.info("task project completed", extra={"project_id": project.id}))
    return True


def close_project_at_paid(project: Project, actor: User, *, reason: str) -> ProjectState:
    """An admin's dispute decision ends the project short: its agreed price becomes what
    the performer was paid and it completes, or it is cancelled if nothing was paid;
    drafts are removed and a pending price proposal lapses.

    Refuses (InvalidField ``close_project``): money still held in other milestones, which
    must be released or resolved first (nothing is held when a project closes).
    """
    progress = price_progress(project)
    if progress.held_minor:
        raise InvalidField("close_project", (
            f"{_money(progress.held_minor)} is still held in escrow in other milestones: "
            "they are released or resolved first, then the project can be closed."))
    for draft in db.session.scalars(select(Milestone).where(
            Milestone.project_id == project.id, Milestone.state == MilestoneState.DRAFT)):
        move_milestone(draft, MilestoneState.REMOVED)
    was = project.price_minor
    if not progress.paid_minor:
        lapse_price_proposals(project)
        move_project(project, ProjectState.CANCELLED)
        move_gig(db.session.get(Gig, project.gig_id), GigState.CANCELLED)
        record_event(project, EventKind.CANCELLED, actor_id=actor.id, note=(
            f"Closed by the dispute's decision with nothing paid of the {_money(was)} "
            f"price. Reason: {reason}"))
        return ProjectState.CANCELLED
    if progress.paid_minor < was:
        update_row(project, Project.price_minor == was, price_minor=progress.paid_minor,
                   refused="The project's price changed while you were working on it.")
    complete_if_settled(project, actor, note=(
        f"Closed by the dispute's decision at the {_money(progress.paid_minor)} paid of the "
        f"{_money(was)} price. Reason: {reason}"))
    return ProjectState.COMPLETED


def lapse_price_proposals(project: Project) -> None:
    """The project ends: a proposal still waiting for an answer lapses."""
    db.session.execute(
        update(PriceProposal).where(PriceProposal.project_id == project.id,
                                    PriceProposal.state == PriceProposalState.PENDING)
        .values(state=PriceProposalState.LAPSED, answered_at=utcnow())
        .execution_options(synchronize_session=False))


def move_milestone(milestone: Milestone, to: MilestoneState, **values: Any) -> None:
    move_row(milestone, to, MILESTONE_TRANSITIONS,
             not_allowed=lambda frm: f"This milestone is {frm.label.lower()}; it can't "
                                     f"become {to.label.lower()}.",
             refused="This milestone changed while you were working on it. Reload it.",
             **{"state_changed_at": utcnow(), **values})


def store_on_milestone(milestone: Milestone, **values: Any) -> None:
    db.session.execute(update(Milestone).where(Milestone.id == milestone.id).values(**values)
                       .execution_options(synchronize_session=False))
    for name, value in values.items():
        set_committed_value(milestone, name, value)


def locked_project(milestone: Milestone) -> Project:
    project = db.session.get(Project, milestone.project_id)
    lock_project(project)
    db.session.refresh(milestone)
    return project


def _tell(member_id: int, title: str, project: Project) -> None:
    notify(db.session.get(User, member_id), "milestone", title=title,
           link=site_path("projects.show", project_id=project.id, _anchor="milestones"))


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])

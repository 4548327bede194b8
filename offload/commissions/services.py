"""Completing a referral project and paying its commission; the reminder and overdue
jobs. Each public function is one transaction (it joins the caller's, or opens its own
and, on PostgreSQL, is re-run on serialization failure or deadlock). Money moves only
through ``offload.ledger``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from offload.accounts.models import User
from offload.core.db import atomic, db, on_commit, transactional, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed, refuse
from offload.core.money import format_money
from offload.gigs.lifecycle import move_gig
from offload.gigs.models import Gig, GigState
from offload.ledger.idempotency import claim_key, record_outcome
from offload.ledger.models import AccountKind, TransferKind
from offload.ledger.services import (
    Cause,
    InsufficientFunds,
    Leg,
    commission_split,
    post_batch,
    system_account,
    wallet_account,
)
from offload.notifications.services import notify
from offload.projects.lifecycle import lock_project, move_project, record_event
from offload.projects.models import EventKind, Project, ProjectState

from .models import COMMISSION_TRANSITIONS, Commission, CommissionState
from .policies import why_cannot_complete, why_cannot_pay

log = logging.getLogger("offload.commissions")


class CommissionNotCovered(InsufficientFunds):
    """The performer's available balance doesn't cover the commission."""


@transactional
def complete_referral(project: Project, *, actor: User, invoiced_minor: int,
                      idempotency_key: str) -> Commission:
    """Mark a referral project's work complete with the amount invoiced to the client.

    State: project active → completed; gig in progress → completed; a commission, paid
    when the performer's wallet covers it, else due within COMMISSION_DUE_DAYS.
    Money: when paid, one batch from the performer's wallet: the platform's part to
    platform revenue, the referrer's to the referrer's wallet (rates recorded on the gig).
    Timeline: completed, invoiced (amount and commission), commission paid.
    Notifies: the referrer (commission_due: paid or due); the performer when it is due.
    Idempotent: the same key again returns the first commission.
    Refuses: anyone but the performer, task projects, ended projects; an amount too
    small to carry both parts of the commission (InvalidField).
    """
    lock_project(project)
    reason = why_cannot_complete(project, actor)
    if reason and actor.id != project.performer_id:
        raise NotAllowed(reason)
    stored = claim_key(actor.id, idempotency_key, {"op": "complete_referral",
                                                    "project": project.id,
                                                    "invoiced": invoiced_minor})
    if stored is not None:  # a retry of a completion already made
        return db.session.get(Commission, stored["commission_id"])
    refuse(reason, actor_may=True)  # the project's state stands in the way
    gig = db.session.get(Gig, project.gig_id)
    if not isinstance(invoiced_minor, int) or isinstance(invoiced_minor, bool) \
            or not 0 < invoiced_minor <= current_app.config["MAX_AMOUNT_MINOR"]:
        raise InvalidField("invoiced", "Enter the amount you invoiced the client.")
    parts = commission_split(invoiced_minor, commission_bps=gig.commission_bps,
                             platform_bps=gig.platform_commission_bps)
    if parts.platform <= 0 or parts.referrer <= 0:
        raise InvalidField("invoiced", "That amount is too small to carry the commission; "
                                       "enter the whole amount you invoiced.")
    today = utcnow().date()
    commission = Commission(
        project_id=project.id, payer_id=project.performer_id, referrer_id=project.poster_id,
        invoiced_minor=invoiced_minor, commission_minor=parts.commission,
        platform_minor=parts.platform, referrer_minor=parts.referrer,
        commission_bps=gig.commission_bps, platform_commission_bps=gig.platform_commission_bps,
        currency=gig.currency, state=CommissionState.DUE,
        due_on=today + timedelta(days=current_app.config["COMMISSION_DUE_DAYS"]))
    db.session.add(commission)
    db.session.flush()
    move_project(project, ProjectState.COMPLETED)
    move_gig(gig, GigState.COMPLETED)
    record_event(project, EventKind.COMPLETED, actor_id=actor.id)
    record_event(project, EventKind.INVOICED, actor_id=actor.id, note=(
        f"Invoiced {_money(invoiced_minor)}; commission {_money(parts.commission)}: "
        f"{_money(parts.platform)} platform, {_money(parts.referrer)} referrer."))
    try:
        batch_id = _pay(commission, project, actor)
    except InsufficientFunds:
        batch_id = None
        _tell_due(commission, project, gig)
    record_outcome(actor.id, idempotency_key, {"commission_id": commission.id}, batch_id)
    _log_after_commit("referral completed", project_id=project.id,
                      commission_id=commission.id, invoiced_minor=invoiced_minor,
                      paid=batch_id is not None)
    return commission


@transactional
def pay_commission(commission: Commission, *, actor: User, idempotency_key: str
                   ) -> Commission:
    """Pay a due commission from the performer's wallet ("pay now").

    State: commission due → paid. Money: as ``complete_referral``.
    Idempotent: the same key again returns the commission and pays nothing more.
    Refuses: anyone but the performer; a commission already paid (Conflict, so two
    payments at once pay once); a wallet that doesn't cover it (CommissionNotCovered).
    """
    project = db.session.get(Project, commission.project_id)
    lock_project(project)
    db.session.refresh(commission)
    stored = claim_key(actor.id, idempotency_key, {"op": "pay_commission",
                                                    "commission": commission.id})
    if stored is not None:
        return commission
    refuse(why_cannot_pay(commission, actor), actor_may=actor.id == commission.payer_id)
    try:
        batch_id = _pay(commission, project, actor)
    except InsufficientFunds:
        available = wallet_account(actor.id).available
        raise CommissionNotCovered(
            f"Your available balance is {_money(available)}: it doesn't cover the "
            f"{_money(commission.commission_minor)} commission. Add funds to your wallet, "
            "then pay.") from None
    record_outcome(actor.id, idempotency_key, {"commission_id": commission.id}, batch_id)
    return commission


def _pay(commission: Commission, project: Project, actor: User) -> str:
    """Post the commission's batch and mark it paid; raises InsufficientFunds (nothing
    moved: the ledger runs in a savepoint) when the wallet doesn't cover it."""
    payer = wallet_account(commission.payer_id).id
    legs = [Leg(payer, system_account(AccountKind.PLATFORM_REVENUE).id,
                commission.platform_minor, TransferKind.COMMISSION, memo="platform share"),
            Leg(payer, wallet_account(commission.referrer_id).id, commission.referrer_minor,
                TransferKind.COMMISSION, memo="referrer share")]
    batch = post_batch(legs, cause=Cause("commission", commission.id), actor_id=actor.id)
    assert CommissionState.PAID in COMMISSION_TRANSITIONS[CommissionState.DUE]
    now = utcnow()
    changed = db.session.execute(
        update(Commission).where(Commission.id == commission.id,
                                 Commission.state == CommissionState.DUE)
        .values(state=CommissionState.PAID, paid_at=now, batch_id=batch.batch_id)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict("This commission is already paid.")
    for name, value in (("state", CommissionState.PAID.value), ("paid_at", now),
                        ("batch_id", batch.batch_id)):
        set_committed_value(commission, name, value)
    record_event(project, EventKind.COMMISSION_PAID, actor_id=actor.id, note=(
        f"{_money(commission.commission_minor)} paid: {_money(commission.platform_minor)} "
        f"platform, {_money(commission.referrer_minor)} to the referrer."))
    notify(db.session.get(User, commission.referrer_id), "commission_due",
           title=f"{actor.name} paid the commission: {_money(commission.referrer_minor)} "
                 "is in your wallet", link=f"/projects/{project.id}")
    _log_after_commit("commission paid", commission_id=commission.id,
                      batch_id=batch.batch_id, commission_minor=commission.commission_minor)
    return batch.batch_id


def _tell_due(commission: Commission, project: Project, gig: Gig) -> None:
    due = f"{_money(commission.commission_minor)} by {commission.due_on.isoformat()}"
    notify(db.session.get(User, commission.payer_id), "commission_due",
           title=f"The commission on “{gig.title}” is due: {due}. Add funds and pay it "
                 "from the project page", link=f"/projects/{project.id}")
    notify(db.session.get(User, commission.referrer_id), "commission_due",
           title=f"“{gig.title}” is complete; its commission is due ({due})",
           link=f"/projects/{project.id}")


# --- the jobs -----------------------------------------------------------------------------

def remind_due_commissions(*, now: datetime | None = None) -> int:
    """The job: remind each performer once when a due commission has
    COMMISSION_REMIND_DAYS or fewer left; how many were reminded."""
    now = now or utcnow()
    last_day = now.date() + timedelta(days=current_app.config["COMMISSION_REMIND_DAYS"])
    with atomic():
        rows = db.session.execute(
            update(Commission).where(Commission.state == CommissionState.DUE,
                                     Commission.due_on <= last_day,
                                     Commission.due_on >= now.date(),
                                     Commission.reminded_at.is_(None))
            .values(reminded_at=now)
            .returning(Commission.id, Commission.payer_id, Commission.project_id,
                       Commission.commission_minor, Commission.due_on)
            .execution_options(synchronize_session=False)).all()
        for r in rows:
            notify(db.session.get(User, r.payer_id), "commission_due",
                   title=f"Reminder: the {_money(r.commission_minor)} commission is due "
                         f"by {r.due_on.isoformat()}", link=f"/projects/{r.project_id}")
    return len(rows)


def flag_overdue_commissions(*, now: datetime | None = None) -> int:
    """The job: flag each commission past its due day, once, and tell the performer and
    the referrer; how many were flagged. (The accountability work opens cases for them.)"""
    now = now or utcnow()
    with atomic():
        rows = db.session.execute(
            update(Commission).where(Commission.state == CommissionState.DUE,
                                     Commission.due_on < now.date(),
                                     Commission.overdue_at.is_(None))
            .values(overdue_at=now)
            .returning(Commission.id, Commission.payer_id, Commission.referrer_id,
                       Commission.project_id, Commission.commission_minor)
            .execution_options(synchronize_session=False)).all()
        for r in rows:
            for member_id in (r.payer_id, r.referrer_id):
                notify(db.session.get(User, member_id), "commission_due",
                       title=f"The {_money(r.commission_minor)} commission is overdue",
                       link=f"/projects/{r.project_id}")
        if rows:
            _log_after_commit("commissions overdue", count=len(rows),
                              commission_ids=[r.id for r in rows])
    return len(rows)


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])


def _log_after_commit(message: str, **extra) -> None:
    on_commit(lambda: log.info(message, extra=extra))


"""Completing a referral project and paying its commission; the referrer's review of an
invoiced amount under the agreed price and an admin's correction of it; the reminder,
overdue and review-window jobs. Each public function is one transaction (it joins the
caller's, or opens its own and, on PostgreSQL, is re-run on serialization failure or
deadlock). Money moves only through ``offload.ledger``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from offload.accounts.models import User
from offload.core.db import atomic, db, on_commit, transactional, utcnow
from offload.core.errors import InvalidField, NotAllowed, refuse
from offload.core.links import site_path
from offload.core.money import format_money
from offload.core.text import clean_text
from offload.core.transitions import move_row
from offload.gigs.lifecycle import move_gig
from offload.gigs.models import Gig, GigState
from offload.ledger.idempotency import claim_key, record_outcome
from offload.ledger.models import AccountKind, Transfer, TransferKind
from offload.ledger.services import (
    Cause,
    InsufficientFunds,
    Leg,
    accounts_of,
    commission_split,
    first_uncovered,
    post_batch,
    reverse_transfer,
    system_account,
    wallet_account,
)
from offload.notifications.services import notify
from offload.projects.lifecycle import lock_project, move_project, record_event
from offload.projects.models import EventKind, Project, ProjectState

from .models import (
    COMMISSION_TRANSITIONS,
    INVOICE_REASON_MAX,
    INVOICE_REVIEW_TRANSITIONS,
    Commission,
    CommissionState,
    InvoiceReview,
)
from .policies import why_cannot_complete, why_cannot_pay, why_cannot_review, why_cannot_settle

log = logging.getLogger("offload.commissions")


class CommissionNotCovered(InsufficientFunds):
    """The performer's available balance doesn't cover the commission."""


@transactional
def complete_referral(project: Project, *, actor: User, invoiced_minor: int,
                      idempotency_key: str, invoice_reason: str = "") -> Commission:
    """Mark a referral project's work complete with the amount invoiced to the client.

    State: project active → completed; gig in progress → completed; a commission, paid
    when the performer's wallet covers it, else due within COMMISSION_DUE_DAYS. An
    amount under the project's agreed price needs ``invoice_reason`` and opens the
    referrer's review (awaiting, for INVOICE_REVIEW_DAYS); at or above it the reason
    is not kept and there is nothing to review.
    Money: when paid, one batch from the performer's wallet: the platform's part to
    platform revenue, the referrer's to the referrer's wallet (rates recorded on the gig).
    Timeline: completed, invoiced (amount, commission, the reason if under the
    price), commission paid.
    Notifies: the referrer (commission_due: paid or due; the amount to review); the
    performer when it is due.
    Idempotent: the same key again returns the first commission.
    Refuses: anyone but the performer, task projects, ended projects; an amount too
    small to carry both parts of the commission, or under the price without a reason
    (InvalidField).
    """
    lock_project(project)
    reason = why_cannot_complete(project, actor)
    if reason and actor.id != project.performer_id:
        raise NotAllowed(reason)
    stored = claim_key(actor.id, idempotency_key, {"op": "complete_referral",
                                                    "project": project.id,
                                                    "invoiced": invoiced_minor,
                                                    "reason": invoice_reason or ""})
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
    under_price = invoiced_minor < project.price_minor
    invoice_reason = clean_text("reason", invoice_reason, INVOICE_REASON_MAX, "The reason",
                                multiline=True)
    if under_price and not invoice_reason:
        raise InvalidField("reason", f"{_money(invoiced_minor)} is under the agreed price "
                                     f"({_money(project.price_minor)}): say why. The referrer "
                                     "reads it and may contest the amount.")
    now = utcnow()
    today = now.date()
    commission = Commission(
        project_id=project.id, payer_id=project.performer_id, referrer_id=project.poster_id,
        invoiced_minor=invoiced_minor, commission_minor=parts.commission,
        platform_minor=parts.platform, referrer_minor=parts.referrer,
        commission_bps=gig.commission_bps, platform_commission_bps=gig.platform_commission_bps,
        currency=gig.currency, state=CommissionState.DUE,
        due_on=today + timedelta(days=current_app.config["COMMISSION_DUE_DAYS"]))
    if under_price:
        commission.invoice_reason = invoice_reason
        commission.review_state = InvoiceReview.AWAITING
        commission.review_due_at = now + timedelta(
            days=current_app.config["INVOICE_REVIEW_DAYS"])
    db.session.add(commission)
    db.session.flush()
    move_project(project, ProjectState.COMPLETED)
    move_gig(gig, GigState.COMPLETED)
    record_event(project, EventKind.COMPLETED, actor_id=actor.id)
    record_event(project, EventKind.INVOICED, actor_id=actor.id, note=(
        f"Invoiced {_money(invoiced_minor)}; commission {_money(parts.commission)}: "
        f"{_money(parts.platform)} platform, {_money(parts.referrer)} referrer."
        + (f" Under the agreed price of {_money(project.price_minor)} because: "
           f"{invoice_reason}" if under_price else "")))
    if under_price:
        notify(db.session.get(User, project.poster_id), "commission_due",
               title=f"{actor.name} invoiced {_money(invoiced_minor)}, under the agreed "
                     f"{_money(project.price_minor)}: accept or contest it by "
                     f"{commission.review_due_at.date().isoformat()}",
               link=site_path("projects.show", project_id=project.id, _anchor="settlement"))
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


def _pay(commission: Commission, project: Project, actor: User, *,
         corrected: bool = False) -> str:
    """Post the commission's batch and mark it paid; raises InsufficientFunds (nothing
    moved: the ledger runs in a savepoint) when the wallet doesn't cover it."""
    batch = post_batch(_legs(commission), cause=Cause("commission", commission.id),
                       actor_id=actor.id)
    paid = "This commission is already paid."
    move_row(commission, CommissionState.PAID, COMMISSION_TRANSITIONS, not_allowed=paid,
             refused=paid, paid_at=utcnow(), batch_id=batch.batch_id)
    record_event(project, EventKind.COMMISSION_PAID, actor_id=actor.id, note=(
        f"{_money(commission.commission_minor)} paid: {_money(commission.platform_minor)} "
        f"platform, {_money(commission.referrer_minor)} to the referrer."))
    who = "The corrected commission is paid" if corrected else \
        f"{actor.name} paid the commission"
    notify(db.session.get(User, commission.referrer_id), "commission_due",
           title=f"{who}: {_money(commission.referrer_minor)} is in your wallet",
           link=site_path("projects.show", project_id=project.id))
    _log_after_commit("commission paid", commission_id=commission.id,
                      batch_id=batch.batch_id, commission_minor=commission.commission_minor)
    return batch.batch_id


def _legs(commission: Commission) -> list[Leg]:
    """The commission's batch at its current amounts: platform leg, then referrer leg."""
    payer = wallet_account(commission.payer_id).id
    return [Leg(payer, system_account(AccountKind.PLATFORM_REVENUE).id,
                commission.platform_minor, TransferKind.COMMISSION, memo="platform share"),
            Leg(payer, wallet_account(commission.referrer_id).id, commission.referrer_minor,
                TransferKind.COMMISSION, memo="referrer share")]


def correction_accounts(commission: Commission) -> set[int]:
    """The ledger accounts correcting ``commission`` touches: a paid one's old batch
    and the corrected one (the performer's and referrer's wallets, platform revenue);
    none for a due one (nothing is posted). For a caller that locks them at once with
    the other accounts its transaction touches. Reads only (the accounts exist)."""
    if commission.state != CommissionState.PAID:
        return set()
    old = db.session.scalars(select(Transfer.id).where(Transfer.batch_id == commission.batch_id))
    return accounts_of(old) | {a for leg in _legs(commission)
                               for a in (leg.debit_id, leg.credit_id)}


def _tell_due(commission: Commission, project: Project, gig: Gig) -> None:
    due = f"{_money(commission.commission_minor)} by {commission.due_on.isoformat()}"
    notify(db.session.get(User, commission.payer_id), "commission_due",
           title=f"The commission on “{gig.title}” is due: {due}. Add funds and pay it "
                 "from the project page", link=site_path("projects.show", project_id=project.id))
    notify(db.session.get(User, commission.referrer_id), "commission_due",
           title=f"“{gig.title}” is complete; its commission is due ({due})",
           link=site_path("projects.show", project_id=project.id))


# --- the invoice review ---------------------------------------------------------------------

@transactional
def accept_invoice(commission: Commission, *, actor: User) -> Commission:
    """The referrer accepts an invoiced amount under the agreed price.

    State: review awaiting → accepted (guarded: a contest or a second click at the same
    moment finds it moved). Timeline: an update. Notifies: the performer.
    Refuses: anyone but the referrer; a review already settled or past its window.
    """
    project, now = _open_review(commission, actor)
    _move_review(commission, InvoiceReview.ACCEPTED, now=now)
    record_event(project, EventKind.UPDATE, actor_id=actor.id, note=(
        f"The referrer accepted the invoiced amount of {_money(commission.invoiced_minor)}."))
    notify(db.session.get(User, commission.payer_id), "commission_due",
           title=f"{actor.name} accepted the invoiced amount "
                 f"({_money(commission.invoiced_minor)})",
           link=site_path("projects.show", project_id=project.id))
    return commission


def record_invoice_contest(commission: Commission, *, actor: User, statement: str) -> str:
    """The commission's side of a contest (``offload.cases.invoices.contest_invoice``
    opens the case in the same transaction): review awaiting → contested with the
    referrer's statement, on the timeline. Answers the cleaned statement.
    Refuses: anyone but the referrer; a review already settled or past its window; a
    blank statement (InvalidField "statement").
    """
    project, now = _open_review(commission, actor)
    statement = clean_text("statement", statement, INVOICE_REASON_MAX, "Your statement",
                           required=True, multiline=True)
    _move_review(commission, InvoiceReview.CONTESTED, now=now, contest_statement=statement)
    record_event(project, EventKind.ISSUE_RAISED, actor_id=actor.id, note=(
        f"The referrer contested the invoiced amount of {_money(commission.invoiced_minor)} "
        f"(agreed price {_money(project.price_minor)}): {statement}"))
    return statement


def settle_contested_invoice(commission: Commission, *, actor: User,
                             corrected_minor: int | None, reason: str) -> Commission:
    """An admin settles a contested invoice while resolving its case (one transaction
    with the resolution, which writes the moderation-log entry and checks the reason).

    State: review contested → upheld (``corrected_minor`` None: the amount stands) or
    corrected: the invoiced amount and the commission are recomputed with the gig's
    recorded rates (guarded UPDATE, so two resolutions at once correct once).
    Money: a due commission has nothing posted: only its amounts change. A paid one is
    corrected through the ledger, every movement checked before any is made (accounts
    locked), so a refusal moves nothing:
    - when the performer's available balance covers the corrected commission, it is
      posted first as a new batch from their wallet, then each leg of the old batch is
      reversed (REVERSAL transfers referencing it). The referrer repays their old share
      out of the new one: an upward correction needs none of the money they were paid,
      a downward one only the difference.
    - when it doesn't, the old batch is reversed first (which needs the referrer's old
      share still in their wallet), then the corrected commission is posted if the
      performer's wallet, with the old commission back, covers it; else it falls due in
      COMMISSION_DUE_DAYS as at completion.
    Timeline: an issue resolved (and commission paid). Notifies: both sides.
    Refuses: non-admins and an admin who is the commission's referrer or performer
    (NotAllowed); a commission not contested (Conflict); a corrected amount that
    isn't positive, is the amount invoiced, or can't carry the commission (InvalidField
    "corrected"); a reversal the referrer's wallet (or platform revenue) no longer
    covers in the order above (InsufficientFunds): a downward correction by more than
    the referrer holds, or any correction while the performer can't pay the new
    commission and the referrer no longer holds the old share.
    """
    refuse(why_cannot_settle(commission, actor), actor_may=False)
    project = db.session.get(Project, commission.project_id)
    lock_project(project)
    db.session.refresh(commission)
    now = utcnow()
    performer, referrer = (db.session.get(User, commission.payer_id),
                           db.session.get(User, commission.referrer_id))
    if corrected_minor is None:
        _move_review(commission, InvoiceReview.UPHELD, now=now)
        record_event(project, EventKind.ISSUE_RESOLVED, actor_id=actor.id, note=(
            f"An admin kept the invoiced amount of {_money(commission.invoiced_minor)}: "
            f"{reason}"))
        for member in (performer, referrer):
            notify(member, "commission_due", title=f"The invoiced amount "
                   f"({_money(commission.invoiced_minor)}) stands",
                   link=site_path("projects.show", project_id=project.id))
        return commission
    if not isinstance(corrected_minor, int) or isinstance(corrected_minor, bool) \
            or not 0 < corrected_minor <= current_app.config["MAX_AMOUNT_MINOR"]:
        raise InvalidField("corrected", "Enter the corrected invoiced amount.")
    if corrected_minor == commission.invoiced_minor:
        raise InvalidField("corrected", "That is the amount already invoiced; leave the "
                                        "field empty to keep it.")
    parts = commission_split(corrected_minor, commission_bps=commission.commission_bps,
                             platform_bps=commission.platform_commission_bps)
    if parts.platform <= 0 or parts.referrer <= 0:
        raise InvalidField("corrected", "That amount is too small to carry the commission.")
    was_paid, old_batch = commission.state == CommissionState.PAID, commission.batch_id
    old_invoiced, old_commission = commission.invoiced_minor, commission.commission_minor
    values = dict(invoiced_minor=corrected_minor, commission_minor=parts.commission,
                  platform_minor=parts.platform, referrer_minor=parts.referrer,
                  corrected_from_minor=old_invoiced)
    if was_paid:  # due until the corrected batch is posted, below or later
        assert CommissionState.DUE in COMMISSION_TRANSITIONS[CommissionState.PAID]
        values.update(state=CommissionState.DUE, paid_at=None, batch_id=None,
                      reminded_at=None, overdue_at=None,
                      due_on=now.date() + timedelta(
                          days=current_app.config["COMMISSION_DUE_DAYS"]))
    _move_review(commission, InvoiceReview.CORRECTED, now=now, **values)
    record_event(project, EventKind.ISSUE_RESOLVED, actor_id=actor.id, note=(
        f"An admin corrected the invoiced amount from {_money(old_invoiced)} to "
        f"{_money(corrected_minor)}; the commission is now {_money(parts.commission)} "
        f"(was {_money(old_commission)}): {reason}"))
    paid = was_paid and _correct_paid_commission(commission, project, actor,
                                                 old_batch=old_batch)
    settled = "paid from the performer's wallet" if paid else \
        f"due by {commission.due_on.isoformat()}"
    notify(performer, "commission_due",
           title=f"An admin corrected the invoiced amount to {_money(corrected_minor)}: the "
                 f"commission is {_money(parts.commission)}, {settled}",
           link=site_path("projects.show", project_id=project.id, _anchor="settlement"))
    notify(referrer, "commission_due",
           title=f"An admin corrected the invoiced amount to {_money(corrected_minor)}: your "
                 f"share is {_money(parts.referrer)}",
           link=site_path("projects.show", project_id=project.id, _anchor="settlement"))
    _log_after_commit("invoice corrected", commission_id=commission.id,
                      from_minor=old_invoiced, to_minor=corrected_minor, paid=paid)
    return commission


def _correct_paid_commission(commission: Commission, project: Project, actor: User, *,
                             old_batch: str) -> bool:
    """Move a paid commission's money from its old batch to its corrected amounts (the
    row already holds them, due with no batch); True when the corrected one is paid.

    Whether each movement is covered is checked before any is made, with the accounts
    locked, so a refusal (InsufficientFunds) moves nothing.
    """
    old = db.session.scalars(select(Transfer).where(
        Transfer.batch_id == old_batch, Transfer.kind == TransferKind.COMMISSION)
        .order_by(Transfer.id)).all()
    undo = [Leg(t.credit_account_id, t.debit_account_id, t.amount_minor,
                TransferKind.REVERSAL) for t in old]
    new = _legs(commission)
    referrer_id = new[1].credit_id
    new_part = {leg.credit_id: leg.amount for leg in new}
    if first_uncovered(new) is None:
        # The new batch first: the referrer pays their old share back out of the new one,
        # so an upward correction needs none of the money they were paid (long since
        # spent or withdrawn, as a rule) and a downward one only the difference.
        short = first_uncovered(new + undo)
        if short is not None:  # a downward correction: only a reversal can be short
            payer, share = ("The referrer's wallet", "the referrer's share") \
                if short.debit_id == referrer_id else ("Platform revenue", "the platform's share")
            raise InsufficientFunds(
                f"{payer} no longer covers the "
                f"{_money(short.amount - new_part[short.debit_id])} by which {share} goes "
                f"down (from {_money(short.amount)} to {_money(new_part[short.debit_id])}); "
                "the correction can't be made through the ledger now.")
        _pay(commission, project, actor, corrected=True)
        _reverse(old, actor, commission)
        return True
    # The performer can't pay the corrected commission: the old batch is reversed first
    # (the performer gets the old commission back), which needs the shares still there.
    short = first_uncovered(undo)
    if short is not None:
        payer = "the referrer's wallet" if short.debit_id == referrer_id else \
            "platform revenue"
        raise InsufficientFunds(
            f"The performer's wallet doesn't cover the corrected commission of "
            f"{_money(commission.commission_minor)}, and {payer} no longer covers the "
            f"reversal of the {_money(short.amount)} share it was paid; the correction "
            "can't be made through the ledger now.")
    _reverse(old, actor, commission)
    if first_uncovered(new) is not None:  # with the old commission back, still not enough
        return False
    _pay(commission, project, actor, corrected=True)
    return True


def _reverse(legs: list[Transfer], actor: User, commission: Commission) -> None:
    for t in legs:
        reverse_transfer(t.id, actor_id=actor.id,
                         memo=f"invoice corrected to {_money(commission.invoiced_minor)}")


def _open_review(commission: Commission, actor: User) -> tuple[Project, datetime]:
    """Lock the project and reread the commission, then refuse anyone but the referrer
    and a review already settled or past its window; the project, and now."""
    project = db.session.get(Project, commission.project_id)
    lock_project(project)
    db.session.refresh(commission)
    now = utcnow()
    refuse(why_cannot_review(commission, actor, now),
           actor_may=actor.id == commission.referrer_id)
    return project, now


def _move_review(commission: Commission, to: InvoiceReview, *, now: datetime,
                 **values) -> None:
    """Move the review along ``INVOICE_REVIEW_TRANSITIONS`` with an UPDATE guarded by
    the state it leaves (and, leaving awaiting, by the window); Conflict if it moved."""
    in_window = (Commission.review_due_at > now,) \
        if commission.review_state == InvoiceReview.AWAITING else ()
    move_row(commission, to, INVOICE_REVIEW_TRANSITIONS, column="review_state",
             guard=in_window, not_allowed="This invoiced amount has already been reviewed.",
             refused="This invoiced amount was reviewed a moment ago. Reload the page.",
             reviewed_at=now, **values)
    db.session.refresh(commission)


# --- the jobs -----------------------------------------------------------------------------

def accept_lapsed_invoice_reviews(*, now: datetime | None = None) -> int:
    """The job: record as accepted every invoice review whose window closed unanswered
    (pages already count it so); how many."""
    now = now or utcnow()
    with atomic():
        return db.session.execute(
            update(Commission).where(Commission.review_state == InvoiceReview.AWAITING,
                                     Commission.review_due_at <= now)
            .values(review_state=InvoiceReview.ACCEPTED, reviewed_at=now)
            .execution_options(synchronize_session=False)).rowcount


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
                         f"by {r.due_on.isoformat()}",
                   link=site_path("projects.show", project_id=r.project_id))
    return len(rows)


def flag_overdue_commissions(*, now: datetime | None = None) -> int:
    """The job: flag each commission past its due day, once, and tell the performer and
    the referrer; how many were flagged. (A job of ``cases`` then opens a case for each.)"""
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
                       link=site_path("projects.show", project_id=r.project_id))
        if rows:
            _log_after_commit("commissions overdue", count=len(rows),
                              commission_ids=[r.id for r in rows])
    return len(rows)


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])


def _log_after_commit(message: str, **extra) -> None:
    on_commit(lambda: log.info(message, extra=extra))

